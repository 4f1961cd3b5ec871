#include "ops.h"

#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"
#include "../common/xalloc.h"
#include "health.h"
#include "merge.h"
#include "naming.h"
#include "repo.h"
#include "stdbackup.h"
#include "widgetcfg.h"
#include "widgetkey.h"
#include "widgetvals.h"
#include "../common/banned.h"

/* Append the journal entry describing old -> new (old NULL = created, new NULL = deleted). */
static int journal_change(struct store_txn *t, int kind, const char *verb,
                          const struct store_record *old, const struct store_record *new,
                          const char *author, struct err *e)
{
	const struct store_record *r = new ? new : old;
	struct store_journal_entry en = {0};
	struct buf msg;
	buf_init(&msg, 0);
	buf_addf(&msg, "%s %s/%s: ", verb, r->host, r->container_name);
	size_t head = msg.len;
	if (!old)
		buf_adds(&msg, "created");
	else if (!new)
		buf_adds(&msg, "deleted");
	else
		store_record_describe_changes(old, new, &msg);
	if (msg.len == head)
		buf_adds(&msg, "live state");
	en.kind = kind;
	en.id = r->id;
	if (!old || !new || !store_record_equal(old, new, STORE_FIELD_INVENTORY))
		en.flags |= STORE_JOURNAL_INVENTORY;
	char *path_new = new ? store_naming_service_path(new->host, new->container_name) : NULL;
	char *path_old = old ? store_naming_service_path(old->host, old->container_name) : NULL;
	if (path_old && (!path_new || strcmp(path_old, path_new)))
		en.path_before = path_old;
	en.author = (char *)author;
	en.message = msg.data;
	int rc = store_journal_append(t, &en, e);
	free(path_new);
	free(path_old);
	buf_release(&msg);
	return rc;
}

/*
 * A widget removed, or given another type or origin: its stored API key
 * must not follow it (it would be sent where it was not given for) and
 * its values are another widget's. Whoever changed it (an edit, an import,
 * a restore) sets a new key if they have one.
 */
static int widget_guard(struct store_txn *t, const struct store_record *before,
                        const struct store_record *after, struct err *e)
{
	if (!before->widget || !store_widget_config_moved(before->widget, after->widget))
		return 0;
	int rc = store_widget_key_put(t, after->id, NULL, NULL, e);
	return rc ? rc : store_widget_forget(t, after->id, e);
}

int store_ops_register(struct store_txn *t, const struct store_payload *p, int ownership,
                       int64_t now, struct store_record *out, int *status, struct err *e)
{
	struct store_record rec, before;
	store_record_init(&rec);
	store_record_init(&before);
	uint64_t id;
	int exists = !store_db_find(t, p->host, p->container_name, &id, NULL);
	int rc = exists ? store_db_get(t, id, &rec, e) : store_db_next_id(t, &rec.id, e);
	if (rc)
		goto out;
	if (exists)
		store_record_copy(&before, &rec);
	struct store_merge_ctx ctx = {store_db_exposure(t), ownership, now};
	int st = store_merge_register(&rec, exists, p, &ctx);
	if (st != STORE_MERGE_SKIPPED) {
		rc = store_db_put(t, &rec, e);
		if (!rc && st != STORE_MERGE_UNCHANGED) {
			char *author = xasprintf("notifier@%s", p->host);
			rc = journal_change(t, STORE_CHANGE_REGISTER, "register",
			                    exists ? &before : NULL, &rec, author, e);
			free(author);
		}
		if (rc)
			goto out;
	}
	*status = st;
	if (out) {
		*out = rec;
		store_record_init(&rec);
	}
out:
	store_record_release(&rec);
	store_record_release(&before);
	return rc;
}

static void edit_url(char **url, int *source, const struct store_pstr *v)
{
	if (v->state == STORE_P_ABSENT)
		return;
	if (v->state == STORE_P_VALUE && v->value[0]) {
		store_set_str(url, v->value);
		*source = STORE_SRC_UI_EDIT;
	} else {
		/* Clearing hands the URL back to the synthesizer. */
		store_set_str(url, NULL);
		*source = STORE_SRC_NONE;
	}
}

