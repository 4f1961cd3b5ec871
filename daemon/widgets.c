#include "widgets.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "../common/buf.h"
#include "../common/clock.h"
#include "../common/log.h"
#include "../common/xalloc.h"
#include "../store/widgetkey.h"
#include "../store/widgetvals.h"
#include "curlget.h"
#include "serve.h"
#include "widgetdef.h"
#include "../common/banned.h"

/* Transfers in flight at once: 500 widgets of 3 requests fit in one go. */
#define MAX_IN_FLIGHT 512
/* A response larger than this is cut off (and fails as malformed). */
#define BODY_MAX (4u << 20)
/* When the daily prune runs, local time. */
#define PRUNE_HOUR   0
#define PRUNE_MINUTE 15

struct widgets {
	struct daemon *d;
	struct widget_defs *defs;
	unsigned char secret[crypto_secretbox_KEYBYTES];
	CURLM *multi;
	pthread_t thread;
	int started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop, wake;
	unsigned long long rounds, samples;
	double last_seconds, last_cpu;
};

/* One service's sample in a round. */
struct job {
	uint64_t id;
	char *config; /* the widget configuration sampled (canonical text) */
	struct widget_sample *s;
	size_t pending; /* requests of the current phase not answered yet */
	int done;
};

struct xfer {
	struct job *job;
	size_t index;
	size_t slot; /* in round.queue, until it finishes */
	int started;
	CURL *easy;
	struct curl_slist *headers;
	struct buf body;
	int cut;
	char errbuf[CURL_ERROR_SIZE];
};

struct round {
	struct widgets *w;
	struct job *jobs;
	size_t njobs;
	struct xfer **queue; /* made, not yet started (bounded in-flight count) */
	size_t nqueue, aqueue, qhead;
	size_t in_flight;
	long timeout;
};

static size_t write_body(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;
	if (x->body.len + len > BODY_MAX) {
		x->cut = 1;
		return 0;
	}
	buf_add(&x->body, p, len);
	return len;
}

static void xfer_free(struct xfer *x)
{
	if (!x)
		return;
	if (x->easy)
		curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->headers);
	buf_release(&x->body);
	free(x);
}

static void queue_phase(struct round *r, struct job *j)
{
	const struct widget_request *reqs = NULL;
	size_t n = widget_sample_requests(j->s, &reqs);
	j->pending = n;
	if (!n) {
		j->done = 1;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct xfer *x = xcalloc(1, sizeof(*x));
		x->job = j;
		x->index = i;
		buf_init(&x->body, 0);
		for (const char *const *h = reqs[i].headers; h && *h; h++)
			x->headers = curl_slist_append(x->headers, *h);
		if (!(x->easy = curl_easy_init()) ||
		    curlget_setup(x->easy, reqs[i].url, r->timeout, write_body, x, x->errbuf, x) ||
		    /* the key is in a header libcurl would send on to wherever a redirect points */
		    curl_easy_setopt(x->easy, CURLOPT_FOLLOWLOCATION, 0L) ||
		    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers)) {
			widget_sample_answer(j->s, i, 0, NULL, 0,
			                     "connect: cannot set up the request");
			xfer_free(x);
			if (--j->pending == 0)
				queue_phase(r, j);
			continue;
		}
		if (r->nqueue == r->aqueue) {
			r->aqueue = r->aqueue ? 2 * r->aqueue : 64;
			r->queue = xrealloc(r->queue, r->aqueue * sizeof(*r->queue));
		}
		x->slot = r->nqueue;
		r->queue[r->nqueue++] = x;
	}
}

static void start_queued(struct round *r)
{
	while (r->qhead < r->nqueue && r->in_flight < MAX_IN_FLIGHT) {
		struct xfer *x = r->queue[r->qhead++];
		if (curl_multi_add_handle(r->w->multi, x->easy) != CURLM_OK) {
			struct job *j = x->job;
			widget_sample_answer(j->s, x->index, 0, NULL, 0,
			                     "connect: cannot start the request");
			r->queue[x->slot] = NULL;
			xfer_free(x);
			if (--j->pending == 0)
				queue_phase(r, j);
			continue;
		}
		x->started = 1;
		r->in_flight++;
	}
}

