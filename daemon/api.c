/*
 * The JSON API: routing, authentication, and one handler per route. Every
 * handler validates completely before it submits a change to the writer;
 * every error is a JSON body naming the cause, and no 4xx changes state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "../common/log.h"
#include "../common/xalloc.h"
#include "../store/merge.h"
#include "../store/mirror.h"
#include "../store/ops.h"
#include "../store/widgetkey.h"
#include "../store/widgetvals.h"
#include "auth.h"
#include "change.h"
#include "events.h"
#include "form.h"
#include "serve.h"
#include "static.h"
#include "../common/banned.h"

/* One table maps store error codes to HTTP statuses. */
static int status_for(int code)
{
	switch (code) {
	case ERR_INVAL:
		return 400;
	case ERR_AUTH:
		return 401;
	case ERR_NOTFOUND:
		return 404;
	case ERR_EXISTS:
		return 409;
	case ERR_TOOBIG:
		return 413;
	case ERR_BUSY:
		return 503;
	}
	return 500;
}

static void reply_json(struct http_response *res, int status, json_t *body)
{
	res->status = status;
	res->content_type = "application/json";
	char *s = json_dumps(body, JSON_COMPACT);
	buf_adds(&res->body, s);
	buf_addc(&res->body, '\n');
	free(s);
	json_decref(body);
}

static void reply_error(struct http_response *res, int status, const char *msg)
{
	reply_json(res, status, json_pack("{s:s}", "error", msg));
}

static void reply_err(struct http_response *res, const struct err *e)
{
	reply_error(res, status_for(e->code), e->msg);
}

static void reply_invalid(struct http_response *res, const char *what, struct store_verr *v)
{
	json_t *body = json_pack("{s:s,s:O}", "error", what, "details", v->details);
	if (v->unknown_keys)
		json_object_set(body, "unknown_keys", v->unknown_keys);
	reply_json(res, 400, body);
}

/* Constant time in the token's length: no early exit on the first mismatch. */
static int token_ok(const struct http_request *req, const char *token)
{
	const char *h = http_header(req, "Authorization");
	if (!h || strncasecmp(h, "Bearer ", 7) || !token || !*token)
		return 0;
	const char *given = h + 7;
	size_t n = strlen(token);
	if (strlen(given) != n)
		return 0;
	return sodium_memcmp(given, token, n) == 0;
}

/* The body as a JSON object; replies 400/413 itself and returns NULL otherwise. */
static json_t *json_body(const struct http_request *req, struct http_response *res)
{
	if (req->body_too_large) {
		reply_json(res, 413,
		           json_pack("{s:s,s:i}", "error", "Request body too large", "limit",
		                     HTTP_MAX_BODY));
		return NULL;
	}
	/* Exactly STD's body (spec/register.md), whatever the parser found. */
	json_t *body = json_loadb(req->body.data, req->body.len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(body)) {
		json_decref(body);
		reply_error(res, 400, "Request body must be a JSON object");
		return NULL;
	}
	return body;
}

struct register_job {
	struct daemon *d;
	struct store_payload p;
	int ownership;
	struct store_record rec;
	int status;
	int rc;
	struct err e;
	struct http_pending *pending;
};

static int apply_register(struct store_txn *t, void *ctx, struct err *e)
{
	struct register_job *j = ctx;
	return store_ops_register(t, &j->p, j->ownership, (int64_t)time(NULL), &j->rec, &j->status,
	                          e);
}

static const char *const status_names[] = {"created", "updated", "unchanged", "skipped"};

static void register_job_free(struct register_job *j)
{
	store_payload_release(&j->p);
	store_record_release(&j->rec);
	free(j);
}

/* Writer thread: the registration is durable (or failed); wake its connection. */
static void register_done(void *arg, int rc, const struct err *e)
{
	struct register_job *j = arg;
	j->rc = rc;
	if (rc)
		j->e = *e;
	http_resume(j->pending);
}