static void edit_str(char **field, const struct store_pstr *v)
{
	if (v->state == STORE_P_VALUE)
		store_set_str(field, v->value[0] ? v->value : NULL);
	else if (v->state == STORE_P_NULL)
		store_set_str(field, NULL);
}

static void edit_bool(int *field, const struct store_pbool *v)
{
	if (v->state == STORE_P_VALUE)
		*field = v->value;
	else if (v->state == STORE_P_NULL)
		*field = 0;
}

static void apply_edit(struct store_record *rec, const struct store_edit *ed,
                       const json_t *exposure)
{
	if (ed->host.state == STORE_P_VALUE)
		store_set_str(&rec->host, ed->host.value);
	if (ed->container_name.state == STORE_P_VALUE)
		store_set_str(&rec->container_name, ed->container_name.value);
	edit_str(&rec->stack_name, &ed->stack_name);
	edit_url(&rec->internalurl, &rec->internalurl_source, &ed->internalurl);
	edit_url(&rec->externalurl, &rec->externalurl_source, &ed->externalurl);
	edit_bool(&rec->internal_health_check_enabled, &ed->internal_health_check_enabled);
	edit_bool(&rec->external_health_check_enabled, &ed->external_health_check_enabled);
	edit_bool(&rec->is_static, &ed->is_static);
	edit_str(&rec->group_name, &ed->group_name);
	edit_str(&rec->notes, &ed->notes);
	edit_str(&rec->widget, &ed->widget);
	if (ed->sort_priority.state != STORE_P_ABSENT) {
		rec->sort_priority.set = ed->sort_priority.state == STORE_P_VALUE;
		rec->sort_priority.value = rec->sort_priority.set ? ed->sort_priority.value : 0;
	}
	if (ed->health_check_timeout.state != STORE_P_ABSENT) {
		rec->health_check_timeout.set = ed->health_check_timeout.state == STORE_P_VALUE;
		rec->health_check_timeout.value =
		    rec->health_check_timeout.set ? ed->health_check_timeout.value : 0;
	}
	if (ed->image_icon.state != STORE_P_ABSENT) {
		edit_str(&rec->image_icon, &ed->image_icon);
		rec->image_icon_source = rec->image_icon ? STORE_ICON_UI_EDIT : STORE_ICON_NONE;
	}
	store_synthesize(rec, exposure);
}

int store_ops_add(struct store_txn *t, const struct store_edit *ed, const char *author, int64_t now,
                  struct store_record *out, struct err *e)
{
	if (ed->host.state != STORE_P_VALUE || ed->container_name.state != STORE_P_VALUE)
		return err_set(e, ERR_INVAL, "host and container_name are required");
	uint64_t other;
	if (!store_db_find(t, ed->host.value, ed->container_name.value, &other, NULL))
		return err_set(e, ERR_EXISTS, "service '%s/%s' already exists (id %llu)",
		               ed->host.value, ed->container_name.value, (unsigned long long)other);
	struct store_record rec;
	store_record_init(&rec);
	int rc = store_db_next_id(t, &rec.id, e);
	if (rc)
		goto out;
	apply_edit(&rec, ed, store_db_exposure(t));
	if (!rec.image_icon) {
		rec.image_icon = store_derive_icon(NULL, rec.container_name);
		rec.image_icon_source = rec.image_icon ? STORE_ICON_DERIVED : STORE_ICON_NONE;
	}
	rec.last_updated = now;
	rc = store_db_put(t, &rec, e);
	if (!rc)
		rc = journal_change(t, STORE_CHANGE_ADD, "add", NULL, &rec, author, e);
	if (!rc && out) {
		*out = rec;
		store_record_init(&rec);
	}
out:
	store_record_release(&rec);
	return rc;
}

int store_ops_edit(struct store_txn *t, uint64_t id, const struct store_edit *ed,
                   const char *author, int64_t now, struct store_record *out, struct err *e)
{
	struct store_record rec, before;
	store_record_init(&before);
	int rc = store_db_get(t, id, &rec, e);
	if (rc)
		return rc;
	store_record_copy(&before, &rec);
	apply_edit(&rec, ed, store_db_exposure(t));
	int changed = !store_record_equal(&before, &rec, STORE_FIELD_INVENTORY);
	if (changed) {
		rec.last_updated = now;
		rc = widget_guard(t, &before, &rec, e);
		if (!rc)
			rc = store_db_put(t, &rec, e);
		if (!rc)
			rc = journal_change(t, STORE_CHANGE_EDIT, "edit", &before, &rec, author, e);
	}
	if (!rc && out) {
		*out = rec;
		store_record_init(&rec);
	}
	store_record_release(&rec);
	store_record_release(&before);
	return rc;
}

