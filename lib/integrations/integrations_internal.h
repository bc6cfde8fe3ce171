/*
 * What the files of lib/integrations/ share and nobody else uses.
 */
#ifndef SB_INTEGRATIONS_INTERNAL_H
#define SB_INTEGRATIONS_INTERNAL_H

#include <stdbool.h>

#include <cJSON.h>

#include "sb/integrations/integrations.h"

/*
 * Adds the answer's "set" fields of cap to out: each "{field}" template's
 * input value (copied; left out when that field was not given) or its
 * literal, replacing a member of that name.  False when out of memory.
 */
bool sb_capability_set_fields(
    const struct sb_capability *cap, const cJSON *input, cJSON *out);

#endif