/* Server thread, after register_done: the reply. */
static void register_finish(void *arg, struct http_response *res)
{
	struct register_job *j = arg;
	if (j->rc) {
		reply_err(res, &j->e);
	} else if (j->status == STORE_MERGE_SKIPPED) {
		reply_json(res, 200,
		           json_pack("{s:s,s:s}", "status", "skipped", "reason", "static lock"));
	} else {
		json_t *out =
		    store_record_to_json(&j->rec, STORE_FIELD_INVENTORY | STORE_FIELD_LIVE);
		json_object_set_new(out, "status", json_string(status_names[j->status]));
		reply_json(res, 200, out);
	}
	if (!j->rc && (j->status == STORE_MERGE_CREATED || j->status == STORE_MERGE_UPDATED)) {
		health_wake(j->d->health); /* new or changed URLs get checked soon */
		icons_wake(j->d->icons);   /* and new icon names fetched */
	}
	if (!j->rc) {
		metrics_registration(&j->d->metrics, j->status);
		log_info("register %s/%s: %s", j->p.host, j->p.container_name,
		         status_names[j->status]);
	}
	metrics_request(&j->d->metrics, "/api/v1/register", res->status);
	register_job_free(j);
}

/* Validates now; the reply follows once the write is durable (the connection waits). */
static void handle_register(struct daemon *d, const struct http_request *req,
                            struct http_response *res, int ownership)
{
	json_t *body = json_body(req, res);
	if (!body)
		return;
	struct store_verr v;
	store_verr_init(&v);
	struct register_job *j = xcalloc(1, sizeof(*j));
	j->d = d;
	j->ownership = ownership;
	store_record_init(&j->rec);
	if (store_payload_from_json(&j->p, body, &v)) {
		reply_invalid(res, "Invalid register payload", &v);
		register_job_free(j);
	} else {
		j->pending = http_defer(req, register_finish, j);
		res->status = 0; /* deferred: register_finish replies and counts it */
		if (writer_submit_async(d->writer, apply_register, j, register_done, j, &j->e)) {
			j->rc = j->e.code;
			http_resume(j->pending);
		}
	}
	store_verr_release(&v);
	json_decref(body);
}

struct list_filter {
	const char *host, *group, *stack;
	json_t *out;
};

static int matches(const char *filter, const char *value)
{
	return !filter || (value && !strcasecmp(filter, value));
}

static int list_one(const struct store_record *r, void *arg)
{
	struct list_filter *f = arg;
	if (matches(f->host, r->host) && matches(f->group, r->group_name) &&
	    matches(f->stack, r->stack_name))
		json_array_append_new(
		    f->out, store_record_to_json(r, STORE_FIELD_INVENTORY | STORE_FIELD_LIVE));
	return 0;
}

static void handle_list(struct daemon *d, const struct http_request *req, struct http_response *res)
{
	struct list_filter f = {http_query(req, "host"), http_query(req, "group"),
	                        http_query(req, "stack"), json_array()};
	struct store_txn *t;
	struct err e = {0};
	if (store_txn_begin(d->app.db, 0, &t, &e) || store_db_foreach(t, list_one, &f, &e)) {
		json_decref(f.out);
		reply_err(res, &e);
	} else {
		reply_json(res, 200, f.out);
	}
	store_txn_abort(t);
}

static void handle_get(struct daemon *d, uint64_t id, struct http_response *res)
{
	struct store_txn *t = NULL;
	struct err e = {0};
	struct store_record r;
	store_record_init(&r);
	if (store_txn_begin(d->app.db, 0, &t, &e) || store_db_get(t, id, &r, &e))
		reply_err(res, &e);
	else
		reply_json(res, 200,
		           store_record_to_json(&r, STORE_FIELD_INVENTORY | STORE_FIELD_LIVE));
	store_txn_abort(t);
	store_record_release(&r);
}

/* POST /api/v1/services (add), PATCH and DELETE /api/v1/services/<id>. */
static void handle_change(struct daemon *d, enum change_kind kind, uint64_t id,
                          const struct http_request *req, struct http_response *res,
                          const char *author)
{
	struct store_record rec;
	store_record_init(&rec);
	struct store_verr v;
	store_verr_init(&v);
	struct err e = {0};
	json_t *body = NULL;
	if (kind != CHANGE_DELETE && !(body = json_body(req, res)))
		goto out;
	int rc = change_apply(d, kind, id, body, author, &rec, &v, &e);
	if (rc == ERR_INVAL && store_verr_any(&v))
		reply_invalid(res, "Invalid service", &v);
	else if (rc)
		reply_err(res, &e);
	else if (kind == CHANGE_DELETE)
		reply_json(res, 200,
		           json_pack("{s:I,s:s}", "id", (json_int_t)id, "status", "deleted"));
	else
		reply_json(res, kind == CHANGE_ADD ? 201 : 200,
		           store_record_to_json(&rec, STORE_FIELD_INVENTORY | STORE_FIELD_LIVE));
out:
	store_record_release(&rec);
	store_verr_release(&v);
	json_decref(body);
}

