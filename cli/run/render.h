/* render: a run's text report (stderr) and its sockaudit.run/1 JSON. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

#include "run/model.h"

void run_render_text(FILE *out, const struct run_state *rs, bool color);
json_object *run_render_json(const struct run_state *rs);
