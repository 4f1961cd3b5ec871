#include "ui_settings.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../common/buf.h"
#include "../common/xalloc.h"
#include "../render/model.h"
#include "../render/tmpl.h"
#include "../store/db.h"
#include "../store/history.h"
#include "../store/record.h"
#include "serve.h"
#include "settings.h"
#include "ui.h"
#include "ui_backup.h"
#include "ui_exposure.h"
#include "ui_restore.h"
#include "ui_groups.h"
#include "ui_users.h"
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

/* --- helpers, shared with the tab modules through ui_settings.h ---------------- */

/* A JSON value as text: strings as they are, numbers and booleans as words, lists as JSON. */
char *ui_settings_value_text(const json_t *v)
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

char *ui_settings_trimmed(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

int ui_settings_status_of(int rc)
{
	return rc == ERR_INVAL ? 400 : rc == ERR_EXISTS ? 409 : rc == ERR_NOTFOUND ? 404 : 500;
}

void ui_settings_set_error(json_t *errors, const char *field, const char *msg)
{
	if (!json_object_get(errors, field))
		json_object_set_new(errors, field, json_string(msg));
}

void ui_settings_redirect_done(struct http_response *res, const char *tab, const char *done)
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
	if (history_cache_log(d, INVENTORY_COMMITS, &commits, &e))
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
		json_object_set_new(c, "restorable", json_boolean(i > 0)); /* the newest is now */
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
		char *t = ui_settings_value_text(v);
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
	json_t *git = d->gitsync ? gitsync_status(d->gitsync) : json_object();
	json_object_set_new(git, "has_remote",
	                    json_boolean(json_is_string(json_object_get(git, "remote"))));
	return json_pack("{s:s,s:s,s:o,s:o}", "version", UI_VERSION, "build", UI_BUILD, "settings",
	                 rows, "git", git);
}

/* --- the page ------------------------------------------------------------------ */

static const char *done_message(const struct http_request *req, char *buf, size_t size)
{
	static const char *const msgs[][2] = {
	    {"group_added", "Group added."},
	    {"group_saved", "Group saved."},
	    {"group_renamed", "Group renamed."},
	    {"group_deleted", "Group deleted."},
	    {"user_added", "User added."},
	    {"password_set", "Password set."},
	    {"role_set", "Role changed."},
	    {"user_deleted", "User deleted."},
	    {"backup_saved", "Backup saved on the server."},
	};
	const char *done = http_query(req, "done");
	if (!done)
		return NULL;
	int exposure = !strcmp(done, "exposure");
	if (exposure || !strcmp(done, "restored")) {
		const char *c = http_query(req, "changed");
		size_t n = c ? strspn(c, "0123456789") : 0;
		if (!n || c[n] || n > 9)
			return exposure ? "Saved." : "Restored.";
		unsigned long k = strtoul(c, NULL, 10);
		snprintf(buf, size,
		         exposure ? "Saved: %lu service%s got new URLs."
		                  : "Restored: %lu service%s changed (as a new commit).",
		         k, k == 1 ? "" : "s");
		return buf;
	}
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
		if (!strcmp(done, msgs[i][0]))
			return msgs[i][1];
	return NULL;
}

static void page(struct daemon *d, struct http_response *res, int status, const struct auth_user *u,
                 const char *tab, const char *done, const struct ui_settings_failed *f,
                 const json_t *report)
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
		ui_backup_tab(d, section);
		if (report)
			json_object_set(section, "report", (json_t *)report);
	} else if (store_txn_begin(d->app.db, 0, &t, &e)) {
		json_object_set_new(ctx, "error", json_string(e.msg));
		status = 500;
	} else if (!strcmp(tab, "groups")) {
		section = ui_groups_tab(t, f);
	} else if (!strcmp(tab, "exposure")) {
		section = ui_exposure_tab(t, f);
	} else {
		section = ui_users_tab(t, u, f);
	}
	store_txn_abort(t);
	if (section)
		json_object_set_new(ctx, tab, section);
	ui_page(d, res, status, "Settings", "ui-settings", ctx, u);
}

void ui_settings_page(struct daemon *d, struct http_response *res, int status,
                      const struct auth_user *u, const char *tab, const char *done,
                      const struct ui_settings_failed *f)
{
	page(d, res, status, u, tab, done, f, NULL);
}

