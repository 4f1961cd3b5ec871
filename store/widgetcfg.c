#include "widgetcfg.h"

#include <string.h>
#include <strings.h>

#include "../common/err.h"
#include "../common/xalloc.h"
#include "../common/banned.h"

#define URL_MAX   2048
#define LABEL_MAX 64
#define PATH_MAX_ 256
#define UNIT_MAX  16

/* Problems recorded so far (this function's own are those added after). */
static size_t problems(const struct store_verr *v)
{
	return (v->details ? json_array_size(v->details) : 0) +
	       (v->unknown_keys ? json_array_size(v->unknown_keys) : 0);
}

static int name_ok(const char *s, int dash)
{
	size_t n = strlen(s);
	if (n < 1 || n > 64)
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		      (dash && *p == '-')))
			return 0;
	return 1;
}

/* A key-like string member at loc; NULL (problem recorded) when it is not one. */
static const char *name_member(const json_t *v, const json_t *loc, int dash,
                               struct store_verr *verr)
{
	if (store_check_string(v, 1, 64, loc, verr))
		return NULL;
	const char *s = json_string_value(v);
	if (!name_ok(s, dash)) {
		store_verr_add(verr, loc, "string_pattern_mismatch",
		               dash ? "Use 1 to 64 of a-z, 0-9, '_' and '-'"
		                    : "Use 1 to 64 of a-z, 0-9 and '_'");
		return NULL;
	}
	return s;
}

static void unknown_keys(const json_t *obj, const char *const *known, const json_t *loc,
                         struct store_verr *v)
{
	const char *k;
	json_t *x;
	json_object_foreach ((json_t *)obj, k, x) {
		int ok = 0;
		for (const char *const *p = known; *p; p++)
			ok |= !strcmp(k, *p);
		if (!ok) {
			json_t *l = store_loc_key(loc, k);
			store_verr_unknown(v, l);
			json_decref(l);
		}
	}
}

/* One operator-written field of the json widget, canonical (new reference) or NULL. */
static json_t *json_field(const json_t *f, const json_t *loc, struct store_verr *v)
{
	static const char *const known[] = {"key", "label", "url", "path", "unit", "reduce", NULL};
	if (!json_is_object(f)) {
		store_verr_add(
		    v, loc, "dict_type",
		    "A json widget field is an object {key, label, url, path, unit, reduce}");
		return NULL;
	}
	unknown_keys(f, known, loc, v);
	json_t *lk = store_loc_key(loc, "key"), *ll = store_loc_key(loc, "label"),
	       *lr = store_loc_key(loc, "url"), *lp = store_loc_key(loc, "path"),
	       *lu = store_loc_key(loc, "unit"), *ld = store_loc_key(loc, "reduce");
	const char *key = name_member(json_object_get(f, "key"), lk, 0, v);
	const json_t *label = json_object_get(f, "label"), *url = json_object_get(f, "url"),
	             *path = json_object_get(f, "path"), *unit = json_object_get(f, "unit"),
	             *reduce = json_object_get(f, "reduce");
	int bad = !key;
	bad |= store_check_string(label, 1, LABEL_MAX, ll, v) != 0;
	if (store_check_string(url, 1, URL_MAX, lr, v)) {
		bad = 1;
	} else {
		const char *u = json_string_value(url);
		if (u[0] != '/' && !store_url_is_http(u)) {
			store_verr_add(v, lr, "url_scheme",
			               "A path starting with '/' or an http(s) URL");
			bad = 1;
		}
	}
	bad |= store_check_string(path, 1, PATH_MAX_, lp, v) != 0;
	if (unit && !json_is_null(unit))
		bad |= store_check_string(unit, 0, UNIT_MAX, lu, v) != 0;
	if (reduce && !json_is_null(reduce) &&
	    (!json_is_string(reduce) || (strcmp(json_string_value(reduce), "length") &&
	                                 strcmp(json_string_value(reduce), "sum")))) {
		store_verr_add(v, ld, "enum", "reduce is length or sum");
		bad = 1;
	}
	json_decref(lk);
	json_decref(ll);
	json_decref(lr);
	json_decref(lp);
	json_decref(lu);
	json_decref(ld);
	if (bad)
		return NULL;
	return json_pack("{s:s,s:O,s:O,s:O,s:O,s:O}", "key", key, "label", label, "url", url,
	                 "path", path, "unit",
	                 unit && json_string_length(unit) ? unit : json_null(), "reduce",
	                 reduce ? reduce : json_null());
}