static int apply_exposure(struct store_txn *t, void *ctx, struct err *e)
{
	return store_ops_exposure_put(t, ctx, "api", (int64_t)time(NULL), e);
}

static void handle_exposure(struct daemon *d, const struct http_request *req,
                            struct http_response *res)
{
	if (!strcmp(req->method, "GET")) {
		struct store_txn *t;
		struct err e = {0};
		if (store_txn_begin(d->app.db, 0, &t, &e)) {
			reply_err(res, &e);
			return;
		}
		reply_json(res, 200, json_deep_copy(store_db_exposure(t)));
		store_txn_abort(t);
		return;
	}
	json_t *body = json_body(req, res);
	if (!body)
		return;
	struct store_verr v;
	store_verr_init(&v);
	json_t *canon = NULL;
	struct err e = {0};
	if (store_exposure_validate(body, &canon, &v))
		reply_invalid(res, "Invalid exposure settings", &v);
	else if (writer_submit(d->writer, apply_exposure, canon, &e))
		reply_err(res, &e);
	else
		reply_json(res, 200, json_incref(canon));
	json_decref(canon);
	store_verr_release(&v);
	json_decref(body);
}

/* Journal entries the git mirror has not committed yet. */
static unsigned long long journal_lag(struct store_txn *t)
{
	return store_journal_last(t) - store_cursor_get(t, STORE_MIRROR_CURSOR);
}

/* GET /api/v1/health (id 0) and GET /api/v1/services/<id>/health. */
static void handle_health(struct daemon *d, uint64_t id, struct http_response *res)
{
	struct store_txn *t = NULL;
	struct err e = {0};
	json_t *out = NULL;
	if (store_txn_begin(d->app.db, 0, &t, &e) ||
	    (id ? health_service_json(t, id, &out, &e) : health_list_json(t, &out, &e)))
		reply_err(res, &e);
	else
		reply_json(res, 200, out);
	store_txn_abort(t);
}

static void handle_healthz(struct daemon *d, struct http_response *res)
{
	struct store_txn *t;
	struct err e = {0};
	if (store_txn_begin(d->app.db, 0, &t, &e)) {
		reply_json(res, 503, json_pack("{s:s,s:s}", "status", "error", "error", e.msg));
		return;
	}
	reply_json(res, 200,
	           json_pack("{s:s,s:I,s:I}", "status", "ok", "services",
	                     (json_int_t)store_db_count(t), "journal_lag",
	                     (json_int_t)journal_lag(t)));
	store_txn_abort(t);
}

