#include "merge.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/buf.h"
#include "../common/err.h"
#include "../common/xalloc.h"
#include "icons.h"
#include "imageref.h"
#include "../common/banned.h"

void store_set_str(char **field, const char *value)
{
	if (*field == value)
		return;
	char *copy = xstrdup(value);
	free(*field);
	*field = copy;
}

static int nonempty(const struct store_pstr *s)
{
	return s->state == STORE_P_VALUE && s->value[0];
}

char *store_derive_icon(const char *image_name, const char *container_name)
{
	const char *src = image_name && *image_name ? image_name : container_name;
	if (!src || !*src)
		return NULL;
	/* Lowercase, and anything a file name may not hold becomes '-': "My App" -> "my-app". */
	char *icon = xstrndup(src, strnlen(src, STORE_ICON_NAME_MAX));
	for (char *c = icon; *c; c++) {
		*c = (char)tolower((unsigned char)*c);
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '.' ||
		      *c == '_' || *c == '-'))
			*c = '-';
	}
	if (!store_icon_name_ok(icon)) { /* "-x", ".x": nothing sensible to fetch */
		free(icon);
		return NULL;
	}
	return icon;
}

static void apply_image(struct store_record *rec, const char *ref)
{
	struct store_imageref ir;
	if (store_imageref_parse(&ir, ref) < 0) {
		/* Unparseable refs are kept whole; no stale parts of the old image. */
		store_set_str(&rec->image_registry, NULL);
		store_set_str(&rec->image_owner, NULL);
		store_set_str(&rec->image_name, ref);
		store_set_str(&rec->image_tag, NULL);
		store_set_str(&rec->image_digest, NULL);
		return;
	}
	store_set_str(&rec->image_registry, ir.registry);
	store_set_str(&rec->image_owner, ir.owner);
	store_set_str(&rec->image_name, ir.name);
	store_set_str(&rec->image_tag, ir.tag);
	store_set_str(&rec->image_digest, ir.digest);
	store_imageref_release(&ir);
}

/* A writer with rank `src` overwrites a URL whose source ranks at most its own. */
static void apply_url(char **url, int *source, const struct store_pstr *p)
{
	if (!nonempty(p) || *source > STORE_SRC_EXPLICIT_LABEL)
		return;
	store_set_str(url, p->value);
	*source = STORE_SRC_EXPLICIT_LABEL;
}

static void apply_list(char **field, const struct store_pstr *p)
{
	if (p->state == STORE_P_VALUE)
		store_set_str(field, p->value);
	else if (p->state == STORE_P_NULL)
		store_set_str(field, NULL);
}

static void apply_ownership(struct store_record *rec, const struct store_payload *p, int ownership)
{
	const char *group = nonempty(&p->group_name) ? p->group_name.value : NULL;
	store_set_str(&rec->notifier_reported_group_name, group);
	rec->notifier_reported_sort_priority.set = p->sort_priority.state == STORE_P_VALUE;
	rec->notifier_reported_sort_priority.value =
	    p->sort_priority.state == STORE_P_VALUE ? p->sort_priority.value : 0;

	int notifier_wins = ownership == STORE_NOTIFIER_WINS;
	if ((notifier_wins && p->group_name.state != STORE_P_ABSENT) || (!rec->group_name && group))
		store_set_str(&rec->group_name, group);
	if ((notifier_wins && p->sort_priority.state != STORE_P_ABSENT) ||
	    (!rec->sort_priority.set && p->sort_priority.state == STORE_P_VALUE))
		rec->sort_priority = rec->notifier_reported_sort_priority;
}

static void apply_icon(struct store_record *rec, const struct store_payload *p)
{
	if (rec->image_icon_source == STORE_ICON_UI_EDIT)
		return;
	if (nonempty(&p->image_icon)) {
		store_set_str(&rec->image_icon, p->image_icon.value);
		rec->image_icon_source = STORE_ICON_NOTIFIER;
	} else if (!rec->image_icon) {
		rec->image_icon = store_derive_icon(rec->image_name, rec->container_name);
		rec->image_icon_source = rec->image_icon ? STORE_ICON_DERIVED : STORE_ICON_NONE;
	}
}

static void apply_payload(struct store_record *rec, const struct store_payload *p,
                          const struct store_merge_ctx *ctx)
{
	const struct store_pstr *live[] = {&p->container_id, &p->stack_name, &p->docker_status,
	                                   &p->started_at};
	char **dst[] = {&rec->container_id, &rec->stack_name, &rec->docker_status,
	                &rec->started_at};
	for (size_t i = 0; i < sizeof(live) / sizeof(*live); i++)
		if (nonempty(live[i]))
			store_set_str(dst[i], live[i]->value);
	if (nonempty(&p->image_name))
		apply_image(rec, p->image_name.value);
	apply_url(&rec->internalurl, &rec->internalurl_source, &p->internalurl);
	apply_url(&rec->externalurl, &rec->externalurl_source, &p->externalurl);
	if (p->internal_health_check_enabled.state == STORE_P_VALUE)
		rec->internal_health_check_enabled = p->internal_health_check_enabled.value;
	if (p->external_health_check_enabled.state == STORE_P_VALUE)
		rec->external_health_check_enabled = p->external_health_check_enabled.value;
	apply_icon(rec, p);
	apply_ownership(rec, p, ctx->ownership);
	apply_list(&rec->networks, &p->networks);
	apply_list(&rec->exposed_ports, &p->exposed_ports);
	apply_list(&rec->published_ports, &p->published_ports);
	/* Observations: absent or null keep; a list (even [] , which clears) replaces. */
	if (p->exposure_observations.state == STORE_P_VALUE)
		store_set_str(&rec->exposure_observations, p->exposure_observations.value);
	store_synthesize(rec, ctx->exposure);
}

int store_merge_register(struct store_record *rec, int exists, const struct store_payload *p,
                         const struct store_merge_ctx *ctx)
{
	if (exists && rec->is_static)
		return STORE_MERGE_SKIPPED;
	struct store_record before;
	store_record_copy(&before, rec);
	if (!exists) {
		store_set_str(&rec->host, p->host);
		store_set_str(&rec->container_name, p->container_name);
	}
	apply_payload(rec, p, ctx);
	int changed = !store_record_equal(&before, rec, STORE_FIELD_INVENTORY | STORE_FIELD_LIVE);
	store_record_release(&before);
	rec->last_api_update = ctx->now;
	if (changed || !exists)
		rec->last_updated = ctx->now;
	if (!exists)
		return STORE_MERGE_CREATED;
	return changed ? STORE_MERGE_UPDATED : STORE_MERGE_UNCHANGED;
}