int store_widget_config_canon(const json_t *value, const json_t *loc_in, struct store_verr *v,
                              char **out)
{
	static const char *const known[] = {"type",       "url",       "fields",
	                                    "key_header", "key_query", NULL};
	json_t *loc = loc_in ? json_incref((json_t *)loc_in) : store_loc_key(NULL, "widget");
	json_t *canon = NULL;
	size_t before = problems(v);
	if (!json_is_object(value)) {
		store_verr_add(v, loc, "dict_type", "widget must be an object {type, url, fields}");
		goto out;
	}
	if (json_object_get(value, "api_key")) {
		json_t *l = store_loc_key(loc, "api_key");
		store_verr_add(v, l, "extra_forbidden",
		               "An API key is never part of the inventory");
		json_decref(l);
	}
	unknown_keys(value, known, loc, v);
	json_t *lt = store_loc_key(loc, "type"), *lu = store_loc_key(loc, "url"),
	       *lf = store_loc_key(loc, "fields");
	const char *type = name_member(json_object_get(value, "type"), lt, 1, v);
	const json_t *url = json_object_get(value, "url");
	if (!store_check_string(url, 1, URL_MAX, lu, v) &&
	    !store_url_is_http(json_string_value(url)))
		store_verr_add(v, lu, "url_scheme", "URL scheme should be 'http' or 'https'");
	const json_t *fields = json_object_get(value, "fields");
	json_t *cf = json_array();
	if (fields && !json_is_null(fields)) {
		if (!json_is_array(fields)) {
			store_verr_add(v, lf, "list_type", "fields must be a list");
		} else if (json_array_size(fields) > STORE_WIDGET_MAX_FIELDS) {
			store_verr_add(v, lf, "too_long", "At most %d fields",
			               STORE_WIDGET_MAX_FIELDS);
		} else {
			size_t i;
			json_t *f;
			json_array_foreach (fields, i, f) {
				json_t *li = store_loc_index(lf, i);
				json_t *c = NULL;
				if (type && !strcmp(type, "json")) {
					c = json_field(f, li, v);
				} else {
					const char *k = name_member(f, li, 0, v);
					c = k ? json_string(k) : NULL;
				}
				/* the same key twice would show twice */
				size_t j;
				json_t *prev;
				json_array_foreach (cf, j, prev) {
					const json_t *pk = json_is_object(prev)
					                       ? json_object_get(prev, "key")
					                       : prev;
					const json_t *ck =
					    c && json_is_object(c) ? json_object_get(c, "key") : c;
					if (c && json_equal(pk, ck)) {
						store_verr_add(v, li, "duplicate",
						               "Field listed twice");
						json_decref(c);
						c = NULL;
						break;
					}
				}
				if (c)
					json_array_append_new(cf, c);
				json_decref(li);
			}
		}
	}
	if (type && !strcmp(type, "json") && !json_array_size(cf) && problems(v) == before)
		store_verr_add(v, lf, "missing", "A json widget needs at least one field");
	/* the json widget may send its key another way; only there */
	const json_t *kh = json_object_get(value, "key_header"),
	             *kq = json_object_get(value, "key_query");
	if ((kh || kq) && !(type && !strcmp(type, "json")))
		store_verr_add(v, loc, "extra_forbidden",
		               "key_header and key_query are for the json widget");
	else if (kh && kq)
		store_verr_add(v, loc, "conflict", "Give key_header or key_query, not both");
	for (int k = 0; k < 2; k++) {
		const json_t *n = k ? kq : kh;
		json_t *ln = store_loc_key(loc, k ? "key_query" : "key_header");
		if (n && !store_check_string(n, 1, 64, ln, v)) {
			for (const char *p = json_string_value(n); *p; p++)
				if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
				      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_')) {
					store_verr_add(v, ln, "string_pattern_mismatch",
					               "Use letters, digits, '-' and '_'");
					break;
				}
		}
		json_decref(ln);
	}
	/* a json field elsewhere would get the key too: only the widget's own host */
	if (type && !strcmp(type, "json") && json_is_string(url)) {
		size_t i;
		json_t *f;
		json_array_foreach (cf, i, f) {
			const char *fu = json_string_value(json_object_get(f, "url"));
			if (fu && fu[0] != '/' &&
			    !store_widget_same_origin(fu, json_string_value(url))) {
				json_t *li = store_loc_index(lf, i), *lr = store_loc_key(li, "url");
				store_verr_add(
				    v, lr, "url_origin",
				    "A whole URL must be on the widget's own host (scheme, host, "
				    "port): the API key is sent with it");
				json_decref(lr);
				json_decref(li);
			}
		}
	}
	if (problems(v) == before) {
		canon = json_pack("{s:s,s:O,s:O}", "type", type, "url", url, "fields", cf);
		if (kh)
			json_object_set(canon, "key_header", (json_t *)kh);
		if (kq)
			json_object_set(canon, "key_query", (json_t *)kq);
	}
	json_decref(cf);
	json_decref(lt);
	json_decref(lu);
	json_decref(lf);
out:
	json_decref(loc);
	if (!canon)
		return ERR_INVAL;
	*out = json_dumps(canon, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(canon);
	return 0;
}

/* Length of "scheme://host[:port]" at the start of url (0 when it has none). */
static size_t origin_len(const char *url)
{
	const char *p = strstr(url, "://");
	if (!p)
		return 0;
	p += 3;
	return (size_t)(p - url) + strcspn(p, "/?#");
}

int store_widget_same_origin(const char *a, const char *b)
{
	size_t n = origin_len(a), m = origin_len(b);
	return n && n == m && !strncasecmp(a, b, n);
}

int store_widget_config_moved(const char *old_canon, const char *new_canon)
{
	if (!old_canon || !new_canon)
		return old_canon != new_canon;
	json_t *o = json_loads(old_canon, 0, NULL), *n = json_loads(new_canon, 0, NULL);
	const char *ot = json_string_value(json_object_get(o, "type")),
	           *nt = json_string_value(json_object_get(n, "type"));
	const char *ou = json_string_value(json_object_get(o, "url")),
	           *nu = json_string_value(json_object_get(n, "url"));
	int moved = !ot || !nt || strcmp(ot, nt) || !ou || !nu || !store_widget_same_origin(ou, nu);
	json_decref(o);
	json_decref(n);
	return moved;
}
