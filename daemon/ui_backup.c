#include "ui_backup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/buf.h"
#include "../common/fileio.h"
#include "../common/log.h"
#include "../common/xalloc.h"
#include "../render/model.h"
#include "../store/ops.h"
#include "../store/stdbackup.h"
#include "backup.h"
#include "form.h"
#include "serve.h"
#include "ui.h"
#include "ui_settings.h"
#include "../common/banned.h"

/* A server backup file bigger than this is not read (the upload limit is 1 MiB). */
#define SERVER_FILE_MAX (64u << 20)

void ui_backup_download(struct daemon *d, struct http_response *res, const struct auth_user *u)
{
	struct buf yaml;
	buf_init(&yaml, 0);
	struct err e = {0};
	if (backup_export(d->app.db, &yaml, NULL, &e)) {
		struct ui_settings_failed f = {.error = e.msg};
		ui_settings_page(d, res, 500, u, "inventory", NULL, &f);
		buf_release(&yaml);
		return;
	}
	char name[64], disposition[128];
	backup_download_name(time(NULL), name, sizeof(name));
	snprintf(disposition, sizeof(disposition), "attachment; filename=\"%s\"", name);
	res->status = 200;
	res->content_type = "application/x-yaml";
	http_response_header(res, "Content-Disposition", disposition);
	buf_add(&res->body, yaml.data, yaml.len);
	buf_release(&yaml);
	log_info("backup '%s' downloaded by '%s'", name, u->name);
}

static const char *const scopes[] = {"all", "static"};

void ui_backup_tab(struct daemon *d, json_t *section)
{
	pthread_rwlock_rdlock(&d->settings_lock);
	json_t *files = backup_list(d->settings->backup_path);
	json_object_set_new(section, "backup_path", json_string(d->settings->backup_path));
	json_object_set_new(section, "backup_time", json_string(d->settings->backup_time));
	json_object_set_new(section, "backup_keep", json_integer(d->settings->backup_days_to_keep));
	pthread_rwlock_unlock(&d->settings_lock);
	json_object_set_new(section, "has_backups", json_boolean(json_array_size(files) > 0));
	json_object_set_new(section, "backups", files);
	json_object_set_new(section, "scopes", json_pack("[s,s]", scopes[0], scopes[1]));
}

struct std_job {
	const struct store_std_backup *b;
	int scope;
	const char *author;
	struct store_std_report report;
};

static int apply_std(struct store_txn *t, void *ctx, struct err *e)
{
	struct std_job *j = ctx;
	return store_ops_std_restore(t, j->b, j->scope, j->author, (int64_t)time(NULL), &j->report,
	                             e);
}

/* The report for the page: counts, one row per record, the parser's warnings. */
static json_t *report_json(const struct store_std_report *r, const struct store_std_backup *b)
{
	const size_t *c = r->count;
	json_t *rows = json_array(), *warnings = json_array();
	for (size_t i = 0; i < r->n; i++) {
		const struct store_std_result *x = &r->v[i];
		json_t *service = json_sprintf("%s/%s", x->host ? x->host : "-",
		                               x->container_name ? x->container_name : "-");
		json_array_append_new(
		    rows, json_pack("{s:I,s:o,s:s,s:s?}", "line", (json_int_t)x->line, "service",
		                    service ? service : json_string("?"), "outcome",
		                    store_std_outcome_name(x->outcome), "reason", x->reason));
	}
	for (size_t i = 0; i < b->nwarnings; i++)
		json_array_append_new(warnings, json_string(b->warnings[i]));
	return json_pack(
	    "{s:s,s:o,s:o,s:o}", "source", b->source, "summary",
	    json_sprintf("%zu restored (%zu created, %zu updated, %zu unchanged), %zu skipped.",
	                 c[STORE_STD_CREATED] + c[STORE_STD_UPDATED] + c[STORE_STD_UNCHANGED],
	                 c[STORE_STD_CREATED], c[STORE_STD_UPDATED], c[STORE_STD_UNCHANGED],
	                 c[STORE_STD_SKIPPED]),
	    "rows", rows, "warnings", warnings);
}

/*
 * Show the tab with msg. A message quotes the file, and struct err's size
 * may cut it inside a UTF-8 sequence, which a JSON string cannot hold:
 * such bytes become '?'.
 */
