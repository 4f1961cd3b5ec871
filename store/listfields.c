#include "listfields.h"

#include <stdlib.h>
#include <string.h>

#include "../common/err.h"
#include "../common/banned.h"

/* What a key of a list item holds; the comment gives the canonical value of null/absent. */
enum item_kind {
	K_STR,      /* string; required */
	K_INT,      /* integer (STD coercions); required */
	K_OPT_STR,  /* string or null; absent = null */
	K_BOOL,     /* bool (STD coercions); absent or null = false */
	K_STR_LIST, /* list of strings; absent or null = [] */
	K_OPT_OBJ,  /* any JSON object or null; absent = null */
};

struct key_spec {
	const char *name;
	enum item_kind kind;
};

/* Key order here is the canonical order. */
/* Nesting depth of a JSON value: 1 for a scalar or an empty container. */
static int json_depth(const json_t *v)
{
	int deepest = 0;
	if (json_is_object(v)) {
		const char *k;
		json_t *c;
		json_object_foreach ((json_t *)v, k, c) {
			int d = json_depth(c);
			if (d > deepest)
				deepest = d;
			if (deepest > STORE_LIST_MAX_DETAILS_DEPTH)
				break; /* deep enough to refuse: stop before the stack is */
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *c;
		json_array_foreach ((json_t *)v, i, c) {
			int d = json_depth(c);
			if (d > deepest)
				deepest = d;
			if (deepest > STORE_LIST_MAX_DETAILS_DEPTH)
				break;
		}
	}
	return deepest + 1;
}

static const struct key_spec network_keys[] = {
    {"name", K_STR},
    {"aliases", K_STR_LIST},
    {NULL, K_STR},
};

static const struct key_spec port_keys[] = {
    {"container_port", K_INT}, {"protocol", K_STR}, {"host_ip", K_STR},
    {"host_port", K_INT},      {NULL, K_STR},
};

static const struct key_spec observation_keys[] = {
    {"layer", K_STR},    {"hostname", K_OPT_STR}, {"tls", K_BOOL}, {"path_prefix", K_OPT_STR},
    {"auth", K_OPT_STR}, {"details", K_OPT_OBJ},  {NULL, K_STR},
};

struct list_spec {
	const char *field;
	const struct key_spec *keys; /* NULL: the items are plain strings */
};

static const struct list_spec lists[] = {
    {"networks", network_keys},
    {"exposed_ports", NULL},
    {"published_ports", port_keys},
    {"exposure_observations", observation_keys},
};

#define NLISTS (sizeof(lists) / sizeof(lists[0]))

static const struct list_spec *find_list(const char *name)
{
	for (size_t i = 0; i < NLISTS; i++)
		if (!strcmp(lists[i].field, name))
			return &lists[i];
	return NULL;
}

int store_list_is_field(const char *name)
{
	return name && find_list(name) != NULL;
}

static size_t nproblems(const struct store_verr *v)
{
	return v->details ? json_array_size(v->details) : 0;
}

static json_t *canon_string(const json_t *val, const json_t *loc, struct store_verr *v)
{
	if (store_check_string(val, 0, STORE_MAX_STRING, loc, v))
		return NULL;
	return json_deep_copy(val);
}

static json_t *canon_int(const json_t *val, const json_t *loc, struct store_verr *v)
{
	int64_t n;
	if (!store_coerce_int(val, &n))
		return json_integer((json_int_t)n);
	if (json_is_string(val))
		store_verr_add(
		    v, loc, "int_parsing",
		    "Input should be a valid integer, unable to parse string as an integer");
	else if (json_is_real(val))
		store_verr_add(
		    v, loc, "int_parsing",
		    "Input should be a valid integer, got a number with a fractional part");
	else
		store_verr_add(v, loc, "int_parsing", "Input should be a valid integer");
	return NULL;
}

static json_t *canon_bool(const json_t *val, const json_t *loc, struct store_verr *v)
{
	int b;
	if (!val || json_is_null(val))
		return json_false();
	if (!store_coerce_bool(val, &b))
		return json_boolean(b);
	store_verr_add(v, loc, "bool_parsing",
	               "Input should be a valid boolean, unable to interpret input");
	return NULL;
}

static json_t *canon_string_list(const json_t *val, const json_t *loc, struct store_verr *v)
{
	if (!val || json_is_null(val))
		return json_array();
	if (!json_is_array(val)) {
		store_verr_add(v, loc, "list_type", "Input should be a valid list");
		return NULL;
	}
	json_t *out = json_array();
	size_t i, before = nproblems(v);
	json_t *item;
	json_array_foreach (val, i, item) {
		json_t *l = store_loc_index(loc, i);
		json_t *s = canon_string(item, l, v);
		if (s)
			json_array_append_new(out, s);
		json_decref(l);
	}
	if (nproblems(v) != before) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* Canonical value of one key; NULL when a problem was recorded. */
static json_t *canon_key(enum item_kind kind, const json_t *val, const json_t *loc,
                         struct store_verr *v)
{
	int absent_or_null = !val || json_is_null(val);
	switch (kind) {
	case K_STR:
		return canon_string(val, loc, v);
	case K_INT:
		return canon_int(val, loc, v);
	case K_OPT_STR:
		return absent_or_null ? json_null() : canon_string(val, loc, v);
	case K_BOOL:
		return canon_bool(val, loc, v);
	case K_STR_LIST:
		return canon_string_list(val, loc, v);
	case K_OPT_OBJ:
		if (absent_or_null)
			return json_null();
		if (!json_is_object(val)) {
			store_verr_add(v, loc, "dict_type", "Input should be a valid dictionary");
			return NULL;
		}
		if (json_depth(val) > STORE_LIST_MAX_DETAILS_DEPTH) {
			/* The mirrored YAML file must read back: its reader stops at a depth. */
			store_verr_add(v, loc, "too_deep", "Nested more than %d levels",
			               STORE_LIST_MAX_DETAILS_DEPTH);
			return NULL;
		}
		return json_deep_copy(val);
	}
	return NULL;
}

static int is_known_key(const struct key_spec *keys, const char *name)
{
	for (const struct key_spec *k = keys; k->name; k++)
		if (!strcmp(k->name, name))
			return 1;
	return 0;
}

/* Canonical object for one list item; NULL when a problem was recorded. */
static json_t *canon_object(const json_t *item, const struct key_spec *keys, const json_t *loc,
                            struct store_verr *v)
{
	if (!json_is_object(item)) {
		store_verr_add(v, loc, "dict_type", "Input should be a valid dictionary");
		return NULL;
	}
	size_t before = nproblems(v);
	json_t *out = json_object();
	for (const struct key_spec *k = keys; k->name; k++) {
		json_t *l = store_loc_key(loc, k->name);
		json_t *val = json_object_get(item, k->name);
		if (!val && (k->kind == K_STR || k->kind == K_INT)) {
			store_verr_add(v, l, "missing", "Field required");
		} else {
			json_t *c = canon_key(k->kind, val, l, v);
			if (c)
				json_object_set_new(out, k->name, c);
		}
		json_decref(l);
	}
	const char *name;
	json_t *val;
	json_object_foreach ((json_t *)item, name, val) {
		if (is_known_key(keys, name))
			continue;
		json_t *l = store_loc_key(loc, name);
		store_verr_unknown(v, l);
		json_decref(l);
	}
	if (nproblems(v) != before) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* The spec drops observations without a layer rather than rejecting them. */
static int dropped(const struct list_spec *spec, const json_t *c)
{
	if (spec->keys != observation_keys)
		return 0;
	const char *layer = json_string_value(json_object_get(c, "layer"));
	return layer && !*layer;
}

static json_t *canon_list(const struct list_spec *spec, const json_t *value, const json_t *loc,
                          struct store_verr *v)
{
	if (!json_is_array(value)) {
		store_verr_add(v, loc, "list_type", "Input should be a valid list");
		return NULL;
	}
	size_t before = nproblems(v);
	json_t *out = json_array();
	size_t i;
	json_t *item;
	json_array_foreach (value, i, item) {
		json_t *l = store_loc_index(loc, i);
		json_t *c =
		    spec->keys ? canon_object(item, spec->keys, l, v) : canon_string(item, l, v);
		if (c && dropped(spec, c))
			json_decref(c);
		else if (c)
			json_array_append_new(out, c);
		json_decref(l);
	}
	if (nproblems(v) != before) {
		json_decref(out);
		return NULL;
	}
	return out;
}

int store_list_canon(const char *field, const json_t *value, const json_t *loc,
                     struct store_verr *v, char **out)
{
	json_t *own_loc = loc ? json_deep_copy(loc) : store_loc_key(NULL, field);
	json_t *canon = NULL;
	int rc = ERR_INVAL;
	const struct list_spec *spec = find_list(field);
	if (!spec) {
		store_verr_unknown(v, own_loc);
		goto out;
	}
	canon = canon_list(spec, value, own_loc, v);
	if (!canon)
		goto out;
	char *text = json_dumps(canon, JSON_COMPACT);
	if (!text)
		abort(); /* jansson fails only on allocation here */
	*out = text;
	rc = 0;
out:
	json_decref(canon);
	json_decref(own_loc);
	return rc;
}