static void handle_metrics(struct daemon *d, struct http_response *res)
{
	res->status = 200;
	res->content_type = "text/plain; version=0.0.4";
	metrics_write(&d->metrics, &res->body);
	struct store_txn *t;
	if (!store_txn_begin(d->app.db, 0, &t, NULL)) {
		buf_addf(&res->body,
		         "# HELP portolan_services Services in the inventory.\n"
		         "# TYPE portolan_services gauge\nportolan_services %zu\n"
		         "# HELP portolan_journal_lag Changes not yet committed to git.\n"
		         "# TYPE portolan_journal_lag gauge\nportolan_journal_lag %llu\n",
		         store_db_count(t), journal_lag(t));
		store_txn_abort(t);
	}
	buf_addf(&res->body,
	         "# HELP portolan_events_subscribers Clients connected to /api/v1/events.\n"
	         "# TYPE portolan_events_subscribers gauge\nportolan_events_subscribers %zu\n",
	         events_subscribers(d->events));
	unsigned long long groups, jobs;
	double secs;
	writer_stats(d->writer, &groups, &jobs, &secs);
	pthread_mutex_lock(&d->mirror_lock);
	double mirror_secs = d->mirror_seconds;
	unsigned long long mirror_runs = d->mirror_runs;
	pthread_mutex_unlock(&d->mirror_lock);
	buf_addf(
	    &res->body,
	    "# HELP portolan_store_commit_seconds Durable LMDB group commits.\n"
	    "# TYPE portolan_store_commit_seconds summary\n"
	    "portolan_store_commit_seconds_sum %.6f\nportolan_store_commit_seconds_count %llu\n"
	    "# HELP portolan_store_changes_total Changes applied through group commits.\n"
	    "# TYPE portolan_store_changes_total counter\nportolan_store_changes_total %llu\n"
	    "# HELP portolan_git_commit_seconds Git mirror runs.\n"
	    "# TYPE portolan_git_commit_seconds summary\n"
	    "portolan_git_commit_seconds_sum %.6f\nportolan_git_commit_seconds_count %llu\n",
	    secs, groups, jobs, mirror_secs, mirror_runs);
	unsigned long long checks;
	unsigned in_flight;
	health_stats(d->health, &checks, &in_flight);
	buf_addf(&res->body,
	         "# HELP portolan_health_checks_total URL health checks finished.\n"
	         "# TYPE portolan_health_checks_total counter\nportolan_health_checks_total %llu\n"
	         "# HELP portolan_health_checks_in_flight URL health checks running now.\n"
	         "# TYPE portolan_health_checks_in_flight gauge\n"
	         "portolan_health_checks_in_flight %u\n",
	         checks, in_flight);
	unsigned long long fetched, failed;
	icons_stats(d->icons, &fetched, &failed);
	buf_addf(&res->body,
	         "# HELP portolan_icon_fetches_total Icon fetches by outcome.\n"
	         "# TYPE portolan_icon_fetches_total counter\n"
	         "portolan_icon_fetches_total{outcome=\"fetched\"} %llu\n"
	         "portolan_icon_fetches_total{outcome=\"failed\"} %llu\n",
	         fetched, failed);
	unsigned long long backup_runs, backup_failures;
	int64_t backup_last;
	backup_stats(d->backup, &backup_runs, &backup_failures, &backup_last);
	buf_addf(&res->body,
	         "# HELP portolan_backup_runs_total Backup runs (daily, API and UI), by outcome.\n"
	         "# TYPE portolan_backup_runs_total counter\n"
	         "portolan_backup_runs_total{outcome=\"ok\"} %llu\n"
	         "portolan_backup_runs_total{outcome=\"failed\"} %llu\n"
	         "# HELP portolan_backup_last_success_timestamp_seconds When the last backup was "
	         "written (0: never).\n"
	         "# TYPE portolan_backup_last_success_timestamp_seconds gauge\n"
	         "portolan_backup_last_success_timestamp_seconds %lld\n",
	         backup_runs - backup_failures, backup_failures, (long long)backup_last);
	unsigned long long renders;
	double render_secs;
	sitegen_stats(d->sitegen, &renders, &render_secs);
	buf_addf(
	    &res->body,
	    "# HELP portolan_site_render_seconds Static site renders (debounced after writes).\n"
	    "# TYPE portolan_site_render_seconds summary\n"
	    "portolan_site_render_seconds_sum %.6f\nportolan_site_render_seconds_count %llu\n",
	    render_secs, renders);
	if (d->gitsync)
		gitsync_metrics(d->gitsync, &res->body);
	if (d->widgets) {
		unsigned long long rounds, samples;
		double wsecs, wcpu;
		widgets_stats(d->widgets, &rounds, &samples, &wsecs, &wcpu);
		buf_addf(&res->body,
		         "# HELP portolan_widget_rounds_total Widget sampling rounds.\n"
		         "# TYPE portolan_widget_rounds_total "
		         "counter\nportolan_widget_rounds_total %llu\n"
		         "# HELP portolan_widget_samples_total Widgets sampled.\n"
		         "# TYPE portolan_widget_samples_total counter\n"
		         "portolan_widget_samples_total %llu\n"
		         "# HELP portolan_widget_round_seconds The last round's wall time.\n"
		         "# TYPE portolan_widget_round_seconds gauge\n"
		         "portolan_widget_round_seconds %.3f\n"
		         "# HELP portolan_widget_round_cpu_seconds The last round's CPU time.\n"
		         "# TYPE portolan_widget_round_cpu_seconds gauge\n"
		         "portolan_widget_round_cpu_seconds %.3f\n",
		         rounds, samples, wsecs, wcpu);
	}
	metrics_write_hooks(d->hooks, &res->body);
}

