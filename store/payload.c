#include "payload.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../common/err.h"
#include "../common/xalloc.h"
#include "icons.h"
#include "listfields.h"
#include "../common/banned.h"

#define K(name, type)                                                                              \
	{                                                                                          \
#name, STORE_PT_##type, offsetof(struct store_payload, name)                       \
	}

static const struct store_pkey register_keys[] = {
    K(host, NAME),
    K(container_name, NAME),
    K(container_id, STR),
    K(stack_name, STR),
    K(docker_status, STR),
    K(started_at, STR),
    K(timestamp, STR),
    K(internalurl, URL),
    K(externalurl, URL),
    K(internal_health_check_enabled, BOOL),
    K(external_health_check_enabled, BOOL),
    K(image_name, STR),
    K(image_icon, ICON),
    K(group_name, STR),
    K(sort_priority, INT),
    K(networks, LIST),
    K(exposed_ports, LIST),
    K(published_ports, LIST),
    K(exposure_observations, LIST),
};
#define NKEYS (sizeof(register_keys) / sizeof(register_keys[0]))

void store_payload_release(struct store_payload *p)
{
	if (!p)
		return;
	store_pkeys_release(p, register_keys, NKEYS);
	memset(p, 0, sizeof(*p));
}

static void take_string(struct store_pstr *dst, const json_t *v)
{
	dst->state = STORE_P_VALUE;
	dst->value = xstrndup(json_string_value(v), json_string_length(v));
}

static void take_value(void *p, const struct store_pkey *k, const json_t *v, const json_t *loc,
                       struct store_verr *verr)
{
	void *slot = (char *)p + k->offset;
	switch (k->type) {
	case STORE_PT_NAME:
		if (!store_check_string(v, 1, STORE_MAX_NAME, loc, verr))
			*(char **)slot = xstrndup(json_string_value(v), json_string_length(v));
		return;
	case STORE_PT_STR:
		if (!store_check_string(v, 0, STORE_MAX_STRING, loc, verr))
			take_string(slot, v);
		return;
	case STORE_PT_TEXT:
		if (!store_check_string(v, 0, STORE_MAX_TEXT, loc, verr))
			take_string(slot, v);
		return;
	case STORE_PT_URL:
		if (store_check_string(v, 0, STORE_MAX_STRING, loc, verr))
			return;
		if (json_string_length(v) && !store_url_is_http(json_string_value(v))) {
			store_verr_add(verr, loc, "url_scheme",
			               "URL should be an absolute http:// or https:// URL");
			return;
		}
		take_string(slot, v);
		return;
	case STORE_PT_ICON:
		if (store_check_string(v, 0, STORE_MAX_STRING, loc, verr))
			return;
		/* The name becomes a file name under images/: no paths, no dot files. */
		if (json_string_length(v) &&
		    (strlen(json_string_value(v)) != json_string_length(v) ||
		     !store_icon_name_ok(json_string_value(v)))) {
			store_verr_add(
			    verr, loc, "icon_name",
			    "Icon should be a file name of at most %d letters, digits, '.', "
			    "'_' and '-', not starting with '.' or '-'",
			    STORE_ICON_NAME_MAX);
			return;
		}
		take_string(slot, v);
		return;
	case STORE_PT_BOOL: {
		struct store_pbool *b = slot;
		if (store_coerce_bool(v, &b->value) < 0) {
			store_verr_add(
			    verr, loc, "bool_parsing",
			    "Input should be a valid boolean, unable to interpret input");
			return;
		}
		b->state = STORE_P_VALUE;
		return;
	}
	case STORE_PT_INT: {
		struct store_pint *n = slot;
		if (store_coerce_int(v, &n->value) < 0) {
			store_verr_add(
			    verr, loc, "int_parsing",
			    "Input should be a valid integer, unable to parse input as an integer");
			return;
		}
		n->state = STORE_P_VALUE;
		return;
	}
	case STORE_PT_LIST: {
		struct store_pstr *s = slot;
		if (!store_list_canon(k->key, v, loc, verr, &s->value))
			s->state = STORE_P_VALUE;
		return;
	}
	}
}

static const struct store_pkey *find_key(const struct store_pkey *keys, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(keys[i].key, name))
			return &keys[i];
	return NULL;
}

void store_pkeys_parse(void *out, const struct store_pkey *keys, size_t n, const json_t *body,
                       struct store_verr *v)
{
	const char *name;
	json_t *value;
	json_object_foreach ((json_t *)body, name, value) {
		json_t *loc = store_loc_key(NULL, name);
		const struct store_pkey *k = find_key(keys, n, name);
		if (!k) {
			store_verr_unknown(v, loc);
		} else if (json_is_null(value)) {
			if (k->type == STORE_PT_NAME)
				store_verr_add(v, loc, "string_type",
				               "Input should be a valid string");
			else
				((struct store_pstr *)((char *)out + k->offset))->state =
				    STORE_P_NULL;
		} else {
			take_value(out, k, value, loc, v);
		}
		json_decref(loc);
	}
}

void store_pkeys_release(void *out, const struct store_pkey *keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		void *slot = (char *)out + keys[i].offset;
		if (keys[i].type == STORE_PT_NAME)
			free(*(char **)slot);
		else if (keys[i].type != STORE_PT_BOOL && keys[i].type != STORE_PT_INT)
			free(((struct store_pstr *)slot)->value);
	}
}

int store_payload_from_json(struct store_payload *out, const json_t *body, struct store_verr *v)
{
	struct store_payload p;
	memset(&p, 0, sizeof(p));
	store_pkeys_parse(&p, register_keys, NKEYS, body, v);
	for (int i = 0; i < 2; i++) {
		if (!json_object_get(body, register_keys[i].key)) {
			json_t *loc = store_loc_key(NULL, register_keys[i].key);
			store_verr_add(v, loc, "missing", "Field required");
			json_decref(loc);
		}
	}
	if (store_verr_any(v)) {
		store_payload_release(&p);
		return ERR_INVAL;
	}
	*out = p;
	return 0;
}
