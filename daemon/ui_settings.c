#include "ui_settings.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "../common/buf.h"
#include "../common/log.h"
#include "../common/xalloc.h"
#include "../render/model.h"
#include "../store/db.h"
#include "../store/icons.h"
#include "../store/merge.h"
#include "../store/ops.h"
#include "../store/record.h"
#include "../store/users.h"
#include "../store/validate.h"
#include "form.h"
#include "serve.h"
#include "settings.h"
#include "../store/history.h"
#include "ui.h"
#include "../common/banned.h"

/* daemon/main.c's PORTOLAN_VERSION is private to it: keep the two in step. */
#define UI_VERSION "0.1.0"
/* Commits the Inventory tab lists. */
#define INVENTORY_COMMITS 50
#ifdef __clang__
#define UI_BUILD "built " __DATE__ " with " __VERSION__
#else
#define UI_BUILD "built " __DATE__ " with GCC " __VERSION__
#endif

static const char *const tab_ids[][2] = {
    {"info", "Info"},   {"groups", "Groups"},       {"exposure", "Exposure"},
    {"users", "Users"}, {"inventory", "Inventory"},
};
#define NTABS (sizeof(tab_ids) / sizeof(tab_ids[0]))

static const char *const directions[] = {"internal", "external", "neither"};

/*
 * A form that failed, shown again: row is the table row it belongs to (a
 * group or user name; NULL for the tab's add form), errors maps its field
 * names to messages, form is what was posted. error is for the whole tab;
 * exposure (exposure tab only) is what the form asked for, shown instead of
 * the stored settings.
 */
struct failed {
	const char *row;
	json_t *errors;
	const json_t *form;
	const char *error;
	const json_t *exposure;
};

static void settings_page(struct daemon *d, struct http_response *res, int status,
                          const struct auth_user *u, const char *tab, const char *done,
                          const struct failed *f);

/* --- small helpers ---------------------------------------------------------- */

/* A JSON value as text: strings as they are, numbers and booleans as words, lists as JSON. */
static char *value_text(const json_t *v)
{
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return xasprintf("%lld", (long long)json_integer_value(v));
	if (json_is_boolean(v))
		return xstrdup(json_is_true(v) ? "true" : "false");
	if (json_is_array(v) || json_is_object(v)) {
		char *s = json_dumps(v, JSON_COMPACT);
		return s ? s : xstrdup("");
	}
	return xstrdup("");
}

