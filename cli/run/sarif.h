/* sarif: a run's groups as SARIF 2.1.0, so code-scanning UIs (GitHub,
 * GitLab) show each leak at the line that opened the socket. */
#pragma once

#include <json-c/json.h>
#include <stddef.h>

struct run_state;

json_object *sarif_build(const struct run_state *rs);
/* A source path as a SARIF uri: relative to `cwd` when below it, a file://
 * uri when absolute elsewhere, a relative DWARF path without its leading
 * "../" climbs (those are relative to a build directory). */
void sarif_uri(const char *path, const char *cwd, char *buf, size_t len);