/* GET /api/v1/icons. */
static void handle_icons(struct daemon *d, struct http_response *res)
{
	struct store_txn *t = NULL;
	struct err e = {0};
	json_t *out = NULL;
	char *images = xasprintf("%s/images", d->app.config);
	if (store_txn_begin(d->app.db, 0, &t, &e) || icons_list_json(t, images, &out, &e))
		reply_err(res, &e);
	else
		reply_json(res, 200, out);
	store_txn_abort(t);
	free(images);
}

/* POST /api/v1/icons/<name>/refresh: fetch again, in the background. */
static void handle_icon_refresh(struct daemon *d, const char *name, struct http_response *res)
{
	struct err e = {0};
	int rc = icons_refresh(d->icons, name, &e);
	if (rc == ERR_INVAL)
		reply_json(res, 400, json_pack("{s:s,s:s}", "error", e.msg, "field", "name"));
	else if (rc)
		reply_json(res, 409, json_pack("{s:s}", "error", e.msg));
	else
		reply_json(res, 202, json_pack("{s:s,s:b}", "name", name, "queued", 1));
}

/* "<name>/refresh" → name (malloc'd), else NULL. */
static char *icon_refresh_name(const char *s)
{
	size_t n = strlen(s);
	if (n <= 8 || strcmp(s + n - 8, "/refresh"))
		return NULL;
	return xstrndup(s, n - 8);
}

/* "/api/v1/services/<id>" → id; 0 when the tail is not a plain positive number. */
static uint64_t parse_id(const char *s)
{
	uint64_t id = 0;
	if (!*s || strlen(s) > 18)
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return 0;
		id = id * 10 + (uint64_t)(*s - '0');
	}
	return id;
}

/* "<id>/health" → id; 0 otherwise. */
/* "<id>/<tail>" → id; 0 when s is not that. */
static uint64_t sub_route_id(const char *s, const char *tail)
{
	const char *slash = strchr(s, '/');
	if (!slash || strcmp(slash, tail) || slash - s > 18)
		return 0;
	char num[20];
	memcpy(num, s, (size_t)(slash - s));
	num[slash - s] = 0;
	return parse_id(num);
}

/*
 * GET /api/v1/services/<id>/widget: the configuration (never the key:
 * only whether one is set), each field's current value, age, error and
 * staleness, and the kept history of every field.
 */
static void handle_widget(struct daemon *d, uint64_t id, struct http_response *res)
{
	struct store_txn *t = NULL;
	struct store_record r;
	store_record_init(&r);
	struct err e = {0};
	json_t *state = NULL, *history = NULL;
	if (store_txn_begin(d->app.db, 0, &t, &e) || store_db_get(t, id, &r, &e)) {
		reply_err(res, &e);
	} else if (!r.widget) {
		reply_error(res, 404, "This service has no widget");
	} else if (store_widget_state(t, id, &state, &e) ||
	           store_widget_history(t, id, NULL, 0, &history, &e)) {
		reply_err(res, &e);
	} else {
		json_t *cfg = json_loads(r.widget, 0, NULL);
		json_object_set_new(cfg, "api_key_set",
		                    json_boolean(store_widget_key_isset(t, id)));
		json_t *fields = json_object_get(state, "fields");
		reply_json(res, 200,
		           json_pack("{s:I,s:o,s:O,s:O}", "id", (json_int_t)id, "widget", cfg,
		                     "fields", fields ? fields : json_object(), "history",
		                     history));
	}
	json_decref(state);
	json_decref(history);
	store_txn_abort(t);
	store_record_release(&r);
}

static uint64_t health_route_id(const char *s)
{
	return sub_route_id(s, "/health");
}

static int method_is(const struct http_request *req, const char *m)
{
	return !strcmp(req->method, m);
}

static void method_not_allowed(struct http_response *res, const char *allow)
{
	reply_json(res, 405, json_pack("{s:s,s:s}", "error", "Method not allowed", "allow", allow));
	res->allow = xstrdup(allow);
}

/*
 * GET /api/v1/backups: the backup files in BACKUP_PATH. POST: run the
 * daily backup job now (backup.h) and name the file it wrote.
 */
