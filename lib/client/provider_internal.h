/*
 * What lib/client/provider.c (loading, describing, rendering, host checks)
 * and lib/client/provider_check.c (checking a connection's credentials and
 * config, choosing its auth entry) share.  Private to the provider module:
 * the public API stays in include/sb/client/provider.h.
 */
#ifndef SB_PROVIDER_INTERNAL_H
#define SB_PROVIDER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

#include "sb/client/provider.h"

/* True if name is one of the NULL-terminated names. */
bool provider_name_listed(const char *const *names, const char *name);

/* The string member key of obj, or NULL (obj may be NULL). */
const char *provider_json_str(const cJSON *obj, const char *key);

/*
 * Why a connection's config base_url is refused (a message to follow
 * "config field 'base_url' "), or NULL if it is clean.
 */
const char *provider_base_url_problem(const char *url);

/*
 * As sb_provider_render(), naming a missing or unsafe placeholder in
 * missing (missing_size bytes) on SB_ERR_INVALID.
 */
enum sb_err provider_render(const struct sb_provider *provider,
    const char *tmpl, const struct sb_config *cfg, const cJSON *config,
    char *out, size_t outsize, char *missing, size_t missing_size);

#endif