int store_ops_delete(struct store_txn *t, uint64_t id, const char *author, struct err *e)
{
	struct store_record rec;
	int rc = store_db_get(t, id, &rec, e);
	if (rc)
		return rc;
	rc = store_db_del(t, id, e);
	if (!rc)
		rc = store_health_forget(t, id, e);
	/* A deleted service's widget numbers and secret go with it, in the same txn. */
	if (!rc)
		rc = store_widget_forget(t, id, e);
	if (!rc)
		rc = store_widget_key_put(t, id, NULL, NULL, e);
	if (!rc)
		rc = journal_change(t, STORE_CHANGE_DELETE, "delete", &rec, NULL, author, e);
	store_record_release(&rec);
	return rc;
}

static int journal_simple(struct store_txn *t, int kind, const char *author, const char *what,
                          const char *subject, const char *verb, struct err *e)
{
	char *msg = xasprintf("%s %s: %s", what, subject, verb);
	struct store_journal_entry en = {0};
	en.kind = kind;
	en.flags = STORE_JOURNAL_INVENTORY;
	en.author = (char *)author;
	en.message = msg;
	int rc = store_journal_append(t, &en, e);
	free(msg);
	return rc;
}

int store_ops_group_put(struct store_txn *t, const json_t *group, const char *author, struct err *e)
{
	int rc = store_group_put(t, group, e);
	if (rc)
		return rc;
	return journal_simple(t, STORE_CHANGE_GROUP, author, "group",
	                      json_string_value(json_object_get(group, "name")), "updated", e);
}

int store_ops_group_delete(struct store_txn *t, const char *name, const char *author, struct err *e)
{
	int rc = store_group_del(t, name, e);
	if (rc)
		return rc;
	return journal_simple(t, STORE_CHANGE_GROUP, author, "group", name, "deleted", e);
}

struct resynth {
	struct store_txn *t;
	const json_t *exposure;
	const char *author;
	int64_t now;
	struct store_record *changed;
	size_t n, alloc;
};

static int collect_resynth(const struct store_record *r, void *arg)
{
	struct resynth *rs = arg;
	struct store_record copy;
	store_record_copy(&copy, r);
	store_synthesize(&copy, rs->exposure);
	if (store_record_equal(r, &copy, STORE_FIELD_INVENTORY)) {
		store_record_release(&copy);
		return 0;
	}
	if (rs->n == rs->alloc) {
		rs->alloc = rs->alloc ? rs->alloc * 2 : 16;
		rs->changed = xrealloc(rs->changed, rs->alloc * 2 * sizeof(*rs->changed));
	}
	/* Pairs: before, after. */
	store_record_copy(&rs->changed[2 * rs->n], r);
	rs->changed[2 * rs->n + 1] = copy;
	rs->n++;
	return 0;
}

int store_ops_exposure_put(struct store_txn *t, const json_t *exposure, const char *author,
                           int64_t now, struct err *e)
{
	int rc = store_setting_put(t, "exposure", exposure, e);
	if (!rc)
		rc = journal_simple(t, STORE_CHANGE_SETTINGS, author, "settings", "exposure",
		                    "updated", e);
	if (rc)
		return rc;
	struct resynth rs = {t, exposure, author, now, NULL, 0, 0};
	/* Collect first: LMDB cursors must not see their own writes mid-walk. */
	rc = store_db_foreach(t, collect_resynth, &rs, e);
	for (size_t i = 0; i < rs.n; i++) {
		struct store_record *after = &rs.changed[2 * i + 1];
		after->last_updated = now;
		if (!rc)
			rc = store_db_put(t, after, e);
		if (!rc)
			rc = journal_change(t, STORE_CHANGE_SETTINGS, "exposure",
			                    &rs.changed[2 * i], after, author, e);
		store_record_release(&rs.changed[2 * i]);
		store_record_release(after);
	}
	free(rs.changed);
	return rc;
}