static void handle_backups(struct daemon *d, const struct http_request *req,
                           struct http_response *res)
{
	struct err e = {0};
	struct backup_result r;
	if (method_is(req, "POST")) {
		if (backup_run(d->backup, &r, &e))
			reply_err(res, &e);
		else
			reply_json(res, 201,
			           json_pack("{s:s,s:I,s:I}", "file", r.name, "services",
			                     (json_int_t)r.services, "pruned",
			                     (json_int_t)r.pruned));
		return;
	}
	pthread_rwlock_rdlock(&d->settings_lock);
	json_t *files = backup_list(d->settings->backup_path);
	pthread_rwlock_unlock(&d->settings_lock);
	reply_json(res, 200, json_pack("{s:o}", "files", files));
}

/* Routes that need the API token; returns the route label for metrics. */
static const char *route_api(struct daemon *d, const struct http_request *req,
                             struct http_response *res, int ownership, const char *author)
{
	const char *p = req->path;
	if (!strcmp(p, "/api/v1/register")) {
		if (method_is(req, "POST"))
			handle_register(d, req, res, ownership);
		else
			method_not_allowed(res, "POST");
		return "/api/v1/register";
	}
	if (!strcmp(p, "/api/v1/services")) {
		if (method_is(req, "GET"))
			handle_list(d, req, res);
		else if (method_is(req, "POST"))
			handle_change(d, CHANGE_ADD, 0, req, res, author);
		else
			method_not_allowed(res, "GET, POST");
		return "/api/v1/services";
	}
	if (!strcmp(p, "/api/v1/health")) {
		if (method_is(req, "GET"))
			handle_health(d, 0, res);
		else
			method_not_allowed(res, "GET");
		return "/api/v1/health";
	}
	if (!strncmp(p, "/api/v1/services/", 17) && health_route_id(p + 17)) {
		if (method_is(req, "GET"))
			handle_health(d, health_route_id(p + 17), res);
		else
			method_not_allowed(res, "GET");
		return "/api/v1/services/{id}/health";
	}
	if (!strncmp(p, "/api/v1/services/", 17) && sub_route_id(p + 17, "/widget")) {
		if (method_is(req, "GET"))
			handle_widget(d, sub_route_id(p + 17, "/widget"), res);
		else
			method_not_allowed(res, "GET");
		return "/api/v1/services/{id}/widget";
	}
	if (!strncmp(p, "/api/v1/services/", 17) && parse_id(p + 17)) {
		uint64_t id = parse_id(p + 17);
		if (method_is(req, "GET"))
			handle_get(d, id, res);
		else if (method_is(req, "PATCH"))
			handle_change(d, CHANGE_EDIT, id, req, res, author);
		else if (method_is(req, "DELETE"))
			handle_change(d, CHANGE_DELETE, id, req, res, author);
		else
			method_not_allowed(res, "GET, PATCH, DELETE");
		return "/api/v1/services/{id}";
	}
	if (!strcmp(p, "/api/v1/git")) {
		if (!method_is(req, "GET"))
			method_not_allowed(res, "GET");
		else if (d->gitsync)
			reply_json(res, 200, gitsync_status(d->gitsync));
		else
			reply_error(res, 503, "git sync is not running");
		return "/api/v1/git";
	}
	if (!strcmp(p, "/api/v1/icons")) {
		if (method_is(req, "GET"))
			handle_icons(d, res);
		else
			method_not_allowed(res, "GET");
		return "/api/v1/icons";
	}
	if (!strncmp(p, "/api/v1/icons/", 14)) {
		char *name = icon_refresh_name(p + 14);
		if (!name)
			reply_error(res, 404, "Not found");
		else if (method_is(req, "POST"))
			handle_icon_refresh(d, name, res);
		else
			method_not_allowed(res, "POST");
		free(name);
		return "/api/v1/icons/{name}/refresh";
	}
	if (!strcmp(p, "/api/v1/settings/exposure")) {
		if (method_is(req, "GET") || method_is(req, "PUT"))
			handle_exposure(d, req, res);
		else
			method_not_allowed(res, "GET, PUT");
		return "/api/v1/settings/exposure";
	}
	if (!strcmp(p, "/api/v1/backups")) {
		if (method_is(req, "GET") || method_is(req, "POST"))
			handle_backups(d, req, res);
		else
			method_not_allowed(res, "GET, POST");
		return "/api/v1/backups";
	}
	if (!strcmp(p, "/api/v1/settings")) {
		if (!method_is(req, "GET")) {
			method_not_allowed(res, "GET");
		} else {
			pthread_rwlock_rdlock(&d->settings_lock);
			reply_json(res, 200, settings_to_json(d->settings));
			pthread_rwlock_unlock(&d->settings_lock);
		}
		return "/api/v1/settings";
	}
	reply_error(res, 404, "Not found");
	return "other";
}