/* "timeout: …", "connect: …": the class the definition engine reports. */
static void transport_error(CURLcode cc, const char *errbuf, char *out, size_t size)
{
	const char *cls = cc == CURLE_OPERATION_TIMEDOUT     ? "timeout"
	                  : cc == CURLE_COULDNT_RESOLVE_HOST ? "connect"
	                  : cc == CURLE_COULDNT_CONNECT      ? "connect"
	                                                     : "transport";
	snprintf(out, size, "%s: %s", cls, errbuf && *errbuf ? errbuf : curl_easy_strerror(cc));
}

static void finish(struct round *r, CURL *easy, CURLcode cc)
{
	struct xfer *x = NULL;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
	curl_multi_remove_handle(r->w->multi, easy);
	r->in_flight--;
	struct job *j = x->job;
	long status = 0;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	if (cc == CURLE_OK) {
		widget_sample_answer(j->s, x->index, status, x->body.data ? x->body.data : "",
		                     x->body.len, NULL);
	} else {
		char msg[CURL_ERROR_SIZE + 32];
		if (x->cut)
			snprintf(msg, sizeof(msg), "toobig: response larger than %u bytes",
			         BODY_MAX);
		else
			transport_error(cc, x->errbuf, msg, sizeof(msg));
		widget_sample_answer(j->s, x->index, status, NULL, 0, msg);
	}
	r->queue[x->slot] = NULL;
	xfer_free(x);
	if (--j->pending == 0)
		queue_phase(r, j); /* the follow-up requests (foreach), or done */
}

/* --- collecting the jobs ---------------------------------------------------- */

struct collect {
	struct widgets *w;
	struct store_txn *t;
	struct round *r;
	time_t now;
};

json_t *widget_engine_config(const json_t *cfg)
{
	if (strcmp(json_string_value(json_object_get(cfg, "type")) ?: "", "json"))
		return NULL;
	json_t *fields = json_array(), *f;
	size_t i;
	json_array_foreach (json_object_get(cfg, "fields"), i, f) {
		json_t *o = json_object();
		const char *k;
		json_t *v;
		json_object_foreach (f, k, v)
			if (!json_is_null(v))
				json_object_set(o, k, v);
		json_array_append_new(fields, o);
	}
	json_t *out = json_pack("{s:o}", "fields", fields);
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)cfg, k, v)
		if ((!strcmp(k, "key_header") || !strcmp(k, "key_query")) && json_is_string(v))
			json_object_set(out, k, v);
	return out;
}

static int collect_one(const struct store_record *rec, void *arg)
{
	struct collect *c = arg;
	if (!rec->widget)
		return 0;
	json_t *cfg = json_loads(rec->widget, 0, NULL);
	const char *type = json_string_value(json_object_get(cfg, "type"));
	const char *url = json_string_value(json_object_get(cfg, "url"));
	const struct widget_def *def = type ? widget_defs_find(c->w->defs, type) : NULL;
	if (!def || !url) {
		log_debug("widget of service %llu: unknown type '%s'", (unsigned long long)rec->id,
		          type ? type : "");
		json_decref(cfg);
		return 0;
	}
	char *key = NULL;
	int krc = store_widget_key_get(c->t, rec->id, c->w->secret, &key, NULL);
	if (krc == ERR_AUTH) /* the key file was replaced: say so rather than send no key */
		log_warn(
		    "widget of service %llu: its API key does not decrypt with %s; set it again",
		    (unsigned long long)rec->id, STORE_WIDGET_KEYFILE);
	if (krc)
		key = NULL;
	json_t *engine_cfg = widget_engine_config(cfg);
	struct round *r = c->r;
	r->jobs = xrealloc(r->jobs, (r->njobs + 1) * sizeof(*r->jobs));
	struct job *j = &r->jobs[r->njobs++];
	memset(j, 0, sizeof(*j));
	j->id = rec->id;
	j->config = xstrdup(rec->widget);
	j->s = widget_sample_new(def, url, key, engine_cfg, c->now);
	store_widget_key_free(key);
	json_decref(engine_cfg);
	json_decref(cfg);
	return 0;
}

/* --- recording -------------------------------------------------------------- */

struct record_job {
	struct round *r;
	int64_t now;
	int changed;
};