/* --- restoring a past version -------------------------------------------- */

struct current {
	struct store_record *v;
	size_t n, alloc;
};

static int collect_current(const struct store_record *r, void *arg)
{
	struct current *c = arg;
	if (c->n == c->alloc) {
		c->alloc = c->alloc ? 2 * c->alloc : 64;
		c->v = xrealloc(c->v, c->alloc * sizeof(*c->v));
	}
	store_record_copy(&c->v[c->n++], r);
	return 0;
}

/* "host NUL name" -> index, for matching by identity. */
static json_t *identity_index(const struct store_record *v, size_t n)
{
	json_t *idx = json_object();
	for (size_t i = 0; i < n; i++) {
		char *key =
		    xasprintf("%s/%zu/%s", v[i].host, strlen(v[i].host), v[i].container_name);
		json_object_set_new(idx, key, json_integer((json_int_t)i));
		free(key);
	}
	return idx;
}

static json_int_t find_identity(const json_t *idx, const struct store_record *r)
{
	char *key = xasprintf("%s/%zu/%s", r->host, strlen(r->host), r->container_name);
	const json_t *v = json_object_get(idx, key);
	free(key);
	return v ? json_integer_value(v) : -1;
}

static int restore_groups(struct store_txn *t, const json_t *want, const char *author,
                          struct err *e)
{
	json_t *have = store_group_list(t), *g;
	size_t i;
	int rc = 0;
	json_array_foreach (have, i, g) {
		const char *name = json_string_value(json_object_get(g, "name"));
		int keep = 0;
		size_t j;
		json_t *w;
		json_array_foreach (want, j, w)
			keep |= !strcmp(name, json_string_value(json_object_get(w, "name")));
		if (!keep && (rc = store_ops_group_delete(t, name, author, e)))
			break;
	}
	json_array_foreach (want, i, g) {
		int same = 0;
		size_t j;
		json_t *h;
		json_array_foreach (have, j, h)
			same |= json_equal(h, g);
		if (!rc && !same)
			rc = store_ops_group_put(t, g, author, e);
	}
	json_decref(have);
	return rc;
}

/* Give the service cur the inventory of then (live state, id kept); journal it when it changed. */
static int restore_one(struct store_txn *t, const struct store_record *cur,
                       const struct store_record *then, const char *verb, const char *author,
                       int64_t now, size_t *changed, struct err *e)
{
	struct store_record rec;
	store_record_copy(&rec, then);
	rec.id = cur->id;
	store_set_str(&rec.container_id, cur->container_id);
	store_set_str(&rec.docker_status, cur->docker_status);
	store_set_str(&rec.started_at, cur->started_at);
	rec.last_api_update = cur->last_api_update;
	rec.last_updated = cur->last_updated;
	int rc = 0;
	if (!store_record_equal(cur, &rec, STORE_FIELD_INVENTORY)) {
		rec.last_updated = now;
		rc = widget_guard(t, cur, &rec, e);
		if (!rc)
			rc = store_db_put(t, &rec, e);
		if (!rc)
			rc = journal_change(t, STORE_CHANGE_EDIT, verb, cur, &rec, author, e);
		(*changed)++;
	}
	store_record_release(&rec);
	return rc;
}

static int recreate_one(struct store_txn *t, const struct store_record *then, const char *verb,
                        const char *author, int64_t now, struct err *e)
{
	struct store_record rec, other;
	store_record_copy(&rec, then);
	store_record_init(&other);
	int rc = 0;
	/* its old id when nobody has it now (a file without one: a new id) */
	if (!rec.id || !store_db_get(t, rec.id, &other, NULL))
		rc = store_db_next_id(t, &rec.id, e);
	else
		rc = store_db_reserve_id(t, rec.id, e);
	rec.last_updated = now;
	if (!rc)
		rc = store_db_put(t, &rec, e);
	if (!rc)
		rc = journal_change(t, STORE_CHANGE_ADD, verb, NULL, &rec, author, e);
	store_record_release(&other);
	store_record_release(&rec);
	return rc;
}

