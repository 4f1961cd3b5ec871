#include "health.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../common/xalloc.h"
#include "../store/health.h"
#include "../store/record.h"
#include "curlget.h"
#include "serve.h"
#include "../common/banned.h"

#define BODY_MAX    (64 * 1024) /* a status is all we need: read this much at most */
#define RESCAN_S    10.0        /* look for new or changed URLs this often */
#define WAKE_MIN_S  1.0         /* and, when woken, at most this often */
#define POLL_MAX_MS 1000        /* a stop is noticed within this even without a wakeup */

/* One URL to check; the list is sorted by (id, dir). */
struct target {
	uint64_t id;
	int dir; /* enum store_health_dir */
	char *url;
	int timeout; /* seconds; 0 = HEALTHCHECK_TIMEOUT */
	double due;  /* monotonic seconds */
	int started; /* in this pass */
};

/* One transfer in flight (the easy handle's private pointer). */
struct check {
	CURL *easy;
	uint64_t id;
	int dir;
	char *url;
	size_t body;
	int body_cut; /* we stopped reading on purpose */
	char errbuf[CURL_ERROR_SIZE];
	struct check *prev, *next;
};

/* A result on its way to the writer; self-contained so it may outlive the checker. */
struct result_job {
	uint64_t id;
	int dir;
	char *url;
	struct store_health_result r;
	int changed;
};

struct knobs {
	int interval, timeout, concurrency;
};

struct health {
	struct daemon *d;
	pthread_t thread;
	CURLM *multi;
	atomic_int stop;
	atomic_int wake;
	pthread_mutex_t lock; /* guards the stats */
	unsigned long long checks;
	unsigned in_flight;
	/* the thread's own */
	struct target *t;
	size_t n;
	size_t pending; /* targets not started in this pass */
	double next_pass, last_scan;
	unsigned long long passes;
	int behind_logged;
	unsigned running;
	struct check *checks_head;
};

static void read_knobs(struct health *h, struct knobs *k)
{
	pthread_rwlock_rdlock(&h->d->settings_lock);
	k->interval = h->d->settings->url_healthcheck_interval;
	k->timeout = h->d->settings->healthcheck_timeout;
	k->concurrency = h->d->settings->healthcheck_concurrency;
	pthread_rwlock_unlock(&h->d->settings_lock);
}

static int target_cmp(const void *a, const void *b)
{
	const struct target *x = a, *y = b;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->dir - y->dir;
}

static void targets_free(struct target *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(t[i].url);
	free(t);
}

struct scan {
	struct target *v;
	size_t n, cap;
};

static void scan_add(struct scan *s, uint64_t id, int dir, const char *url, int timeout)
{
	if (!url || !*url)
		return;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] =
	    (struct target){.id = id, .dir = dir, .url = xstrdup(url), .timeout = timeout};
}

static int scan_one(const struct store_record *r, void *arg)
{
	struct scan *s = arg;
	int64_t tv = r->health_check_timeout.value;
	int timeout = r->health_check_timeout.set && tv >= 1 && tv <= 60 ? (int)tv : 0;
	if (r->internal_health_check_enabled)
		scan_add(s, r->id, STORE_HEALTH_INTERNAL, r->internalurl, timeout);
	if (r->external_health_check_enabled)
		scan_add(s, r->id, STORE_HEALTH_EXTERNAL, r->externalurl, timeout);
	return 0;
}

/* The URLs to check now, sorted; -1 (logged) when the store cannot be read. */
static int scan_store(struct health *h, struct scan *s)
{
	struct store_txn *t = NULL;
	struct err e = {0};
	memset(s, 0, sizeof(*s));
	int rc = store_txn_begin(h->d->app.db, 0, &t, &e);
	if (!rc)
		rc = store_db_foreach(t, scan_one, s, &e);
	store_txn_abort(t);
	if (rc) {
		log_error("health checks: cannot read the services: %s", e.msg);
		targets_free(s->v, s->n);
		return -1;
	}
	if (s->n) /* qsort(NULL, 0) is undefined behaviour */
		qsort(s->v, s->n, sizeof(*s->v), target_cmp);
	return 0;
}

/*
 * Make a fresh scan the target list. A new pass (reset) makes every target
 * due, spacing seconds apart; a re-scan keeps the schedule of the targets
 * it already had and makes new or changed URLs due at once.
 */