/* GET /api/v1/events: the server-sent event stream (events.h). */
static void handle_events(struct daemon *d, const struct http_request *req,
                          struct http_response *res)
{
	struct err e = {0};
	if (!method_is(req, "GET"))
		method_not_allowed(res, "GET");
	else if (events_subscribe(d->events, req, res, &e))
		reply_err(res, &e);
}

/* Everything that is not an API route: a file of the generated site. */
static void handle_static(struct daemon *d, const struct http_request *req,
                          struct http_response *res)
{
	/* The dir the render thread writes (SITE_DIR as at start-up), not a reloaded one. */
	static_handle(sitegen_dir(d->sitegen), req, res);
}

/* Who called an API route: the Bearer token (notifiers, scripts) or a web UI session. */
struct caller {
	int by_token;
	const struct auth_user *u; /* the session user, or NULL */
};

static int is_read(const struct http_request *req)
{
	return method_is(req, "GET") || method_is(req, "HEAD");
}

/*
 * Check the caller of an API route; 0 to go on, else the reply is made.
 * A session may read; changing something needs an admin and the CSRF
 * token in X-CSRF-Token (a page's fetch() sends it, a forged form cannot).
 */
static int api_auth(struct daemon *d, const struct http_request *req, struct http_response *res,
                    const struct caller *c)
{
	if (c->by_token)
		return 0;
	if (!c->u) {
		reply_error(res, 401, "Unauthorized");
		res->www_authenticate = xstrdup("Bearer");
		return -1;
	}
	if (c->u->must_change) {
		reply_error(res, 403, "Password change required: open /password");
		return -1;
	}
	if (is_read(req))
		return 0;
	if (!auth_csrf_ok(c->u, http_header(req, "X-CSRF-Token"))) {
		reply_error(res, 403, "Missing or wrong CSRF token (X-CSRF-Token)");
		return -1;
	}
	if (!c->u->admin) {
		reply_error(res, 403, "Your account can view, not change");
		return -1;
	}
	(void)d;
	return 0;
}

/* GET /api/v1/me: who the caller is, and for a session its CSRF token (for app.js). */
static void handle_me(const struct http_request *req, struct http_response *res,
                      const struct caller *c)
{
	if (!is_read(req))
		method_not_allowed(res, "GET");
	else if (!c->by_token && (!c->u || c->u->must_change))
		reply_json(res, 200, json_pack("{s:n,s:n,s:b}", "user", "role", "can_edit", 0));
	else if (c->by_token)
		reply_json(res, 200,
		           json_pack("{s:s,s:s,s:b}", "user", "api", "role", "api", "can_edit", 1));
	else
		reply_json(res, 200,
		           json_pack("{s:s,s:s,s:b,s:s}", "user", c->u->name, "role",
		                     c->u->admin ? "admin" : "viewer", "can_edit", c->u->admin,
		                     "csrf_token", c->u->csrf));
}

/* Theme files anyone may fetch: the login page needs the stylesheet. */
static int public_asset(const char *path)
{
	return !strncmp(path, "/assets/", 8) || !strcmp(path, "/favicon.ico");
}

/* The dashboards need a login unless DASHBOARD_PUBLIC; a browser is sent to /login. */
static void handle_site(struct daemon *d, const struct http_request *req, struct http_response *res,
                        const struct auth_user *u)
{
	pthread_rwlock_rdlock(&d->settings_lock);
	int open = d->settings->dashboard_public;
	pthread_rwlock_unlock(&d->settings_lock);
	if (open || public_asset(req->path) || (u && !u->must_change)) {
		handle_static(d, req, res);
	} else if (u) {
		res->status = 303;
		http_response_header(res, "Location", "/password");
	} else {
		struct buf to;
		buf_init(&to, 0);
		buf_adds(&to, "/login?next=");
		form_url_encode(&to, req->path);
		res->status = 303;
		http_response_header(res, "Location", to.data);
		buf_release(&to);
	}
}