int store_ops_restore(struct store_txn *t, const struct store_repo *repo, const char *author,
                      int64_t now, size_t *changed, struct err *e)
{
	struct current cur = {0};
	size_t n = 0;
	json_t *exposure = repo->exposure ? json_incref(repo->exposure) : json_object();
	json_t *groups = repo->groups ? json_incref(repo->groups) : json_array();
	json_t *then_idx = identity_index(repo->services, repo->n), *cur_idx = NULL;
	int rc = 0;
	/* exposure first: its re-synthesis is then overwritten by the version's own URLs */
	if (!json_equal(exposure, store_db_exposure(t)))
		rc = store_ops_exposure_put(t, exposure, author, now, e);
	if (!rc)
		rc = restore_groups(t, groups, author, e);
	if (!rc)
		rc = store_db_foreach(t, collect_current, &cur, e);
	for (size_t i = 0; !rc && i < cur.n; i++) /* deletions before re-creations: names free up */
		if (find_identity(then_idx, &cur.v[i]) < 0) {
			rc = store_ops_delete(t, cur.v[i].id, author, e);
			n++;
		}
	if (!rc)
		cur_idx = identity_index(cur.v, cur.n);
	for (size_t i = 0; !rc && i < repo->n; i++) {
		json_int_t k = find_identity(cur_idx, &repo->services[i]);
		if (k >= 0) {
			rc = restore_one(t, &cur.v[k], &repo->services[i], "restore", author, now,
			                 &n, e);
		} else {
			rc = recreate_one(t, &repo->services[i], "restore", author, now, e);
			n++;
		}
	}
	for (size_t i = 0; i < cur.n; i++)
		store_record_release(&cur.v[i]);
	free(cur.v);
	json_decref(cur_idx);
	json_decref(then_idx);
	json_decref(groups);
	json_decref(exposure);
	if (!rc && changed)
		*changed = n;
	return rc;
}

int store_ops_put_inventory(struct store_txn *t, const struct store_record *cur,
                            const struct store_record *then, const char *verb, const char *author,
                            int64_t now, size_t *changed, struct err *e)
{
	if (cur)
		return restore_one(t, cur, then, verb, author, now, changed, e);
	(*changed)++;
	return recreate_one(t, then, verb, author, now, e);
}

int store_ops_groups_replace(struct store_txn *t, const json_t *groups, const char *author,
                             struct err *e)
{
	return restore_groups(t, groups, author, e);
}

/* --- restoring an STD backup ----------------------------------------------- */

#define FIELD_PTR(r, f, T)  ((T *)((char *)(r) + (f)->offset))
#define FIELD_CPTR(r, f, T) ((const T *)((const char *)(r) + (f)->offset))