static int apply_values(struct store_txn *t, void *ctx, struct err *e)
{
	struct record_job *rj = ctx;
	int rc = 0;
	for (size_t i = 0; i < rj->r->njobs && !rc; i++) {
		const struct job *j = &rj->r->jobs[i];
		const struct widget_value *v = NULL;
		size_t n = j->s ? widget_sample_values(j->s, &v) : 0;
		/* configured otherwise (or removed) while the round ran: not this widget's values
		 */
		struct store_record now;
		if (!n || store_db_get(t, j->id, &now, NULL))
			continue;
		int same = now.widget && j->config && !strcmp(now.widget, j->config);
		store_record_release(&now);
		if (!same)
			continue;
		for (size_t k = 0; k < n && !rc; k++) {
			int changed = 0;
			if (v[k].has_value && isfinite(v[k].value))
				rc = store_widget_record(t, j->id, v[k].key, rj->now, v[k].value,
				                         &changed, e);
			else
				rc =
				    store_widget_record_error(t, j->id, v[k].key, rj->now,
				                              v[k].has_value     ? "missing"
				                              : v[k].error_class ? v[k].error_class
				                                                 : "error",
				                              v[k].has_value ? "not a finite number"
				                              : v[k].message ? v[k].message
				                                             : "",
				                              &changed, e);
			if (rc == ERR_INVAL) { /* one odd value must not cost the others theirs */
				log_warn("widgets: service %llu field '%s': %s",
				         (unsigned long long)j->id, v[k].key, e->msg);
				rc = 0;
			}
			rj->changed |= changed;
		}
	}
	return rc;
}