static void adopt(struct health *h, struct scan *s, double now, int reset, double spacing)
{
	size_t j = 0;
	h->pending = 0;
	for (size_t i = 0; i < s->n; i++) {
		struct target *nt = &s->v[i];
		if (reset) {
			nt->due = now + (double)i * spacing;
		} else {
			while (j < h->n && target_cmp(&h->t[j], nt) < 0)
				j++;
			if (j < h->n && !target_cmp(&h->t[j], nt) &&
			    !strcmp(h->t[j].url, nt->url)) {
				nt->due = h->t[j].due;
				nt->started = h->t[j].started;
			} else {
				nt->due = now;
			}
		}
		if (!nt->started)
			h->pending++;
	}
	targets_free(h->t, h->n);
	h->t = s->v;
	h->n = s->n;
}

static void begin_pass(struct health *h, const struct knobs *k, double now)
{
	struct scan s;
	h->last_scan = now;
	if (scan_store(h, &s)) {
		h->next_pass = now + RESCAN_S;
		return;
	}
	/*
	 * The first pass goes out at once (bounded by the concurrency); later
	 * ones, when there are more URLs than run at once, start one every
	 * interval/N seconds so the load does not come in bursts.
	 */
	double spacing = 0;
	if (h->passes && s.n > (size_t)k->concurrency)
		spacing = (double)k->interval / (double)s.n;
	adopt(h, &s, now, 1, spacing);
	h->next_pass = now + k->interval;
	h->passes++;
	h->behind_logged = 0;
	log_debug("health checks: pass %llu, %zu url(s)", h->passes, h->n);
}

static void rescan(struct health *h, double now)
{
	struct scan s;
	h->last_scan = now;
	if (!scan_store(h, &s))
		adopt(h, &s, now, 0, 0);
}

static struct target *find_target(struct health *h, uint64_t id, int dir)
{
	struct target key = {.id = id, .dir = dir};
	return h->n ? bsearch(&key, h->t, h->n, sizeof(*h->t), target_cmp) : NULL;
}

static size_t write_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	(void)ptr;
	struct check *c = arg;
	size_t n = size * nmemb;
	c->body += n;
	if (c->body > BODY_MAX) {
		c->body_cut = 1;
		return 0; /* CURLE_WRITE_ERROR: enough body, the status is in */
	}
	return n;
}

static int error_class(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return STORE_HEALTH_DNS;
	case CURLE_COULDNT_CONNECT:
		return STORE_HEALTH_REFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return STORE_HEALTH_TIMEOUT;
	case CURLE_PEER_FAILED_VERIFICATION: /* also CURLE_SSL_CACERT */
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CLIENTCERT:
		return STORE_HEALTH_TLS;
	case CURLE_TOO_MANY_REDIRECTS:
		return STORE_HEALTH_TOO_MANY_REDIRECTS;
	default:
		return STORE_HEALTH_OTHER;
	}
}

static void check_free(struct check *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->easy);
	free(c->url);
	free(c);
}

static void set_running(struct health *h, int delta, int finished)
{
	h->running = (unsigned)((int)h->running + delta);
	pthread_mutex_lock(&h->lock);
	h->in_flight = h->running;
	h->checks += (unsigned long long)finished;
	pthread_mutex_unlock(&h->lock);
}

static int configure(struct check *c, const struct knobs *k, int own_timeout)
{
	long timeout = own_timeout ? own_timeout : k->timeout;
	if (curlget_setup(c->easy, c->url, timeout, write_body, c, c->errbuf, c))
		return -1;
	/* each check is a new client's view, and no idle sockets linger between passes */
	return curl_easy_setopt(c->easy, CURLOPT_FORBID_REUSE, 1L) ? -1 : 0;
}

static void start_check(struct health *h, struct target *t, const struct knobs *k)
{
	t->started = 1;
	h->pending--;
	struct check *c = xcalloc(1, sizeof(*c));
	c->id = t->id;
	c->dir = t->dir;
	c->url = xstrdup(t->url);
	if (!(c->easy = curl_easy_init()) || configure(c, k, t->timeout) ||
	    curl_multi_add_handle(h->multi, c->easy) != CURLM_OK) {
		log_error("health check '%s': cannot set up the transfer", c->url);
		check_free(c);
		return;
	}
	c->next = h->checks_head;
	if (c->next)
		c->next->prev = c;
	h->checks_head = c;
	set_running(h, 1, 0);
}

/* Start what is due while there is room; *next_due gets the earliest still waiting. */
static void start_due(struct health *h, const struct knobs *k, double now, double *next_due)
{
	*next_due = -1;
	for (size_t i = 0; i < h->n && h->pending; i++) {
		struct target *t = &h->t[i];
		if (t->started)
			continue;
		if (t->due <= now && h->running < (unsigned)k->concurrency)
			start_check(h, t, k);
		else if (*next_due < 0 || t->due < *next_due)
			*next_due = t->due;
	}
}

static int apply_result(struct store_txn *t, void *ctx, struct err *e)
{
	struct result_job *j = ctx;
	return store_health_record(t, j->id, j->dir, j->url, &j->r, &j->changed, e);
}

