/* format: strings for one socket, shared by the text and JSON renderers
 * and `run`. */
#pragma once

#include <stddef.h>

#include "report/join.h"

void report_sock_local(const struct report_sock *s, char *buf, size_t len);
void report_sock_peer(const struct report_sock *s, char *buf, size_t len);
/* The peer a record holds (connect or accept), "*" when none. */
void report_slot_peer(const struct sa_slot *rec, char *buf, size_t len);
/* "ESTABLISHED", "LISTEN", "UNCONN", ..., "UNKNOWN" without a kernel view. */
const char *report_sock_state(const struct report_sock *s);
/* "tcp", "tcp6", "udp", "udp6", "unix/stream", "unix/dgram", "netlink", ... */
void report_sock_proto(const struct report_sock *s, char *buf, size_t len);
/* The leak reason sentence, "" when none. */
void report_sock_reason(const struct report_sock *s, const struct leak_opts *o, char *buf,
			size_t len);