void ui_settings_page_report(struct daemon *d, struct http_response *res, const struct auth_user *u,
                             const json_t *report)
{
	page(d, res, 200, u, "inventory", NULL, NULL, report);
}

static void settings_get(struct daemon *d, const struct http_request *req,
                         struct http_response *res, const struct auth_user *u)
{
	const char *want = http_query(req, "tab"), *tab = "info";
	for (size_t i = 0; want && i < NTABS; i++)
		if (!strcmp(want, tab_ids[i][0]))
			tab = tab_ids[i][0];
	char buf[64];
	ui_settings_page(d, res, 200, u, tab, done_message(req, buf, sizeof(buf)), NULL);
}

/* --- /dbdump ------------------------------------------------------------------- */

/*
 * One <tr> of /dbdump, written straight into the page and escaped as the
 * template would: a JSON value per cell and a template loop over 36,000
 * cells took most of the page's time at 1,000 services.
 */
static int dump_one(const struct store_record *r, void *arg)
{
	struct buf *rows = arg, cell;
	buf_init(&cell, 0);
	buf_addf(rows, "<tr><td>%llu</td>", (unsigned long long)r->id);
	for (size_t i = 0; i < store_nfields; i++) {
		buf_reset(&cell);
		store_record_field_text(r, &store_fields[i], &cell);
		buf_adds(rows, "<td>");
		tmpl_escape_html(rows, cell.data, cell.len);
		buf_adds(rows, "</td>");
	}
	buf_adds(rows, "</tr>\n");
	buf_release(&cell);
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
	json_t *columns = json_array();
	json_array_append_new(columns, json_string("id"));
	for (size_t i = 0; i < store_nfields; i++)
		json_array_append_new(columns, json_string(store_fields[i].name));
	struct buf rows;
	buf_init(&rows, 0);
	size_t n = store_db_count(t);
	int rc = store_db_foreach(t, dump_one, &rows, &e);
	store_txn_abort(t);
	json_t *ctx = json_pack("{s:o,s:o,s:s%}", "count",
	                        json_sprintf("%zu service%s", n, n == 1 ? "" : "s"), "columns",
	                        columns, "rows_html", rows.data, rows.len);
	buf_release(&rows);
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
		int kind; /* 0 group, 1 user, 2 exposure, 3 inventory, 4 backups */
		int op;
	} posts[] = {
	    {"/settings/groups/add", 0, UI_GROUPS_ADD},
	    {"/settings/groups/edit", 0, UI_GROUPS_EDIT},
	    {"/settings/groups/rename", 0, UI_GROUPS_RENAME},
	    {"/settings/groups/delete", 0, UI_GROUPS_DELETE},
	    {"/settings/users/add", 1, UI_USERS_ADD},
	    {"/settings/users/password", 1, UI_USERS_PASSWORD},
	    {"/settings/users/role", 1, UI_USERS_ROLE},
	    {"/settings/users/delete", 1, UI_USERS_DELETE},
	    {"/settings/exposure", 2, 0},
	    {"/settings/inventory/restore", 3, 0},
	    {"/settings/inventory/backup/save", 4, UI_BACKUP_SAVE},
	    {"/settings/inventory/backup/restore", 4, UI_BACKUP_RESTORE},
	    {"/settings/inventory/backup/upload", 4, UI_BACKUP_UPLOAD},
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
	if (!strcmp(p, "/settings/inventory/backup")) {
		if (!get)
			not_allowed(res, "GET");
		else
			ui_backup_download(d, res, u);
		return;
	}
	for (size_t i = 0; i < sizeof(posts) / sizeof(posts[0]); i++) {
		if (strcmp(p, posts[i].path))
			continue;
		if (!post)
			not_allowed(res, "POST");
		else if (posts[i].kind == 0)
			ui_groups_post(d, req, res, u, (enum ui_groups_op)posts[i].op);
		else if (posts[i].kind == 1)
			ui_users_post(d, req, res, u, (enum ui_users_op)posts[i].op);
		else if (posts[i].kind == 2)
			ui_exposure_post(d, req, res, u);
		else if (posts[i].kind == 3)
			ui_restore_post(d, req, res, u);
		else
			ui_backup_post(d, req, res, u, (enum ui_backup_op)posts[i].op);
		return;
	}
	ui_page(d, res, 404, "Not found", "ui-message",
	        json_pack("{s:s}", "message", "There is no such settings page."), u);
}