static void run_round(struct widgets *w)
{
	struct daemon *d = w->d;
	struct rusage ru0, ru1;
	getrusage(RUSAGE_THREAD, &ru0);
	double t0 = clock_mono_s();
	struct round r = {0};
	r.w = w;
	pthread_rwlock_rdlock(&d->settings_lock);
	r.timeout = d->settings->widget_timeout;
	pthread_rwlock_unlock(&d->settings_lock);
	struct store_txn *t;
	struct err e = {0};
	if (store_txn_begin(d->app.db, 0, &t, &e)) {
		log_error("widgets: %s", e.msg);
		return;
	}
	struct collect c = {w, t, &r, time(NULL)};
	store_db_foreach(t, collect_one, &c, NULL);
	store_txn_abort(t);
	for (size_t i = 0; i < r.njobs; i++)
		if (r.jobs[i].s)
			queue_phase(&r, &r.jobs[i]);
		else
			r.jobs[i].done = 1;
	for (;;) {
		start_queued(&r);
		if (!r.in_flight && r.qhead == r.nqueue)
			break;
		int running = 0;
		curl_multi_perform(w->multi, &running);
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(w->multi, &left)))
			if (m->msg == CURLMSG_DONE)
				finish(&r, m->easy_handle, m->data.result);
		pthread_mutex_lock(&w->lock);
		int stop = w->stop;
		pthread_mutex_unlock(&w->lock);
		if (stop)
			break;
		if (r.in_flight)
			curl_multi_poll(w->multi, NULL, 0, 200, NULL);
	}
	/* abandoned on stop: whatever is still in flight or queued */
	for (size_t i = 0; i < r.nqueue; i++)
		if (r.queue[i]) {
			if (r.queue[i]->started)
				curl_multi_remove_handle(w->multi, r.queue[i]->easy);
			xfer_free(r.queue[i]);
		}
	free(r.queue);
	struct record_job rj = {&r, (int64_t)time(NULL), 0};
	if (r.njobs && writer_submit(d->writer, apply_values, &rj, &e))
		log_error("widgets: cannot record the values: %s", e.msg);
	if (rj.changed)
		sitegen_wake(d->sitegen);
	getrusage(RUSAGE_THREAD, &ru1);
	pthread_mutex_lock(&w->lock);
	w->rounds++;
	w->samples += r.njobs;
	w->last_seconds = clock_mono_s() - t0;
	w->last_cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
	              (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
	              (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
	              (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
	pthread_mutex_unlock(&w->lock);
	if (r.njobs)
		log_debug("widgets: %zu sampled in %.0f ms", r.njobs, w->last_seconds * 1000);
	for (size_t i = 0; i < r.njobs; i++) {
		widget_sample_free(r.jobs[i].s);
		free(r.jobs[i].config);
	}
	free(r.jobs);
}

/* --- retention ---------------------------------------------------------------- */

static int apply_prune(struct store_txn *t, void *ctx, struct err *e)
{
	int64_t *before = ctx;
	size_t removed = 0;
	return store_widget_prune(t, *before, &removed, e);
}

static void prune(struct widgets *w)
{
	pthread_rwlock_rdlock(&w->d->settings_lock);
	int days = w->d->settings->widget_value_retention_days;
	pthread_rwlock_unlock(&w->d->settings_lock);
	int64_t before = (int64_t)time(NULL) - (int64_t)days * 86400;
	struct err e = {0};
	if (writer_submit(w->d->writer, apply_prune, &before, &e))
		log_error("widgets: prune: %s", e.msg);
}

/* The next local PRUNE_HOUR:PRUNE_MINUTE after now. */
static time_t next_prune(time_t now)
{
	struct tm tm;
	localtime_r(&now, &tm);
	tm.tm_hour = PRUNE_HOUR;
	tm.tm_min = PRUNE_MINUTE;
	tm.tm_sec = 0;
	tm.tm_isdst = -1;
	time_t at = mktime(&tm);
	if (at <= now) {
		tm.tm_mday++;
		tm.tm_isdst = -1;
		at = mktime(&tm);
	}
	return at;
}

static void *sampler_main(void *arg)
{
	struct widgets *w = arg;
	time_t prune_at = next_prune(time(NULL));
	prune(w); /* at start too: a daemon down at 00:15 still keeps the limit */
	double next_round = 0;
	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		double now = clock_mono_s();
		if (w->wake || now >= next_round) {
			w->wake = 0;
			pthread_mutex_unlock(&w->lock);
			run_round(w);
			pthread_rwlock_rdlock(&w->d->settings_lock);
			int every = w->d->settings->widget_background_reload;
			pthread_rwlock_unlock(&w->d->settings_lock);
			next_round = clock_mono_s() + every;
			pthread_mutex_lock(&w->lock);
			continue;
		}
		if (time(NULL) >= prune_at) {
			pthread_mutex_unlock(&w->lock);
			prune(w);
			prune_at = next_prune(time(NULL));
			pthread_mutex_lock(&w->lock);
			continue;
		}
		double wait = next_round - now;
		double to_prune = difftime(prune_at, time(NULL));
		if (to_prune < wait)
			wait = to_prune;
		struct timespec ts;
		clock_deadline_ms(&ts, (long)(wait * 1000) + 1);
		pthread_cond_timedwait(&w->cond, &w->lock, &ts);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int widgets_new(struct widgets **out, struct daemon *d, struct err *e)
{
	struct widgets *w = xcalloc(1, sizeof(*w));
	w->d = d;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	struct buf problems;
	buf_init(&problems, 0);
	int rc = widget_defs_load(&w->defs, d->app.config, &problems, e);
	if (problems.len) /* an invalid override: the built-in stays, the problem is logged */
		log_warn("widgets: %s", problems.data);
	buf_release(&problems);
	if (!rc)
		rc = store_widget_keyfile_load(w->secret, d->app.config, e);
	if (!rc && !(w->multi = curl_multi_init()))
		rc = err_set(e, ERR_IO, "cannot set up libcurl for widgets");
	if (rc) {
		widgets_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

int widgets_run(struct widgets *w, struct err *e)
{
	if (pthread_create(&w->thread, NULL, sampler_main, w))
		return err_set(e, ERR_IO, "cannot start the widget sampler");
	w->started = 1;
	return 0;
}

void widgets_stop(struct widgets *w)
{
	if (!w || !w->started)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	curl_multi_wakeup(w->multi);
	pthread_join(w->thread, NULL);
	w->started = 0;
}

void widgets_free(struct widgets *w)
{
	if (!w)
		return;
	widgets_stop(w);
	if (w->multi)
		curl_multi_cleanup(w->multi);
	widget_defs_free(w->defs);
	sodium_memzero(w->secret, sizeof(w->secret));
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

void widgets_wake(struct widgets *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->wake = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

const struct widget_defs *widgets_defs(const struct widgets *w)
{
	return w ? w->defs : NULL;
}

const unsigned char *widgets_secret(const struct widgets *w)
{
	return w->secret;
}

void widgets_stats(struct widgets *w, unsigned long long *rounds, unsigned long long *samples,
                   double *last_seconds, double *last_cpu)
{
	pthread_mutex_lock(&w->lock);
	*rounds = w->rounds;
	*samples = w->samples;
	*last_seconds = w->last_seconds;
	*last_cpu = w->last_cpu;
	pthread_mutex_unlock(&w->lock);
}
