/* trace/session: `sockaudit trace -- CMD`: start CMD stopped, record it and
 * its descendants from before its first instruction, pass the signals a
 * terminal or a CI runner sends, and end with CMD's status. */
#pragma once

/* Runs argv[0..] under the recorder; returns CMD's exit status (its code,
 * or 128 + the signal that killed it). Errors die() with exit 2. */
int tr_session_run(char **argv);
