/*
 * Validation of an operator's edit (part of ops.h): the same strict,
 * coercing schema as a register, over the fields an operator may set.
 */
#include "ops.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"
#include "widgetcfg.h"
#include "../common/xalloc.h"
#include "../common/banned.h"

#define K(name, type)                                                                              \
	{                                                                                          \
#name, STORE_PT_##type, offsetof(struct store_edit, name)                          \
	}

static const struct store_pkey edit_keys[] = {
    K(host, STR),
    K(container_name, STR),
    K(stack_name, STR),
    K(internalurl, URL),
    K(externalurl, URL),
    K(internal_health_check_enabled, BOOL),
    K(external_health_check_enabled, BOOL),
    K(group_name, STR),
    K(sort_priority, INT),
    K(image_icon, ICON),
    K(health_check_timeout, INT),
    K(is_static, BOOL),
    K(notes, TEXT),
};
#define NEDIT (sizeof(edit_keys) / sizeof(edit_keys[0]))

/* An identity field, when given, must be a non-empty name. */
static void check_name(const struct store_pstr *s, const char *key, struct store_verr *v)
{
	if (s->state == STORE_P_ABSENT)
		return;
	json_t *loc = store_loc_key(NULL, key);
	if (s->state == STORE_P_NULL || !s->value[0])
		store_verr_add(v, loc, "string_too_short", "String should not be empty");
	else if (strlen(s->value) > STORE_MAX_NAME)
		store_verr_add(v, loc, "string_too_long", "String should have at most %d bytes",
		               STORE_MAX_NAME);
	json_decref(loc);
}

/* The longest widget API key accepted (bytes of printable ASCII). */
#define WIDGET_KEY_MAX 512

/*
 * "widget": null removes the widget (and its key); an object replaces the
 * configuration; its "api_key" (absent: keep the one set) is taken out
 * here, so it can never reach the record.
 */
static void parse_widget(struct store_edit *ed, const json_t *w, struct store_verr *v)
{
	json_t *loc = store_loc_key(NULL, "widget");
	if (json_is_null(w)) {
		ed->widget.state = STORE_P_NULL;
		ed->widget_api_key.state = STORE_P_NULL;
		json_decref(loc);
		return;
	}
	json_t *cfg = json_is_object(w) ? json_copy((json_t *)w) : json_incref((json_t *)w);
	const json_t *key = json_is_object(cfg) ? json_object_get(cfg, "api_key") : NULL;
	if (key) {
		json_t *kl = store_loc_key(loc, "api_key");
		if (json_is_null(key) || (json_is_string(key) && !json_string_length(key))) {
			ed->widget_api_key.state = STORE_P_NULL;
		} else if (!store_check_string(key, 1, WIDGET_KEY_MAX, kl, v)) {
			const char *k = json_string_value(key);
			int printable = 1;
			for (const char *p = k; *p; p++)
				printable &= *p > 0x20 && *p < 0x7f;
			if (printable) {
				ed->widget_api_key.state = STORE_P_VALUE;
				ed->widget_api_key.value = xstrdup(k);
			} else {
				/* the message never quotes the key */
				store_verr_add(v, kl, "string_pattern_mismatch",
				               "An API key is printable ASCII without spaces");
			}
		}
		json_decref(kl);
		json_object_del(cfg, "api_key");
	}
	char *canon = NULL;
	if (!store_widget_config_canon(cfg, loc, v, &canon)) {
		ed->widget.state = STORE_P_VALUE;
		ed->widget.value = canon;
	}
	json_decref(cfg);
	json_decref(loc);
}

int store_edit_from_json(struct store_edit *out, const json_t *body, struct store_verr *v)
{
	struct store_edit ed;
	memset(&ed, 0, sizeof(ed));
	if (!json_is_object(body)) {
		store_verr_add(v, NULL, "dict_type", "Request body must be a JSON object");
		return ERR_INVAL;
	}
	const json_t *widget = json_object_get(body, "widget");
	json_t *rest = json_copy((json_t *)body);
	json_object_del(rest, "widget");
	store_pkeys_parse(&ed, edit_keys, NEDIT, rest, v);
	json_decref(rest);
	if (widget)
		parse_widget(&ed, widget, v);
	check_name(&ed.host, "host", v);
	check_name(&ed.container_name, "container_name", v);
	if (ed.health_check_timeout.state == STORE_P_VALUE &&
	    (ed.health_check_timeout.value < 1 || ed.health_check_timeout.value > 60)) {
		json_t *loc = store_loc_key(NULL, "health_check_timeout");
		store_verr_add(v, loc, "out_of_range", "Timeout should be 1 to 60 seconds");
		json_decref(loc);
	}
	if (store_verr_any(v)) {
		store_edit_release(&ed);
		return ERR_INVAL;
	}
	*out = ed;
	return 0;
}

void store_edit_release(struct store_edit *ed)
{
	if (!ed)
		return;
	store_pkeys_release(ed, edit_keys, NEDIT);
	free(ed->widget.value);
	if (ed->widget_api_key.value) {
		explicit_bzero(ed->widget_api_key.value, strlen(ed->widget_api_key.value));
		free(ed->widget_api_key.value);
	}
	memset(ed, 0, sizeof(*ed));
}