/* 1 for "localhost", "127.x.y.z", "::1" and "[::1]", with or without ":port". */
static int loopback_name(const char *host)
{
	size_t n = strlen(host);
	const char *colon = strrchr(host, ':');
	if (host[0] == '[') {
		const char *close = strchr(host, ']');
		return close && (size_t)(close - host) == 4 && !strncmp(host, "[::1]", 5);
	}
	if (colon && strchr(host, ':') != colon)
		return !strcmp(host, "::1"); /* a bare IPv6 address */
	if (colon)
		n = (size_t)(colon - host);
	return (n == 9 && !strncasecmp(host, "localhost", 9)) ||
	       (n > 4 && !strncmp(host, "127.", 4));
}

/*
 * DNS rebinding: a web page whose name resolves to 127.0.0.1 reaches a
 * daemon that listens there, with its own name in Host. A daemon on
 * loopback answers a direct (proxy-less) loopback request only when Host
 * is a loopback name; a proxy in front adds X-Forwarded-For.
 */
static int rebinding(struct daemon *d, const struct http_request *req)
{
	const char *host = http_header(req, "Host");
	if (!host || http_header(req, "X-Forwarded-For") || http_header(req, "X-Forwarded-Host"))
		return 0;
	pthread_rwlock_rdlock(&d->settings_lock);
	char *listen_host = NULL;
	int port, on_loopback = !settings_parse_listen(d->settings->listen, &listen_host, &port) &&
	                        loopback_name(listen_host);
	pthread_rwlock_unlock(&d->settings_lock);
	free(listen_host);
	return on_loopback && !loopback_name(host);
}

void api_handle(const struct http_request *req, struct http_response *res, void *arg)
{
	struct daemon *d = arg;
	const char *route;
	if (rebinding(d, req)) {
		reply_error(res, 421,
		            "This daemon listens on loopback and answers only to localhost, "
		            "127.0.0.1 or [::1] (or through a proxy)");
		metrics_request(&d->metrics, "misdirected", res->status);
		return;
	}
	struct auth_user session;
	const struct auth_user *u = auth_session(d, req, &session) ? NULL : &session;
	if (!strcmp(req->path, "/healthz")) {
		route = "/healthz";
		if (method_is(req, "GET") || method_is(req, "HEAD"))
			handle_healthz(d, res);
		else
			method_not_allowed(res, "GET, HEAD");
	} else if (!strcmp(req->path, "/metrics")) {
		route = "/metrics";
		if (method_is(req, "GET"))
			handle_metrics(d, res);
		else
			method_not_allowed(res, "GET");
	} else if (ui_handle(d, req, res, u)) {
		route = "ui";
	} else if (!strncmp(req->path, "/api/", 5)) {
		pthread_rwlock_rdlock(&d->settings_lock);
		struct caller c = {token_ok(req, d->settings->api_token), u};
		int ownership = d->settings->register_field_ownership;
		int open = d->settings->dashboard_public;
		pthread_rwlock_unlock(&d->settings_lock);
		if (!strcmp(req->path, "/api/v1/events")) {
			/* as open as the pages it refreshes: a browser's EventSource sends no token
			 */
			route = "/api/v1/events";
			if (open || !api_auth(d, req, res, &c))
				handle_events(d, req, res);
		} else if (!strcmp(req->path, "/api/v1/me")) {
			/* open: a public dashboard asks too, and learns only that nobody is logged
			 * in */
			route = "/api/v1/me";
			handle_me(req, res, &c);
		} else if (api_auth(d, req, res, &c)) {
			route = "unauthorized";
		} else {
			route = route_api(d, req, res, ownership, c.by_token ? "api" : u->name);
		}
	} else {
		route = "static";
		handle_site(d, req, res, u);
	}
	if (res->status) /* 0: deferred, counted when the reply is built */
		metrics_request(&d->metrics, route, res->status);
	log_debug("%s %s %s -> %d", req->remote_ip, req->method, req->path, res->status);
}