static void failed(struct daemon *d, struct http_response *res, int status,
                   const struct auth_user *u, const char *msg)
{
	json_t *ok = json_string(msg);
	char *text = xstrdup(msg);
	for (char *p = text; !ok && *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	json_decref(ok);
	struct ui_settings_failed f = {.error = text};
	ui_settings_page(d, res, status, u, "inventory", NULL, &f);
	free(text);
}

/* An uploaded file's name as printable ASCII (it labels messages, a commit, a log line). */
static char *upload_name(const char *filename)
{
	const char *name = filename[0] ? filename : "upload.yml";
	char *s = xstrndup(name, strnlen(name, 128)); /* xstrndup copies exactly n bytes */
	for (char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	return s;
}

/* Parse, validate and apply data (a backup named filename); the tab shows the report. */
static void restore(struct daemon *d, struct http_response *res, const struct auth_user *u,
                    const char *data, size_t len, const char *filename, int scope)
{
	struct store_std_backup b;
	struct err e = {0};
	if (store_std_parse(&b, data, len, filename, &e)) {
		char *msg = xasprintf("Nothing was restored: %s", e.msg);
		failed(d, res, 400, u, msg);
		free(msg);
		return;
	}
	struct std_job j = {&b, scope, u->name, {0}};
	if (writer_submit(d->writer, apply_std, &j, &e)) {
		failed(d, res, ui_settings_status_of(e.code), u, e.msg);
	} else {
		const size_t *c = j.report.count;
		log_info("restore from '%s' (scope %s) by '%s': %zu created, %zu updated, %zu "
		         "unchanged, %zu skipped",
		         b.source, scopes[scope], u->name, c[STORE_STD_CREATED],
		         c[STORE_STD_UPDATED], c[STORE_STD_UNCHANGED], c[STORE_STD_SKIPPED]);
		json_t *report = report_json(&j.report, &b);
		ui_settings_page_report(d, res, u, report);
		json_decref(report);
		health_wake(d->health); /* restored URLs get checked soon */
		icons_wake(d->icons);
	}
	store_std_report_release(&j.report);
	store_std_backup_release(&b);
}

/* POST .../restore: a file of BACKUP_PATH, by a name from the list only. */
static void restore_server_file(struct daemon *d, struct http_response *res,
                                const struct auth_user *u, const json_t *form, int scope)
{
	const char *name = form_get(form, "file");
	if (!backup_name_ok(name)) {
		failed(d, res, 400, u, "There is no such backup file (pick one from the list).");
		return;
	}
	pthread_rwlock_rdlock(&d->settings_lock);
	char *path = xasprintf("%s/%s", d->settings->backup_path, name);
	pthread_rwlock_unlock(&d->settings_lock);
	struct buf data;
	buf_init(&data, SERVER_FILE_MAX);
	struct err e = {0};
	int rc = fileio_read(path, &data, &e);
	if (rc)
		failed(d, res,
		       rc == ERR_NOTFOUND ? 404
		       : rc == ERR_TOOBIG ? 413
		                          : 500,
		       u, rc == ERR_NOTFOUND ? "There is no such backup file (any more)." : e.msg);
	else
		restore(d, res, u, data.data, data.len, name, scope);
	buf_release(&data);
	free(path);
}

static void upload(struct daemon *d, const struct http_request *req, struct http_response *res,
                   const struct auth_user *u)
{
	struct form_multipart mp;
	json_t *form = ui_form_multipart(d, req, res, u, &mp);
	if (!form || !ui_csrf_ok(d, res, form, u))
		goto out;
	int scope = store_std_scope_parse(form_get(form, "scope"));
	const struct form_part *file = form_multipart_get(&mp, "file");
	if (scope < 0)
		failed(d, res, 400, u, "Scope must be all or static.");
	else if (!file || !file->filename || !file->len)
		failed(d, res, 400, u, "Choose a backup file to upload.");
	else {
		char *name = upload_name(file->filename);
		restore(d, res, u, file->data, file->len, name, scope);
		free(name);
	}
out:
	json_decref(form);
	form_multipart_release(&mp);
}

void ui_backup_post(struct daemon *d, const struct http_request *req, struct http_response *res,
                    const struct auth_user *u, enum ui_backup_op op)
{
	if (op == UI_BACKUP_UPLOAD) {
		upload(d, req, res, u);
		return;
	}
	json_t *form = ui_form(d, req, res, u);
	if (!form || !ui_csrf_ok(d, res, form, u)) {
		json_decref(form);
		return;
	}
	struct err e = {0};
	struct backup_result r;
	int scope = store_std_scope_parse(form_get(form, "scope"));
	if (op == UI_BACKUP_SAVE) {
		if (backup_run(d->backup, &r, &e))
			failed(d, res, 500, u, e.msg);
		else
			ui_settings_redirect_done(res, "inventory", "backup_saved");
	} else if (scope < 0) {
		failed(d, res, 400, u, "Scope must be all or static.");
	} else {
		restore_server_file(d, res, u, form, scope);
	}
	json_decref(form);
}