static char *trimmed(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

/* The form field `prefix` + i (rows of a table posted in one form). */
static const char *form_row(const json_t *form, const char *prefix, size_t i)
{
	char key[48];
	snprintf(key, sizeof(key), "%s%zu", prefix, i);
	return form_get(form, key);
}

/* A row count posted by our own form; 0 for anything else. */
static size_t form_count(const json_t *form, const char *name)
{
	const char *s = form_get(form, name);
	size_t n = strspn(s, "0123456789");
	if (!n || s[n] || n > 3)
		return 0;
	size_t v = (size_t)strtoul(s, NULL, 10);
	return v <= FORM_MAX_FIELDS ? v : 0;
}

/* The store's messages start with the field ("password: must be ..."): drop it beside the field. */
static const char *without_field(const char *msg)
{
	const char *p = strstr(msg, ": ");
	if (!p || p - msg > 16)
		return msg;
	for (const char *q = msg; q < p; q++)
		if (!islower((unsigned char)*q) && *q != '_')
			return msg;
	return p + 2;
}

static int status_of(int rc)
{
	return rc == ERR_INVAL ? 400 : rc == ERR_EXISTS ? 409 : rc == ERR_NOTFOUND ? 404 : 500;
}

static void set_error(json_t *errors, const char *field, const char *msg)
{
	if (!json_object_get(errors, field))
		json_object_set_new(errors, field, json_string(msg));
}

/* [{"v": "internal", "sel": true}, ...] for a direction select. */
static json_t *dir_options(const char *current)
{
	json_t *list = json_array();
	for (size_t i = 0; i < 3; i++)
		json_array_append_new(list, json_pack("{s:s,s:b}", "v", directions[i], "sel",
		                                      current && !strcmp(current, directions[i])));
	return list;
}

static void redirect_done(struct http_response *res, const char *tab, const char *done)
{
	char *to = xasprintf("/settings?tab=%s&done=%s", tab, done);
	ui_redirect(res, to);
	free(to);
}

static void not_allowed(struct http_response *res, const char *allow)
{
	res->status = 405;
	res->content_type = "text/plain; charset=utf-8";
	buf_adds(&res->body, "method not allowed\n");
	res->allow = xstrdup(allow);
}

/* --- Info --------------------------------------------------------------------- */

/* Inventory: the recent commits of the inventory repo, with the files each changed. */
static json_t *tab_inventory(struct daemon *d)
{
	json_t *commits = NULL;
	struct err e = {0};
	if (store_history_log(d->app.repo, INVENTORY_COMMITS, &commits, &e))
		return json_pack("{s:s,s:s}", "repo", d->app.repo, "log_error", e.msg);
	json_t *c;
	size_t i;
	json_array_foreach (commits, i, c) {
		json_object_set_new(
		    c, "short", json_stringn(json_string_value(json_object_get(c, "commit")), 10));
		json_int_t more = json_integer_value(json_object_get(c, "nfiles")) -
		                  (json_int_t)json_array_size(json_object_get(c, "files"));
		if (more > 0)
			json_object_set_new(c, "more", json_integer(more));
	}
	return json_pack("{s:s,s:o}", "repo", d->app.repo, "commits", commits);
}

static json_t *tab_info(struct daemon *d)
{
	pthread_rwlock_rdlock(&d->settings_lock);
	json_t *all = settings_to_json(d->settings);
	pthread_rwlock_unlock(&d->settings_lock);
	json_t *rows = json_array();
	for (int k = 0; k < SETTINGS_NKEYS; k++) {
		const char *key = settings_key_name((enum settings_key)k);
		const json_t *s = json_object_get(all, key);
		const json_t *v = json_object_get(s, "value");
		char *t = value_text(v);
		json_array_append_new(
		    rows,
		    json_pack("{s:s,s:o,s:o,s:b,s:o}", "name", key, "env",
		              render_model_text(json_string_value(json_object_get(s, "env"))),
		              "value", render_model_text(t), "unset", !v || json_is_null(v),
		              "source",
		              render_model_text(json_string_value(json_object_get(s, "source")))));
		free(t);
	}
	json_decref(all);
	return json_pack("{s:s,s:s,s:o}", "version", UI_VERSION, "build", UI_BUILD, "settings",
	                 rows);
}

/* --- Groups -------------------------------------------------------------------- */

/* Services per group name, trimmed as the dashboards bucket them; "" counts the ungrouped. */
static int count_group(const struct store_record *r, void *arg)
{
	char *g = trimmed(r->group_name ? r->group_name : "");
	json_t *counts = arg;
	json_object_set_new(counts, g,
	                    json_integer(json_integer_value(json_object_get(counts, g)) + 1));
	free(g);
	return 0;
}

static json_t *group_counts(struct store_txn *t)
{
	json_t *counts = json_object();
	store_db_foreach(t, count_group, counts, NULL);
	return counts;
}

/* The stored group called name (new reference), or NULL. */
static json_t *group_find(struct store_txn *t, const char *name)
{
	json_t *groups = store_group_list(t), *g, *found = NULL;
	size_t i;
	json_array_foreach (groups, i, g) {
		const char *n = json_string_value(json_object_get(g, "name"));
		if (n && !strcmp(n, name)) {
			found = json_incref(g);
			break;
		}
	}
	json_decref(groups);
	return found;
}

/* A group row's form input: what was posted when this row's form failed, else stored. */
static json_t *row_input(const struct failed *f, int mine, const char *field, const char *stored)
{
	if (mine && json_object_get(f->form, field))
		return render_model_text(form_get(f->form, field));
	return render_model_text(stored);
}

static json_t *tab_groups(struct store_txn *t, const struct failed *f)
{
	json_t *counts = group_counts(t), *groups = store_group_list(t), *rows = json_array(), *g;
	size_t i;
	json_array_foreach (groups, i, g) {
		const char *name = json_string_value(json_object_get(g, "name"));
		if (!name)
			continue;
		const char *icon = json_string_value(json_object_get(g, "icon"));
		char *prio = value_text(json_object_get(g, "sort_priority"));
		json_int_t n = json_integer_value(json_object_get(counts, name));
		int mine = f && f->row && !strcmp(f->row, name);
		json_array_append_new(
		    rows,
		    json_pack("{s:I,s:o,s:o,s:o,s:I,s:b,s:b,s:o,s:o,s:o,s:o}", "n", (json_int_t)i,
		              "name", render_model_text(name), "icon", render_model_text(icon),
		              "prio", render_model_text(prio), "services", n, "defined", 1, "open",
		              mine, "icon_in", row_input(f, mine, "icon", icon), "prio_in",
		              row_input(f, mine, "sort_priority", prio), "new_name_in",
		              row_input(f, mine, "new_name", name), "rerr",
		              mine ? json_incref(f->errors) : json_object()));
		json_object_del(counts, name);
		free(prio);
	}
	json_int_t ungrouped = json_integer_value(json_object_get(counts, ""));
	json_object_del(counts, "");
	/* Names services use that no group defines: shown, so they can be defined. */
	const char *name;
	json_t *n;
	json_object_foreach (counts, name, n)
		json_array_append_new(rows, json_pack("{s:o,s:s,s:s,s:O,s:b,s:b,s:o}", "name",
		                                      render_model_text(name), "icon", "", "prio",
		                                      "", "services", n, "defined", 0, "open", 0,
		                                      "rerr", json_object()));
	int add = f && !f->row;
	json_t *tab = json_pack("{s:o,s:I,s:{s:o,s:o,s:o,s:o}}", "rows", rows, "ungrouped",
	                        ungrouped, "add", "name_in", row_input(f, add, "name", ""),
	                        "icon_in", row_input(f, add, "icon", ""), "prio_in",
	                        row_input(f, add, "sort_priority", ""), "err",
	                        add ? json_incref(f->errors) : json_object());
	json_decref(groups);
	json_decref(counts);
	return tab;
}

enum group_op { GROUP_ADD, GROUP_EDIT, GROUP_RENAME, GROUP_DELETE };

struct group_job {
	enum group_op op;
	const char *name, *new_name, *icon, *author;
	json_t *prio;      /* integer or null */
	const char *field; /* set by apply_group: the field a refusal belongs to */
};

struct group_use {
	const char *name;
	size_t n;
};

static int count_use(const struct store_record *r, void *arg)
{
	struct group_use *gu = arg;
	char *g = trimmed(r->group_name ? r->group_name : "");
	gu->n += !strcmp(g, gu->name);
	free(g);
	return 0;
}

static int refuse(struct group_job *j, const char *field, struct err *e, int code, const char *msg)
{
	j->field = field;
	return err_set(e, code, "%s", msg);
}

static int apply_group(struct store_txn *t, void *ctx, struct err *e)
{
	struct group_job *j = ctx;
	json_t *old = group_find(t, j->name), *put = NULL;
	struct group_use gu = {j->name, 0};
	int rc = 0;
	if (j->op == GROUP_ADD && old) {
		rc = refuse(j, "name", e, ERR_EXISTS, "There is already a group with this name.");
		goto out;
	}
	if (j->op != GROUP_ADD && !old) {
		rc = err_set(e, ERR_NOTFOUND, "There is no group '%s' (deleted meanwhile?).",
		             j->name);
		goto out;
	}
	if (j->op == GROUP_ADD || j->op == GROUP_EDIT) {
		put = json_pack("{s:s}", "name", j->name);
		if (*j->icon)
			json_object_set_new(put, "icon", json_string(j->icon));
		if (!json_is_null(j->prio))
			json_object_set(put, "sort_priority", j->prio);
		rc = store_ops_group_put(t, put, j->author, e);
		goto out;
	}
	if ((rc = store_db_foreach(t, count_use, &gu, e)))
		goto out;
	const char *field = j->op == GROUP_RENAME ? "new_name" : "delete";
	if (gu.n) {
		char *msg =
		    xasprintf("%zu service%s in this group: move %s to another group first.", gu.n,
		              gu.n == 1 ? " is" : "s are", gu.n == 1 ? "it" : "them");
		rc = refuse(j, field, e, ERR_EXISTS, msg);
		free(msg);
		goto out;
	}
	if (j->op == GROUP_RENAME) {
		json_t *taken = group_find(t, j->new_name);
		int exists = taken != NULL;
		json_decref(taken);
		if (exists) {
			rc = refuse(j, field, e, ERR_EXISTS,
			            "There is already a group with this name.");
			goto out;
		}
		put = json_deep_copy(old);
		json_object_set_new(put, "name", json_string(j->new_name));
		rc = store_ops_group_put(t, put, j->author, e);
	}
	if (!rc)
		rc = store_ops_group_delete(t, j->name, j->author, e);
out:
	json_decref(put);
	json_decref(old);
	return rc;
}

static const char *group_name_problem(const char *name)
{
	if (!*name)
		return "A name is required.";
	if (strlen(name) > STORE_MAX_NAME)
		return "At most 255 bytes.";
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return "No control characters.";
	return NULL;
}

/* An optional integer: 0 with *out (null for empty), or -1. */
static int parse_prio(const char *s, json_t **out)
{
	if (!*s) {
		*out = json_null();
		return 0;
	}
	const char *p = s + (*s == '-' || *s == '+');
	size_t n = strspn(p, "0123456789");
	if (!n || p[n] || n > 9)
		return -1;
	*out = json_integer((json_int_t)strtoll(s, NULL, 10));
	return 0;
}

/* Check the fields of j's form into errors; j->prio gets the priority (null when empty or bad). */
static void group_check(struct group_job *j, const char *prio, json_t *errors)
{
	const char *p;
	j->prio = NULL;
	if (j->op == GROUP_ADD && (p = group_name_problem(j->name)))
		set_error(errors, "name", p);
	if (j->op == GROUP_RENAME && (p = group_name_problem(j->new_name)))
		set_error(errors, "new_name", p);
	else if (j->op == GROUP_RENAME && !strcmp(j->new_name, j->name))
		set_error(errors, "new_name", "This is the current name.");
	if (j->op == GROUP_ADD || j->op == GROUP_EDIT) {
		if (*j->icon && !store_icon_name_ok(j->icon))
			set_error(errors, "icon",
			          "A file name such as sonarr.svg or a bare name such as sonarr: "
			          "letters, digits, '.', '_' and '-'. Or empty.");
		if (parse_prio(prio, &j->prio))
			set_error(errors, "sort_priority",
			          "A whole number (at most 9 digits), or empty.");
	}
	if (!j->prio)
		j->prio = json_null();
}

static void groups_post(struct daemon *d, const struct http_request *req, struct http_response *res,
                        const struct auth_user *u, enum group_op op)
{
	static const char *const done[] = {"group_added", "group_saved", "group_renamed",
	                                   "group_deleted"};
	json_t *form = ui_form(d, req, res, u);
	if (!form || !ui_csrf_ok(d, res, form, u)) {
		json_decref(form);
		return;
	}
	char *name = trimmed(form_get(form, op == GROUP_ADD ? "name" : "group"));
	char *new_name = trimmed(form_get(form, "new_name"));
	char *icon = trimmed(form_get(form, "icon"));
	char *prio = trimmed(form_get(form, "sort_priority"));
	struct group_job j = {op, name, new_name, icon, u->name, NULL, NULL};
	json_t *errors = json_object();
	group_check(&j, prio, errors);
	struct err e = {0};
	int status = 400, rc = 0;
	if (!json_object_size(errors)) {
		if (!(rc = writer_submit(d->writer, apply_group, &j, &e))) {
			log_info("group '%s': %s%s%s by '%s'", name, done[op] + 6,
			         op == GROUP_RENAME ? " to " : "",
			         op == GROUP_RENAME ? new_name : "", u->name);
			if (*icon)
				icons_wake(d->icons);
			redirect_done(res, "groups", done[op]);
			goto out;
		}
		status = status_of(rc);
		if (j.field)
			set_error(errors, j.field, e.msg);
	}
	struct failed f = {op == GROUP_ADD ? NULL : name, errors, form,
	                   rc && !j.field ? e.msg : NULL, NULL};
	settings_page(d, res, status, u, "groups", NULL, &f);
out:
	json_decref(errors);
	json_decref(j.prio);
	json_decref(form);
	free(name);
	free(new_name);
	free(icon);
	free(prio);
}

/* --- Exposure ------------------------------------------------------------------ */

/* Layer names seen in observations, once each (case-insensitively, as the synthesizer matches). */
struct layers_seen {
	json_t *list; /* [{"name", "seen": services, "by": id + 1 of the last service counted}] */
};

static json_t *layer_entry(json_t *list, const char *name)
{
	json_t *l;
	size_t i;
	json_array_foreach (list, i, l)
		if (!strcasecmp(json_string_value(json_object_get(l, "name")), name))
			return l;
	return NULL;
}

static int see_layers(const struct store_record *r, void *arg)
{
	struct layers_seen *ls = arg;
	json_t *obs =
	    r->exposure_observations ? json_loads(r->exposure_observations, 0, NULL) : NULL;
	json_t *o;
	size_t i;
	json_array_foreach (obs, i, o) {
		const char *name = json_string_value(json_object_get(o, "layer"));
		if (!name || !*name)
			continue;
		json_t *l = layer_entry(ls->list, name);
		if (!l) {
			l = json_pack("{s:s,s:I,s:I}", "name", name, "seen", (json_int_t)0, "by",
			              (json_int_t)0);
			json_array_append_new(ls->list, l);
		}
		/* one per service, however many observations name the layer */
		if (json_integer_value(json_object_get(l, "by")) != (json_int_t)r->id + 1) {
			json_object_set_new(l, "by", json_integer((json_int_t)r->id + 1));
			json_object_set_new(
			    l, "seen",
			    json_integer(json_integer_value(json_object_get(l, "seen")) + 1));
		}
	}
	json_decref(obs);
	return 0;
}

static int see_host(const struct store_record *r, void *arg)
{
	if (r->host)
		json_object_set_new(arg, r->host, json_true());
	return 0;
}

static json_t *tab_exposure(struct store_txn *t, const struct failed *f)
{
	const json_t *shown = f && f->exposure ? f->exposure : store_db_exposure(t);
	const json_t *set = json_object_get(shown, "layers"),
	             *hosts = json_object_get(shown, "hosts");
	struct layers_seen ls = {json_array()};
	const char *key, *k2;
	json_t *v, *v2;
	/* the settings' own names first (exactly), then the others seen */
	json_object_foreach ((json_t *)set, key, v)
		json_array_append_new(ls.list,
		                      json_pack("{s:s,s:I}", "name", key, "seen", (json_int_t)0));
	store_db_foreach(t, see_layers, &ls, NULL);
	json_t *layers = json_array(), *names = json_array(), *l;
	size_t i;
	json_array_foreach (ls.list, i, l) {
		const char *name = json_string_value(json_object_get(l, "name"));
		json_array_append_new(
		    layers,
		    json_pack("{s:I,s:o,s:O,s:o}", "i", (json_int_t)i, "name",
		              render_model_text(name), "seen", json_object_get(l, "seen"), "dirs",
		              dir_options(store_exposure_direction(shown, NULL, name))));
		json_array_append_new(names, render_model_text(name));
	}
	json_t *host_set = json_object(), *overrides = json_array();
	store_db_foreach(t, see_host, host_set, NULL);
	size_t n = 0;
	json_object_foreach ((json_t *)hosts, key, v) {
		json_object_set_new(host_set, key, json_true());
		json_object_foreach (v, k2, v2)
			json_array_append_new(overrides,
			                      json_pack("{s:I,s:o,s:o,s:o}", "i", (json_int_t)n++,
			                                "host", render_model_text(key), "layer",
			                                render_model_text(k2), "dirs",
			                                dir_options(json_string_value(v2))));
	}
	const char *new_host = f ? form_get(f->form, "new_host") : "";
	json_t *host_opts = json_array();
	json_object_foreach (host_set, key, v)
		json_array_append_new(host_opts, json_pack("{s:o,s:b}", "v", render_model_text(key),
		                                           "sel", !strcmp(key, new_host)));
	json_t *tab =
	    json_pack("{s:o,s:I,s:o,s:I,s:o,s:{s:o,s:o,s:o},s:o}", "layers", layers, "nlayers",
	              (json_int_t)json_array_size(layers), "overrides", overrides, "noverrides",
	              (json_int_t)n, "layer_names", names, "new", "hosts", host_opts, "layer",
	              render_model_text(f ? form_get(f->form, "new_layer") : ""), "dirs",
	              dir_options(f ? form_get(f->form, "new_dir") : "internal"), "err",
	              f ? json_incref(f->errors) : json_object());
	json_decref(ls.list);
	json_decref(host_set);
	return tab;
}

static void set_override(json_t *hosts, const char *host, const char *layer, const char *dir)
{
	json_t *m = json_object_get(hosts, host);
	if (!m) {
		m = json_object();
		json_object_set_new(hosts, host, m);
	}
	json_object_set_new(m, layer, json_string(dir));
}

/*
 * The exposure settings the form asks for (not validated yet). A layer
 * left at "neither" is written only when the settings already name it:
 * "neither" is what an unnamed layer means anyway.
 */
static json_t *exposure_from_form(const json_t *form, const json_t *stored, json_t *errors)
{
	json_t *layers = json_object(), *hosts = json_object();
	const json_t *was = json_object_get(stored, "layers");
	size_t n = form_count(form, "nlayers");
	for (size_t i = 0; i < n; i++) {
		const char *name = form_row(form, "layer", i), *dir = form_row(form, "dir", i);
		if (*name && (strcmp(dir, "neither") || json_object_get(was, name)))
			json_object_set_new(layers, name, json_string(dir));
	}
	n = form_count(form, "noverrides");
	for (size_t i = 0; i < n; i++) {
		const char *host = form_row(form, "ohost", i), *layer = form_row(form, "olayer", i);
		if (*host && *layer && strcmp(form_row(form, "oremove", i), "1"))
			set_override(hosts, host, layer, form_row(form, "odir", i));
	}
	char *host = trimmed(form_get(form, "new_host")),
	     *layer = trimmed(form_get(form, "new_layer"));
	if (*host && !*layer)
		set_error(errors, "new_layer", "Name the layer this host treats differently.");
	else if (!*host && *layer)
		set_error(errors, "new_host", "Choose the host.");
	else if (*host)
		set_override(hosts, host, layer, form_get(form, "new_dir"));
	free(host);
	free(layer);
	return json_pack("{s:o,s:o}", "layers", layers, "hosts", hosts);
}

/* Validation problems: the new override's beside its field, the others in one line. */
static void exposure_problems(const struct store_verr *v, const json_t *form, json_t *errors,
                              struct buf *general)
{
	char *host = trimmed(form_get(form, "new_host")),
	     *layer = trimmed(form_get(form, "new_layer"));
	json_t *p;
	size_t i;
	json_array_foreach (v->details, i, p) {
		const json_t *loc = json_object_get(p, "loc");
		const char *msg = json_string_value(json_object_get(p, "msg"));
		const char *h = json_string_value(json_array_get(loc, 1));
		const char *l = json_string_value(json_array_get(loc, 2));
		if (h && l && !strcmp(h, host) && !strcmp(l, layer)) {
			set_error(errors, "new_layer", msg);
			continue;
		}
		char *where = store_loc_dotted(loc);
		buf_addf(general, "%s%s: %s", general->len ? "; " : "Not saved: ", where, msg);
		free(where);
	}
	free(host);
	free(layer);
}

struct url_snap {
	uint64_t id;
	char *in, *ex;
};

struct exposure_job {
	const json_t *exposure;
	const char *author;
	struct url_snap *snap;
	size_t n, alloc, next;
	size_t changed; /* services whose internal or external URL changed */
};

static int snap_urls(const struct store_record *r, void *arg)
{
	struct exposure_job *j = arg;
	if (j->n == j->alloc) {
		j->alloc = j->alloc ? 2 * j->alloc : 64;
		j->snap = xrealloc(j->snap, j->alloc * sizeof(*j->snap));
	}
	j->snap[j->n++] = (struct url_snap){r->id, r->internalurl ? xstrdup(r->internalurl) : NULL,
	                                    r->externalurl ? xstrdup(r->externalurl) : NULL};
	return 0;
}

static int same(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

/* Both walks are in id order, and the put adds or removes no service. */
static int diff_urls(const struct store_record *r, void *arg)
{
	struct exposure_job *j = arg;
	while (j->next < j->n && j->snap[j->next].id < r->id)
		j->next++;
	const struct url_snap *s = j->next < j->n ? &j->snap[j->next] : NULL;
	if (!s || s->id != r->id || !same(s->in, r->internalurl) || !same(s->ex, r->externalurl))
		j->changed++;
	return 0;
}

static int apply_exposure(struct store_txn *t, void *ctx, struct err *e)
{
	struct exposure_job *j = ctx;
	j->next = j->changed = 0;
	int rc = store_db_foreach(t, snap_urls, j, e);
	if (!rc)
		rc = store_ops_exposure_put(t, j->exposure, j->author, (int64_t)time(NULL), e);
	if (!rc)
		rc = store_db_foreach(t, diff_urls, j, e);
	for (size_t i = 0; i < j->n; i++) {
		free(j->snap[i].in);
		free(j->snap[i].ex);
	}
	free(j->snap);
	j->snap = NULL;
	j->n = j->alloc = 0;
	return rc;
}

static void exposure_post(struct daemon *d, const struct http_request *req,
                          struct http_response *res, const struct auth_user *u)
{
	json_t *form = ui_form(d, req, res, u);
	if (!form || !ui_csrf_ok(d, res, form, u)) {
		json_decref(form);
		return;
	}
	struct err e = {0};
	struct store_txn *t = NULL;
	json_t *stored = NULL, *canon = NULL, *errors = json_object(), *want = NULL;
	struct store_verr v;
	store_verr_init(&v);
	struct buf general;
	buf_init(&general, 0);
	if (store_txn_begin(d->app.db, 0, &t, &e)) {
		ui_page(d, res, 500, "Error", "ui-message", json_pack("{s:s}", "message", e.msg),
		        u);
		goto out;
	}
	stored = json_deep_copy(store_db_exposure(t));
	store_txn_abort(t);
	want = exposure_from_form(form, stored, errors);
	if (!json_object_size(errors) && store_exposure_validate(want, &canon, &v))
		exposure_problems(&v, form, errors, &general);
	if (json_object_size(errors) || general.len) {
		struct failed f = {NULL, errors, form, general.len ? general.data : NULL, want};
		settings_page(d, res, 400, u, "exposure", NULL, &f);
		goto out;
	}
	struct exposure_job j = {canon, u->name, NULL, 0, 0, 0, 0};
	if (!json_equal(canon, stored)) {
		int rc = writer_submit(d->writer, apply_exposure, &j, &e);
		if (rc) {
			struct failed f = {NULL, errors, form, e.msg, want};
			settings_page(d, res, status_of(rc), u, "exposure", NULL, &f);
			goto out;
		}
		log_info("exposure settings saved by '%s': %zu services got new URLs", u->name,
		         j.changed);
		health_wake(d->health);
	}
	char *to = xasprintf("/settings?tab=exposure&done=exposure&changed=%zu", j.changed);
	ui_redirect(res, to);
	free(to);
out:
	buf_release(&general);
	store_verr_release(&v);
	json_decref(want);
	json_decref(canon);
	json_decref(stored);
	json_decref(errors);
	json_decref(form);
}

/* --- Users --------------------------------------------------------------------- */

static json_t *time_text(const json_t *v)
{
	json_int_t s = json_integer_value(v);
	char buf[32] = "never";
	if (s > 0)
		store_time_format((int64_t)s, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *role_options(const char *current)
{
	return json_pack("[{s:s,s:b},{s:s,s:b}]", "v", "admin", "sel", !strcmp(current, "admin"),
	                 "v", "viewer", "sel", !strcmp(current, "viewer"));
}

static json_t *tab_users(struct store_txn *t, const struct auth_user *u, const struct failed *f)
{
	json_t *users = store_user_list(t), *rows = json_array(), *x;
	size_t i;
	json_array_foreach (users, i, x) {
		const char *name = json_string_value(json_object_get(x, "name"));
		const char *role = json_string_value(json_object_get(x, "role"));
		int mine = f && f->row && !strcmp(f->row, name);
		const char *shown =
		    mine && *form_get(f->form, "role") ? form_get(f->form, "role") : role;
		json_array_append_new(
		    rows,
		    json_pack("{s:I,s:s,s:s,s:o,s:o,s:b,s:b,s:b,s:o,s:o}", "n", (json_int_t)i,
		              "name", name, "role", role, "created",
		              time_text(json_object_get(x, "created")), "last_login",
		              time_text(json_object_get(x, "last_login")), "must_change",
		              json_is_true(json_object_get(x, "must_change_password")), "self",
		              !strcmp(name, u->name), "open", mine, "roles", role_options(shown),
		              "rerr", mine ? json_incref(f->errors) : json_object()));
	}
	json_decref(users);
	int add = f && !f->row;
	const char *role = add && *form_get(f->form, "role") ? form_get(f->form, "role") : "viewer";
	return json_pack("{s:o,s:{s:o,s:o,s:o}}", "rows", rows, "add", "name_in",
	                 render_model_text(add ? form_get(f->form, "name") : ""), "roles",
	                 role_options(role), "err", add ? json_incref(f->errors) : json_object());
}

enum user_op { USER_ADD, USER_PASSWORD, USER_ROLE, USER_DELETE };

struct user_job {
	enum user_op op;
	const char *name, *role, *password;
	struct auth_user *renew; /* the caller setting their own password: a fresh session */
};

static int apply_user(struct store_txn *t, void *ctx, struct err *e)
{
	struct user_job *j = ctx;
	int64_t now = (int64_t)time(NULL);
	int rc;
	switch (j->op) {
	case USER_ADD:
		return store_user_add(t, j->name, j->role, j->password, 0, now, e);
	case USER_PASSWORD:
		rc = store_user_set_password(t, j->name, j->password, now, e);
		if (!rc && j->renew)
			rc = store_session_create(t, j->name, now, j->renew->token, j->renew->csrf,
			                          e);
		return rc;
	case USER_ROLE:
		return store_user_set_role(t, j->name, j->role, e);
	default:
		return store_user_del(t, j->name, e);
	}
}

/* Check the fields of j's form into errors. */
static void user_check(const struct user_job *j, const json_t *form, json_t *errors)
{
	struct err e = {0};
	if (j->op == USER_ADD && store_user_check_name(j->name, &e))
		set_error(errors, "name", without_field(e.msg));
	if ((j->op == USER_ADD || j->op == USER_ROLE) && store_user_check_role(j->role, &e))
		set_error(errors, "role", without_field(e.msg));
	if (j->op != USER_ADD && j->op != USER_PASSWORD)
		return;
	if (store_user_check_password(j->password, &e))
		set_error(errors, "password", without_field(e.msg));
	else if (strcmp(j->password, form_get(form, "confirm_password")))
		set_error(errors, "confirm_password", "The two passwords differ.");
}

static void users_post(struct daemon *d, const struct http_request *req, struct http_response *res,
                       const struct auth_user *u, enum user_op op)
{
	static const char *const done[] = {"user_added", "password_set", "role_set",
	                                   "user_deleted"};
	static const char *const verbs[] = {"added", "password set", "role changed", "deleted"};
	static const char *const refused_at[] = {"name", "password", "role", "delete"};
	json_t *form = ui_form(d, req, res, u);
	if (!form || !ui_csrf_ok(d, res, form, u)) {
		json_decref(form);
		return;
	}
	struct auth_user fresh = *u;
	const char *name = form_get(form, op == USER_ADD ? "name" : "user");
	int self = !strcmp(name, u->name);
	struct user_job j = {op, name, form_get(form, "role"), form_get(form, "password"),
	                     op == USER_PASSWORD && self ? &fresh : NULL};
	json_t *errors = json_object();
	user_check(&j, form, errors);
	struct err e = {0};
	int status = 400, rc = 0;
	if (!json_object_size(errors)) {
		if (!(rc = writer_submit(d->writer, apply_user, &j, &e))) {
			log_info("user '%s': %s by '%s'", name, verbs[op], u->name);
			if (op == USER_DELETE && self) {
				auth_cookie(req, res, NULL);
				ui_redirect(res, "/login");
			} else if (op == USER_ROLE && self && strcmp(j.role, "admin")) {
				ui_redirect(res, "/"); /* no longer allowed here */
			} else {
				if (j.renew)
					auth_cookie(req, res, fresh.token);
				redirect_done(res, "users", done[op]);
			}
			goto out;
		}
		/* input was checked: ERR_INVAL here is the last-admin rule, a conflict */
		status = rc == ERR_INVAL ? 409 : status_of(rc);
		if (rc == ERR_EXISTS || rc == ERR_INVAL)
			set_error(errors, refused_at[op], without_field(e.msg));
	}
	struct failed f = {op == USER_ADD ? NULL : name, errors, form,
	                   rc && !json_object_size(errors) ? e.msg : NULL, NULL};
	settings_page(d, res, status, u, "users", NULL, &f);
out:
	json_decref(errors);
	json_decref(form);
}

/* --- the page ------------------------------------------------------------------ */

static const char *done_message(const struct http_request *req, char *buf, size_t size)
{
	static const char *const msgs[][2] = {
	    {"group_added", "Group added."},     {"group_saved", "Group saved."},
	    {"group_renamed", "Group renamed."}, {"group_deleted", "Group deleted."},
	    {"user_added", "User added."},       {"password_set", "Password set."},
	    {"role_set", "Role changed."},       {"user_deleted", "User deleted."},
	};
	const char *done = http_query(req, "done");
	if (!done)
		return NULL;
	if (!strcmp(done, "exposure")) {
		const char *c = http_query(req, "changed");
		size_t n = c ? strspn(c, "0123456789") : 0;
		if (!n || c[n] || n > 9)
			return "Saved.";
		unsigned long k = strtoul(c, NULL, 10);
		snprintf(buf, size, "Saved: %lu service%s got new URLs.", k, k == 1 ? "" : "s");
		return buf;
	}
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
		if (!strcmp(done, msgs[i][0]))
			return msgs[i][1];
	return NULL;
}

static void settings_page(struct daemon *d, struct http_response *res, int status,
                          const struct auth_user *u, const char *tab, const char *done,
                          const struct failed *f)
{
	json_t *tabs = json_array();
	for (size_t i = 0; i < NTABS; i++)
		json_array_append_new(tabs, json_pack("{s:s,s:s,s:s+,s:b}", "id", tab_ids[i][0],
		                                      "label", tab_ids[i][1], "href",
		                                      "/settings?tab=", tab_ids[i][0], "current",
		                                      !strcmp(tab, tab_ids[i][0])));
	json_t *ctx = json_pack("{s:s,s:o,s:s?,s:s?}", "csrf", u->csrf, "tabs", tabs, "done", done,
	                        "error", f ? f->error : NULL);
	struct store_txn *t = NULL;
	struct err e = {0};
	json_t *section = NULL;
	if (!strcmp(tab, "info")) {
		section = tab_info(d);
	} else if (!strcmp(tab, "inventory")) {
		section = tab_inventory(d);
	} else if (store_txn_begin(d->app.db, 0, &t, &e)) {
		json_object_set_new(ctx, "error", json_string(e.msg));
		status = 500;
	} else if (!strcmp(tab, "groups")) {
		section = tab_groups(t, f);
	} else if (!strcmp(tab, "exposure")) {
		section = tab_exposure(t, f);
	} else {
		section = tab_users(t, u, f);
	}
	store_txn_abort(t);
	if (section)
		json_object_set_new(ctx, tab, section);
	ui_page(d, res, status, "Settings", "ui-settings", ctx, u);
}

static void settings_get(struct daemon *d, const struct http_request *req,
                         struct http_response *res, const struct auth_user *u)
{
	const char *want = http_query(req, "tab"), *tab = "info";
	for (size_t i = 0; want && i < NTABS; i++)
		if (!strcmp(want, tab_ids[i][0]))
			tab = tab_ids[i][0];
	char buf[64];
	settings_page(d, res, 200, u, tab, done_message(req, buf, sizeof(buf)), NULL);
}

/* --- /dbdump ------------------------------------------------------------------- */

static int dump_one(const struct store_record *r, void *arg)
{
	json_t *rec = store_record_to_json(r, STORE_FIELD_INVENTORY | STORE_FIELD_LIVE);
	json_t *cells = json_array();
	char id[24];
	snprintf(id, sizeof(id), "%llu", (unsigned long long)r->id);
	json_array_append_new(cells, json_string(id));
	for (size_t i = 0; i < store_nfields; i++) {
		char *s = value_text(json_object_get(rec, store_fields[i].name));
		json_array_append_new(cells, render_model_text(s));
		free(s);
	}
	json_array_append_new(arg, json_pack("{s:o}", "cells", cells));
	json_decref(rec);
	return 0;
}

static void dbdump(struct daemon *d, struct http_response *res, const struct auth_user *u)
{
	struct store_txn *t = NULL;
	struct err e = {0};
	if (store_txn_begin(d->app.db, 0, &t, &e)) {
		ui_page(d, res, 500, "Error", "ui-message", json_pack("{s:s}", "message", e.msg),
		        u);
		return;
	}
	json_t *columns = json_array(), *rows = json_array();
	json_array_append_new(columns, json_string("id"));
	for (size_t i = 0; i < store_nfields; i++)
		json_array_append_new(columns, json_string(store_fields[i].name));
	int rc = store_db_foreach(t, dump_one, rows, &e);
	store_txn_abort(t);
	size_t n = json_array_size(rows);
	json_t *ctx =
	    json_pack("{s:o,s:o,s:o}", "count", json_sprintf("%zu service%s", n, n == 1 ? "" : "s"),
	              "columns", columns, "rows", rows);
	if (rc)
		json_object_set_new(ctx, "error", json_string(e.msg));
	ui_page(d, res, rc ? 500 : 200, "Database dump", "ui-dbdump", ctx, u);
}

/* --- routing ------------------------------------------------------------------- */

void ui_settings_handle(struct daemon *d, const struct http_request *req, struct http_response *res,
                        const struct auth_user *u)
{
	static const struct {
		const char *path;
		int kind; /* 0 group, 1 user, 2 exposure */
		int op;
	} posts[] = {
	    {"/settings/groups/add", 0, GROUP_ADD},
	    {"/settings/groups/edit", 0, GROUP_EDIT},
	    {"/settings/groups/rename", 0, GROUP_RENAME},
	    {"/settings/groups/delete", 0, GROUP_DELETE},
	    {"/settings/users/add", 1, USER_ADD},
	    {"/settings/users/password", 1, USER_PASSWORD},
	    {"/settings/users/role", 1, USER_ROLE},
	    {"/settings/users/delete", 1, USER_DELETE},
	    {"/settings/exposure", 2, 0},
	};
	const char *p = req->path;
	int get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
	int post = !strcmp(req->method, "POST");
	if (!strcmp(p, "/dbdump") || !strcmp(p, "/settings")) {
		if (!get)
			not_allowed(res, "GET");
		else if (p[1] == 'd')
			dbdump(d, res, u);
		else
			settings_get(d, req, res, u);
		return;
	}
	for (size_t i = 0; i < sizeof(posts) / sizeof(posts[0]); i++) {
		if (strcmp(p, posts[i].path))
			continue;
		if (!post)
			not_allowed(res, "POST");
		else if (posts[i].kind == 0)
			groups_post(d, req, res, u, (enum group_op)posts[i].op);
		else if (posts[i].kind == 1)
			users_post(d, req, res, u, (enum user_op)posts[i].op);
		else
			exposure_post(d, req, res, u);
		return;
	}
	ui_page(d, res, 404, "Not found", "ui-message",
	        json_pack("{s:s}", "message", "There is no such settings page."), u);
}
