#include "import.h"

#include <stdlib.h>
#include <string.h>

#include "../common/xalloc.h"
#include "merge.h"
#include "mirror.h"
#include "ops.h"
#include "repo.h"
#include "yaml.h"
#include "../common/banned.h"

/* A service file's base version larger than this is not read (it was never ours). */
#define BASE_FILE_MAX (1024 * 1024)

/* One service file the outside changed. */
struct change {
	const struct store_record *then; /* in rev (in theirs), or NULL: deleted */
	struct store_record base;        /* in base, valid when has_base */
	int has_base;
};

struct store_import {
	char rev[STORE_GIT_HEX_SIZE];
	char *author;
	struct store_repo theirs;
	struct change *v;
	size_t n;
	int groups_changed, exposure_changed;
};

struct plan_ctx {
	struct store_import *p;
	struct store_git *g;
	const char *base;
	struct err *e;
};

static const struct store_record *theirs_at(const struct store_repo *r, const char *path)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->paths[i], path))
			return &r->services[i];
	return NULL;
}

static int is_service_path(const char *path)
{
	size_t n = strlen(path);
	return !strncmp(path, "services/", 9) && n > 13 && !strcmp(path + n - 4, ".yml");
}

static int plan_path(const char *path, int exists, void *arg)
{
	struct plan_ctx *c = arg;
	struct store_import *p = c->p;
	if (!strcmp(path, STORE_GROUPS_FILE)) {
		p->groups_changed = 1;
		return 0;
	}
	if (!strcmp(path, STORE_EXPOSURE_FILE)) {
		p->exposure_changed = 1;
		return 0;
	}
	if (!is_service_path(path))
		return 0; /* not inventory: a README, a .gitignore */
	p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
	struct change *ch = &p->v[p->n++];
	memset(ch, 0, sizeof(*ch));
	store_record_init(&ch->base);
	ch->then = exists ? theirs_at(&p->theirs, path) : NULL;
	if (!*c->base)
		return 0;
	struct buf bytes;
	buf_init(&bytes, 0);
	/* The base version was valid when it was made; if it no longer parses, it counts as absent.
	 */
	if (!store_git_read_file(c->g, c->base, path, BASE_FILE_MAX, &bytes, NULL) &&
	    !store_yaml_parse_record(&ch->base, bytes.data, bytes.len, path, NULL))
		ch->has_base = 1;
	buf_release(&bytes);
	return 0;
}

/* A rename shows as a deletion plus an addition: pair them by id so the service keeps its state. */
static void pair_renames(struct store_import *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct change *add = &p->v[i];
		if (!add->then || add->has_base || !add->then->id)
			continue;
		for (size_t j = 0; j < p->n; j++) {
			struct change *del = &p->v[j];
			if (del->then || !del->has_base || del->base.id != add->then->id)
				continue;
			add->base = del->base;
			add->has_base = 1;
			store_record_init(&del->base);
			del->has_base = 0; /* nothing left to delete */
			break;
		}
	}
}

