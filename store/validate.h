/*
 * Validation problems, collected rather than stopping at the first, in the
 * shape the register API returns them:
 *   details:      [{"loc": ["published_ports", 0, "host_port"], "type": "int_parsing", "msg":
 * "..."}] unknown_keys: ["foo", "networks[0].bar"] plus STD-compatible coercion of loosely typed
 * JSON values. The collector owns its JSON arrays (created on first use).
 */
#ifndef STORE_VALIDATE_H
#define STORE_VALIDATE_H

#include <stdint.h>

#include <jansson.h>

/* Longest host/container_name, and longest any other string (bytes). */
#define STORE_MAX_NAME   255
#define STORE_MAX_STRING 4096

struct store_verr {
	json_t *details;      /* NULL until the first problem */
	json_t *unknown_keys; /* NULL until the first unknown key */
};

/* Empty collector (no allocation). */
void store_verr_init(struct store_verr *v);
/* Drop everything collected. */
void store_verr_release(struct store_verr *v);
/* 1 when at least one problem was recorded. */
int store_verr_any(const struct store_verr *v);
/* Record a problem at loc (a JSON array of strings and integers; copied). */
void store_verr_add(struct store_verr *v, const json_t *loc, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Record an unknown key at loc: an "extra_forbidden" detail and its dotted path. */
void store_verr_unknown(struct store_verr *v, const json_t *loc);
/* "networks[0].bar" for ["networks", 0, "bar"]; malloc'd. */
char *store_loc_dotted(const json_t *loc);
/* loc with one more element appended; new reference (loc may be NULL). */
json_t *store_loc_key(const json_t *loc, const char *key);
json_t *store_loc_index(const json_t *loc, size_t index);

/*
 * STD's coercions. Each returns 0 and sets *out, or -1 when the value does
 * not coerce (the caller reports the problem).
 *  bool: true/false, 0/1 (int or integral float), and the strings
 *        true/false/yes/no/on/off/1/0/t/f/y/n in any case.
 *  int:  integers, integral floats, and strings holding a decimal integer.
 */
int store_coerce_bool(const json_t *v, int *out);
int store_coerce_int(const json_t *v, int64_t *out);

/*
 * Check a string value: a JSON string of at most max bytes (min_len 1 makes
 * it non-empty). Records a problem at loc and returns -1 otherwise.
 */
int store_check_string(const json_t *v, size_t min_len, size_t max, const json_t *loc,
                       struct store_verr *verr);

/* 1 when s is an absolute http:// or https:// URL with a host. */
int store_url_is_http(const char *s);

#endif