static int str_same(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

/* Copy the fields src->present names from src->rec onto rec. */
static void apply_std_fields(struct store_record *rec, const struct store_std_record *src)
{
	for (size_t i = 0; i < store_nfields; i++) {
		const struct store_field *f = &store_fields[i];
		if (!(src->present & ((uint64_t)1 << i)))
			continue;
		switch (f->type) {
		case STORE_FT_STR:
		case STORE_FT_TEXT:
		case STORE_FT_JSON:
			store_set_str(FIELD_PTR(rec, f, char *), *FIELD_CPTR(&src->rec, f, char *));
			break;
		case STORE_FT_OPT_INT:
			*FIELD_PTR(rec, f, struct store_opt_int) =
			    *FIELD_CPTR(&src->rec, f, struct store_opt_int);
			break;
		case STORE_FT_BOOL:
		case STORE_FT_URL_SRC:
		case STORE_FT_ICON_SRC:
			*FIELD_PTR(rec, f, int) = *FIELD_CPTR(&src->rec, f, int);
			break;
		case STORE_FT_TIME:
			break; /* live: never restored */
		}
	}
}

/*
 * Who chose a restored icon is not in the file: one that matches what
 * portolan would derive is "derived", any other counts as the notifier's
 * (a later register may replace it, an operator's edit still pins it).
 */
static void std_icon_source(struct store_record *rec, const struct store_record *before)
{
	if (before && str_same(before->image_icon, rec->image_icon)) {
		rec->image_icon_source = before->image_icon_source;
		return;
	}
	char *derived = store_derive_icon(rec->image_name, rec->container_name);
	rec->image_icon_source = !rec->image_icon                     ? STORE_ICON_NONE
	                         : str_same(derived, rec->image_icon) ? STORE_ICON_DERIVED
	                                                              : STORE_ICON_NOTIFIER;
	free(derived);
}

static int std_skip(const struct store_std_record *r, int scope, const json_t *seen,
                    const struct store_record *cur, int exists, const char **reason)
{
	int is_static =
	    (r->present & ((uint64_t)1 << (store_field_find("is_static") - store_fields)))
	        ? r->rec.is_static
	        : 0;
	if (!r->rec.host)
		*reason = "no host";
	else if (!r->rec.container_name)
		*reason = "no container_name";
	else if (find_identity(seen, &r->rec) >= 0)
		*reason = "duplicate of an earlier record";
	else if (scope == STORE_STD_SCOPE_STATIC && !is_static)
		*reason = "not static (scope static)";
	else if (exists && cur->is_static && !is_static)
		*reason = "locked";
	else
		*reason = NULL;
	return *reason != NULL;
}

/* Apply record r; res gets its outcome. */
static int std_restore_one(struct store_txn *t, const struct store_std_record *r, int scope,
                           json_t *seen, const char *verb, const char *author, int64_t now,
                           struct store_std_result *res, struct err *e)
{
	struct store_record rec, before;
	store_record_init(&rec);
	store_record_init(&before);
	uint64_t id = 0;
	int exists = r->rec.host && r->rec.container_name &&
	             !store_db_find(t, r->rec.host, r->rec.container_name, &id, NULL);
	int rc = exists ? store_db_get(t, id, &before, e) : 0;
	res->line = r->line;
	res->host = r->rec.host ? xstrdup(r->rec.host) : NULL;
	res->container_name = r->rec.container_name ? xstrdup(r->rec.container_name) : NULL;
	if (rc || std_skip(r, scope, seen, &before, exists, &res->reason)) {
		res->outcome = STORE_STD_SKIPPED;
		goto out;
	}
	char *key = xasprintf("%s/%zu/%s", r->rec.host, strlen(r->rec.host), r->rec.container_name);
	json_object_set_new(seen, key, json_integer(0));
	free(key);
	if (exists)
		store_record_copy(&rec, &before);
	else
		rc = store_db_next_id(t, &rec.id, e);
	if (rc)
		goto out;
	apply_std_fields(&rec, r);
	std_icon_source(&rec, exists ? &before : NULL);
	if (exists && store_record_equal(&before, &rec, STORE_FIELD_INVENTORY)) {
		res->outcome = STORE_STD_UNCHANGED;
		goto out;
	}
	rec.last_updated = now;
	res->outcome = exists ? STORE_STD_UPDATED : STORE_STD_CREATED;
	rc = exists ? widget_guard(t, &before, &rec, e) : 0;
	if (!rc)
		rc = store_db_put(t, &rec, e);
	if (!rc)
		rc = journal_change(t, exists ? STORE_CHANGE_EDIT : STORE_CHANGE_ADD, verb,
		                    exists ? &before : NULL, &rec, author, e);
out:
	store_record_release(&rec);
	store_record_release(&before);
	return rc;
}

int store_ops_std_restore(struct store_txn *t, const struct store_std_backup *b, int scope,
                          const char *author, int64_t now, struct store_std_report *report,
                          struct err *e)
{
	struct store_std_report rep;
	memset(&rep, 0, sizeof(rep));
	rep.v = xcalloc(b->n ? b->n : 1, sizeof(*rep.v));
	json_t *seen = json_object();
	/* journal_change writes "<verb> <host>/<name>: <changes>" */
	char *verb = xasprintf("restore from %s:", b->source ? b->source : "backup");
	int rc = 0;
	for (size_t i = 0; !rc && i < b->n; i++) {
		rc = std_restore_one(t, &b->v[i], scope, seen, verb, author, now, &rep.v[rep.n], e);
		rep.count[rep.v[rep.n].outcome]++;
		rep.n++;
	}
	free(verb);
	json_decref(seen);
	if (rc) {
		store_std_report_release(&rep);
		return rc;
	}
	*report = rep;
	return 0;
}