int store_import_plan(struct store_import **out, struct store_git *g, const char *base,
                      const char *rev, struct buf *problems, struct err *e)
{
	struct store_import *p = xcalloc(1, sizeof(*p));
	int rc = 0;
	if ((rc = store_git_resolve(g, rev, p->rev, e)) ||
	    (rc = store_git_commit_info(g, p->rev, &p->author, NULL, e)) ||
	    (rc = store_repo_load_commit(&p->theirs, store_git_workdir(g), p->rev, problems, e)))
		goto out;
	struct plan_ctx c = {p, g, base ? base : "", e};
	rc = store_git_diff_paths(g, c.base, p->rev, plan_path, &c, e);
	if (!rc)
		pair_renames(p);
out:
	if (rc) {
		store_import_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void store_import_free(struct store_import *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		store_record_release(&p->v[i].base);
	free(p->v);
	store_repo_release(&p->theirs);
	free(p->author);
	free(p);
}

size_t store_import_nfiles(const struct store_import *p)
{
	return p->n + (size_t)p->groups_changed + (size_t)p->exposure_changed;
}

const char *store_import_rev(const struct store_import *p)
{
	return p->rev;
}

const char *store_import_author(const struct store_import *p)
{
	return p->author;
}

/* --- the three-way merge of one record ----------------------------------- */

/* Fields an operator owns: on a conflict the outside (an operator's commit) wins. */
static int operator_owned(const char *name)
{
	static const char *const names[] = {
	    "host",
	    "container_name",
	    "internalurl",
	    "internalurl_source",
	    "externalurl",
	    "externalurl_source",
	    "group_name",
	    "sort_priority",
	    "image_icon",
	    "image_icon_source",
	    "notes",
	    "is_static",
	    "internal_health_check_enabled",
	    "external_health_check_enabled",
	    "health_check_timeout",
	    "widget",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (!strcmp(name, names[i]))
			return 1;
	return 0;
}

static int field_equal(const struct store_record *a, const struct store_record *b,
                       const struct store_field *f, struct buf *x, struct buf *y)
{
	buf_reset(x);
	buf_reset(y);
	store_record_field_text(a, f, x);
	store_record_field_text(b, f, y);
	return x->len == y->len && !memcmp(x->data, y->data, x->len);
}

static void field_copy(struct store_record *dst, const struct store_record *src,
                       const struct store_field *f)
{
	char *d = (char *)dst + f->offset;
	const char *s = (const char *)src + f->offset;
	switch (f->type) {
	case STORE_FT_STR:
	case STORE_FT_TEXT:
	case STORE_FT_JSON:
		store_set_str((char **)d, *(char *const *)s);
		break;
	case STORE_FT_OPT_INT:
		memcpy(d, s, sizeof(struct store_opt_int));
		break;
	case STORE_FT_BOOL:
	case STORE_FT_URL_SRC:
	case STORE_FT_ICON_SRC:
		memcpy(d, s, sizeof(int));
		break;
	case STORE_FT_TIME:
		memcpy(d, s, sizeof(int64_t));
		break;
	}
}

static int str_differs(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a && strcmp(a, b));
}

/* out = cur with the outside's changes since base (NULL: none known) merged in. */
static void merge_record(struct store_record *out, const struct store_record *base,
                         const struct store_record *cur, const struct store_record *then)
{
	struct buf x, y;
	buf_init(&x, 0);
	buf_init(&y, 0);
	store_record_copy(out, cur);
	for (size_t i = 0; i < store_nfields; i++) {
		const struct store_field *f = &store_fields[i];
		if (f->kind != STORE_FIELD_INVENTORY)
			continue;
		int theirs_changed = !base || !field_equal(then, base, f, &x, &y);
		int ours_changed = !base || !field_equal(cur, base, f, &x, &y);
		if (theirs_changed && (!ours_changed || operator_owned(f->name)))
			field_copy(out, then, f);
	}
	/* An outside edit is an operator's: the same provenance as the web UI's. */
	if (str_differs(out->internalurl, cur->internalurl))
		out->internalurl_source = out->internalurl ? STORE_SRC_UI_EDIT : STORE_SRC_NONE;
	if (str_differs(out->externalurl, cur->externalurl))
		out->externalurl_source = out->externalurl ? STORE_SRC_UI_EDIT : STORE_SRC_NONE;
	if (str_differs(out->image_icon, cur->image_icon))
		out->image_icon_source = out->image_icon ? STORE_ICON_UI_EDIT : STORE_ICON_NONE;
	buf_release(&x);
	buf_release(&y);
}

/*
 * The store's record for a changed file: the service with the base
 * version's id (ids are never reused, so it is the same service even if
 * renamed since), else the one with the outside file's id if it still has
 * that file's identity, else by identity (outside, then base).
 */
static int find_current(struct store_txn *t, const struct change *ch, struct store_record *cur)
{
	uint64_t id;
	if (ch->has_base && ch->base.id && !store_db_get(t, ch->base.id, cur, NULL))
		return 1;
	if (ch->then && ch->then->id && !store_db_get(t, ch->then->id, cur, NULL)) {
		if (!strcmp(cur->host, ch->then->host) &&
		    !strcmp(cur->container_name, ch->then->container_name))
			return 1;
		store_record_release(cur);
	}
	const struct store_record *keys[2] = {ch->then, ch->has_base ? &ch->base : NULL};
	for (int k = 0; k < 2; k++)
		if (keys[k] &&
		    !store_db_find(t, keys[k]->host, keys[k]->container_name, &id, NULL) &&
		    !store_db_get(t, id, cur, NULL))
			return 1;
	return 0;
}

/* A new service from outside: its URLs and icon are an operator's choice. */
static void as_operator_choice(struct store_record *r)
{
	if (r->internalurl && r->internalurl_source == STORE_SRC_NONE)
		r->internalurl_source = STORE_SRC_UI_EDIT;
	if (r->externalurl && r->externalurl_source == STORE_SRC_NONE)
		r->externalurl_source = STORE_SRC_UI_EDIT;
	if (r->image_icon && r->image_icon_source == STORE_ICON_NONE)
		r->image_icon_source = STORE_ICON_UI_EDIT;
}

static int apply_change(struct store_txn *t, const struct change *ch, const char *author,
                        int64_t now, size_t *changed, struct err *e)
{
	struct store_record cur, merged;
	store_record_init(&cur);
	store_record_init(&merged);
	int found = find_current(t, ch, &cur), rc = 0;
	if (!ch->then) {
		if (found && ch->has_base) {
			rc = store_ops_delete(t, cur.id, author, e);
			(*changed)++;
		}
	} else if (found) {
		merge_record(&merged, ch->has_base ? &ch->base : NULL, &cur, ch->then);
		rc = store_ops_put_inventory(t, &cur, &merged, "import", author, now, changed, e);
	} else {
		store_record_copy(&merged, ch->then);
		as_operator_choice(&merged);
		rc = store_ops_put_inventory(t, NULL, &merged, "import", author, now, changed, e);
	}
	store_record_release(&merged);
	store_record_release(&cur);
	return rc;
}

int store_import_apply(struct store_txn *t, const struct store_import *p, int64_t now,
                       size_t *changed, struct err *e)
{
	size_t n = 0;
	int rc = 0;
	const char *author = p->author;
	if (p->exposure_changed) {
		json_t *want = p->theirs.exposure ? json_incref(p->theirs.exposure) : json_object();
		if (!json_equal(want, store_db_exposure(t))) {
			rc = store_ops_exposure_put(t, want, author, now, e);
			n++;
		}
		json_decref(want);
	}
	if (!rc && p->groups_changed) {
		json_t *want = p->theirs.groups ? json_incref(p->theirs.groups) : json_array();
		rc = store_ops_groups_replace(t, want, author, e);
		json_decref(want);
	}
	/* deletions first: a name an outside rename frees may be taken by another file */
	for (size_t i = 0; !rc && i < p->n; i++)
		if (!p->v[i].then)
			rc = apply_change(t, &p->v[i], author, now, &n, e);
	for (size_t i = 0; !rc && i < p->n; i++)
		if (p->v[i].then)
			rc = apply_change(t, &p->v[i], author, now, &n, e);
	if (!rc && changed)
		*changed = n;
	return rc;
}