/* Writer thread: log once per state change, not once per check. */
static void result_done(void *arg, int rc, const struct err *e)
{
	struct result_job *j = arg;
	if (!rc && j->changed) {
		int state = store_health_state_of(&j->r);
		const char *name = store_health_state_name(state);
		if (state == STORE_HEALTH_UP)
			log_info("health check '%s': %s (%d)", j->url, name, j->r.status);
		else if (j->r.error != STORE_HEALTH_OK)
			log_warn("health check '%s': %s: %s", j->url, name, j->r.msg);
		else
			log_warn("health check '%s': %s (HTTP %d)", j->url, name, j->r.status);
	} else if (rc && rc != ERR_NOTFOUND) { /* NOTFOUND: the service was deleted meanwhile */
		log_error("health check '%s': cannot record the result: %s", j->url, e->msg);
	}
	free(j->url);
	free(j);
}

static void submit_result(struct health *h, struct check *c, const struct store_health_result *r)
{
	struct target *t = find_target(h, c->id, c->dir);
	if (!t || strcmp(t->url, c->url))
		return; /* the URL changed or its check was turned off meanwhile */
	struct result_job *j = xcalloc(1, sizeof(*j));
	j->id = c->id;
	j->dir = c->dir;
	j->url = xstrdup(c->url);
	j->r = *r;
	struct err e = {0};
	if (writer_submit_async(h->d->writer, apply_result, j, result_done, j, &e)) {
		free(j->url);
		free(j);
	}
}

static void finish_check(struct health *h, CURL *easy, CURLcode cc)
{
	char *priv = NULL;
	long code = 0;
	curl_off_t us = 0;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &us);
	struct check *c = (struct check *)priv;
	struct store_health_result r;
	memset(&r, 0, sizeof(r));
	r.at = (int64_t)time(NULL);
	r.ms = (int)(us / 1000);
	if (cc == CURLE_OK || (cc == CURLE_WRITE_ERROR && c->body_cut && code > 0)) {
		r.status = (int)code;
	} else {
		r.error = error_class(cc);
		const char *msg = c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc);
		size_t n = strnlen(msg, sizeof(r.msg) - 1); /* curl's messages can be longer: cut */
		memcpy(r.msg, msg, n);
		r.msg[n] = 0;
	}
	submit_result(h, c, &r);
	curl_multi_remove_handle(h->multi, easy);
	if (c->prev)
		c->prev->next = c->next;
	else
		h->checks_head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	check_free(c);
	set_running(h, -1, 1);
}

static void drain(struct health *h)
{
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(h->multi, &left)))
		if (m->msg == CURLMSG_DONE)
			finish_check(h, m->easy_handle, m->data.result);
}

/* Milliseconds until the loop has something to do, at most POLL_MAX_MS. */
static int poll_ms(struct health *h, const struct knobs *k, double now, double next_due)
{
	double until = now + POLL_MAX_MS / 1000.0;
	if (next_due >= 0 && h->running < (unsigned)k->concurrency && next_due < until)
		until = next_due;
	if (h->next_pass < until)
		until = h->next_pass;
	double scan_at = h->last_scan + (atomic_load(&h->wake) ? WAKE_MIN_S : RESCAN_S);
	if (scan_at < until)
		until = scan_at;
	double ms = (until - now) * 1000.0;
	return ms <= 0 ? 0 : (int)ms + 1;
}

static void tick(struct health *h, const struct knobs *k, double now)
{
	if (now >= h->next_pass) {
		if (!h->pending) {
			begin_pass(h, k, now);
			return;
		}
		if (!h->behind_logged) {
			h->behind_logged = 1;
			log_warn(
			    "health checks: %zu url(s) still waiting when the next pass is due; "
			    "raise HEALTHCHECK_CONCURRENCY or URL_HEALTHCHECK_INTERVAL",
			    h->pending);
		}
	}
	if (now - h->last_scan >= RESCAN_S ||
	    (atomic_load(&h->wake) && now - h->last_scan >= WAKE_MIN_S)) {
		atomic_store(&h->wake, 0);
		rescan(h, now);
	}
}

