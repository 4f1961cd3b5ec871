/*
 * A service's widget configuration: the inventory part (mirrored to the
 * service's YAML, shown by the API), never its API key, which lives
 * encrypted in LMDB only (store/widgetkey.h).
 *
 * Canonical form (compact JSON text, keys in this order, so that equality
 * is a string compare):
 *   {"type":s,"url":s,"fields":[...]} (the json widget may add "key_header"
 *   or "key_query": how its key is sent)
 * type: the widget definition's name, 1-64 of [a-z0-9_-]; url: the
 * service's base URL, http(s) only; fields: which of the definition's
 * fields to show, by key (1-64 of [a-z0-9_]), [] = all of them; for the
 * generic `json` widget the operator writes each field instead:
 *   {"key":s,"label":s,"url":s,"path":s,"unit":s|null,"reduce":s|null}
 * (label ≤ 64 bytes; url a path from the base URL ("/api/stats") or an
 * http(s) URL; path a JSON path ("$.count", ≤ 256); unit ≤ 16; reduce
 * "length" or "sum"; at most 32 fields).
 */
#ifndef STORE_WIDGETCFG_H
#define STORE_WIDGETCFG_H

#include <jansson.h>

#include "validate.h"

#define STORE_WIDGET_MAX_FIELDS 32

/*
 * Validate value (an object; not null) and set *out to its malloc'd
 * canonical text. loc is the value's own location (NULL = ["widget"]).
 * An "api_key" member is refused here: callers that accept one take it
 * out first (it must never reach the inventory). ERR_INVAL with every
 * problem in v.
 */
int store_widget_config_canon(const json_t *value, const json_t *loc, struct store_verr *v,
                              char **out);

/* 1 when both URLs have the same scheme, host and port. */
int store_widget_same_origin(const char *a, const char *b);
/*
 * 1 when a configuration change must not keep the stored API key: the
 * widget removed, or another type or another origin (the key would be
 * sent somewhere it was not given for).
 */
int store_widget_config_moved(const char *old_canon, const char *new_canon);

#endif