static void *health_main(void *arg)
{
	struct health *h = arg;
	struct knobs k;
	h->next_pass = clock_mono_s();
	while (!atomic_load(&h->stop)) {
		read_knobs(h, &k);
		double now = clock_mono_s(), next_due;
		tick(h, &k, now);
		start_due(h, &k, now, &next_due);
		int still;
		curl_multi_perform(h->multi, &still);
		drain(h);
		now = clock_mono_s();
		if (h->pending && h->running < (unsigned)k.concurrency && next_due >= 0 &&
		    next_due <= now)
			continue;
		curl_multi_poll(h->multi, NULL, 0, poll_ms(h, &k, now, next_due), NULL);
	}
	while (h->checks_head) { /* abandoned: no result for a check cut short by the stop */
		struct check *c = h->checks_head;
		h->checks_head = c->next;
		curl_multi_remove_handle(h->multi, c->easy);
		check_free(c);
	}
	set_running(h, -(int)h->running, 0);
	return NULL;
}

int health_start(struct health **out, struct daemon *d, struct err *e)
{
	struct health *h = xcalloc(1, sizeof(*h));
	h->d = d;
	atomic_init(&h->stop, 0);
	atomic_init(&h->wake, 0);
	pthread_mutex_init(&h->lock, NULL);
	if (!(h->multi = curl_multi_init())) {
		pthread_mutex_destroy(&h->lock);
		free(h);
		return err_set(e, ERR_IO, "cannot create the curl multi handle");
	}
	/* Sockets are not reused (CURLOPT_FORBID_REUSE): keep no cache to speak of. */
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, 16L);
	if (pthread_create(&h->thread, NULL, health_main, h)) {
		curl_multi_cleanup(h->multi);
		pthread_mutex_destroy(&h->lock);
		free(h);
		return err_set(e, ERR_IO, "cannot start the health check thread");
	}
	pthread_setname_np(h->thread, "health"); /* top -H, bench/health_bench.sh */
	*out = h;
	return 0;
}

void health_wake(struct health *h)
{
	if (!h)
		return;
	atomic_store(&h->wake, 1);
	curl_multi_wakeup(h->multi);
}

void health_stop(struct health *h)
{
	if (!h)
		return;
	atomic_store(&h->stop, 1);
	curl_multi_wakeup(h->multi);
	pthread_join(h->thread, NULL);
	curl_multi_cleanup(h->multi);
	targets_free(h->t, h->n);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

void health_stats(struct health *h, unsigned long long *checks, unsigned *in_flight)
{
	*checks = 0;
	*in_flight = 0;
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	*checks = h->checks;
	*in_flight = h->in_flight;
	pthread_mutex_unlock(&h->lock);
}

/* One direction's results as JSON, or JSON null when never checked. */
static int dir_json(struct store_txn *t, uint64_t id, int dir, int with_history, json_t **out,
                    struct err *e)
{
	struct store_health sh;
	memset(&sh, 0, sizeof(sh));
	int rc = store_health_get(t, id, dir, &sh, e);
	if (rc == ERR_NOTFOUND) {
		*out = json_null();
		return 0;
	}
	if (rc)
		return rc;
	*out = store_health_to_json(&sh, with_history);
	store_health_release(&sh);
	return 0;
}

static int both_dirs(struct store_txn *t, uint64_t id, int with_history, json_t *obj, struct err *e)
{
	json_t *in = NULL, *ex = NULL;
	int rc = dir_json(t, id, STORE_HEALTH_INTERNAL, with_history, &in, e);
	if (!rc)
		rc = dir_json(t, id, STORE_HEALTH_EXTERNAL, with_history, &ex, e);
	if (!rc) {
		json_object_set_new(obj, "internal", in);
		json_object_set_new(obj, "external", ex);
		return 0;
	}
	json_decref(in);
	json_decref(ex);
	return rc;
}

struct list_ctx {
	struct store_txn *t;
	json_t *services;
	struct err *e;
};

static int list_one(const struct store_record *r, void *arg)
{
	struct list_ctx *l = arg;
	json_t *o = json_pack("{s:I,s:s?,s:s?}", "id", (json_int_t)r->id, "host", r->host,
	                      "container_name", r->container_name);
	int rc = both_dirs(l->t, r->id, 0, o, l->e);
	if (rc) {
		json_decref(o);
		return rc;
	}
	json_array_append_new(l->services, o);
	return 0;
}

int health_list_json(struct store_txn *t, json_t **out, struct err *e)
{
	struct list_ctx l = {t, json_array(), e};
	int rc = store_db_foreach(t, list_one, &l, e);
	if (rc) {
		json_decref(l.services);
		return rc;
	}
	*out = json_pack("{s:o}", "services", l.services);
	return 0;
}

int health_service_json(struct store_txn *t, uint64_t id, json_t **out, struct err *e)
{
	struct store_record r;
	store_record_init(&r);
	int rc = store_db_get(t, id, &r, e);
	store_record_release(&r);
	if (rc)
		return rc;
	json_t *o = json_object();
	if ((rc = both_dirs(t, id, 1, o, e))) {
		json_decref(o);
		return rc;
	}
	*out = o;
	return 0;
}
