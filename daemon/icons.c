#include "icons.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "../common/buf.h"
#include "../common/clock.h"
#include "../common/fileio.h"
#include "../common/log.h"
#include "../common/xalloc.h"
#include "../store/icons.h"
#include "../store/record.h"
#include "curlget.h"
#include "serve.h"
#include "../common/banned.h"

#define RUNNING_MAX 4    /* icons are few and small: no need to hammer a CDN */
#define RESCAN_S    60.0 /* look for names whose retry time has come this often */
#define WAKE_MIN_S  1.0  /* and, when woken, at most this often */
#define POLL_MAX_MS 1000 /* a stop is noticed within this even without a wakeup */

/* One name being fetched: its candidate URLs are tried in order. */
struct job {
	char *name;
	int force;   /* a refresh: fetch even when the file exists */
	char **urls; /* candidates, with the file each would be saved as */
	char **files;
	enum store_icon_kind *kinds;
	size_t n, next;
	char *why; /* why the last candidate failed */
	int all_404;
	int too_big; /* the body went over STORE_ICON_MAX_BYTES: reading stopped */
	CURL *easy;
	struct buf body;
	char errbuf[CURL_ERROR_SIZE];
	struct job *next_job;
};

/* A failure or a success on its way to LMDB. */
struct fail_job {
	char *name;
	int64_t at; /* 0: forget the failure */
	char *why;
};

struct icons {
	struct daemon *d;
	char *images_dir;
	pthread_t thread;
	CURLM *multi;
	atomic_int stop;
	atomic_int wake;
	pthread_mutex_t lock; /* guards forced and the stats */
	json_t *forced;       /* names a refresh asked for */
	unsigned long long fetched, failed;
	/* the thread's own */
	json_t *active; /* name -> true while queued or in flight */
	json_t *tried;  /* name -> unix time it last failed in this process */
	struct job *queue, *queue_tail;
	struct job *running[RUNNING_MAX];
	double last_scan;
};

struct knobs {
	char *sources; /* NULL when fetching is off */
	int retry_after, timeout;
};

static void read_knobs(struct icons *ic, struct knobs *k)
{
	pthread_rwlock_rdlock(&ic->d->settings_lock);
	const struct settings *s = ic->d->settings;
	k->sources = strcmp(s->icon_sources, "none") ? xstrdup(s->icon_sources) : NULL;
	k->retry_after = s->icon_retry_after;
	k->timeout = s->icon_fetch_timeout;
	pthread_rwlock_unlock(&ic->d->settings_lock);
}

/* --- which names ---------------------------------------------------------- */

static int collect_service(const struct store_record *r, void *arg)
{
	if (r->image_icon && *r->image_icon)
		json_object_set_new(arg, r->image_icon, json_true());
	return 0;
}

/* Every icon name services and groups use, as the keys of a new object. */
static json_t *names_in_use(struct store_txn *t, struct err *e)
{
	json_t *names = json_object();
	if (store_db_foreach(t, collect_service, names, e)) {
		json_decref(names);
		return NULL;
	}
	json_t *groups = store_group_list(t), *g;
	size_t i;
	json_array_foreach (groups, i, g) {
		const char *icon = json_string_value(json_object_get(g, "icon"));
		if (icon && *icon)
			json_object_set_new(names, icon, json_true());
	}
	json_decref(groups);
	return names;
}

char *icons_local_file(const char *images_dir, const char *name)
{
	if (!store_icon_name_ok(name))
		return NULL;
	int bare = store_icon_name_bare(name);
	for (size_t i = 0; bare ? store_icon_bare_exts[i] != NULL : i == 0; i++) {
		char *file = xasprintf("%s%s", name, bare ? store_icon_bare_exts[i] : "");
		char *path = xasprintf("%s/%s", images_dir, file);
		int there = fileio_exists(path);
		free(path);
		if (there)
			return file;
		free(file);
	}
	return NULL;
}

/* --- jobs ----------------------------------------------------------------- */

static void job_free(struct job *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->n; i++) {
		free(j->urls[i]);
		free(j->files[i]);
	}
	free(j->urls);
	free(j->files);
	free(j->kinds);
	free(j->why);
	free(j->name);
	buf_release(&j->body);
	if (j->easy)
		curl_easy_cleanup(j->easy);
	free(j);
}

/*
 * The URLs to try for name, from the templates ("…/{name}.svg …"): a name
 * with an extension only from templates of that extension, saved as
 * itself; a bare name from every template, saved as name.<ext>.
 */
static void job_candidates(struct job *j, const char *sources)
{
	const char *dot = strrchr(j->name, '.');
	int bare = store_icon_name_bare(j->name);
	enum store_icon_kind want =
	    bare ? STORE_ICON_KIND_UNKNOWN : store_icon_kind_of_ext(dot + 1);
	size_t base = bare ? strlen(j->name) : (size_t)(dot - j->name);
	if (!bare && want == STORE_ICON_KIND_UNKNOWN)
		return; /* .ico: no source serves it */
	for (const char *p = sources; *p;) {
		size_t n = strcspn(p, " ");
		const char *hole = strstr(p, "{name}.");
		const char *ext = hole + 7;
		char *ext_s = xstrndup(ext, (size_t)(p + n - ext));
		enum store_icon_kind kind = store_icon_kind_of_ext(ext_s);
		free(ext_s);
		if (kind != STORE_ICON_KIND_UNKNOWN && (bare || kind == want)) {
			j->urls = xrealloc(j->urls, (j->n + 1) * sizeof(*j->urls));
			j->files = xrealloc(j->files, (j->n + 1) * sizeof(*j->files));
			j->kinds = xrealloc(j->kinds, (j->n + 1) * sizeof(*j->kinds));
			j->urls[j->n] = xasprintf("%.*s%.*s.%s", (int)(hole - p), p, (int)base,
			                          j->name, store_icon_kind_ext(kind));
			j->files[j->n] =
			    bare ? xasprintf("%s.%s", j->name, store_icon_kind_ext(kind))
			         : xstrdup(j->name);
			j->kinds[j->n] = kind;
			j->n++;
		}
		p += n;
		p += strspn(p, " ");
	}
}

static void enqueue(struct icons *ic, const char *name, int force, const char *sources)
{
	struct job *j = xcalloc(1, sizeof(*j));
	j->name = xstrdup(name);
	j->force = force;
	j->all_404 = 1;
	buf_init(&j->body, STORE_ICON_MAX_BYTES);
	job_candidates(j, sources);
	json_object_set_new(ic->active, name, json_true());
	if (ic->queue_tail)
		ic->queue_tail->next_job = j;
	else
		ic->queue = j;
	ic->queue_tail = j;
}

/* Scan the store: queue every name that has no file, is not failing and is not under way. */
static void scan(struct icons *ic, const struct knobs *k)
{
	struct store_txn *t = NULL;
	struct err e = {0};
	json_t *names = NULL;
	ic->last_scan = clock_mono_s();
	if (store_txn_begin(ic->d->app.db, 0, &t, &e) || !(names = names_in_use(t, &e))) {
		log_error("icons: cannot read the services: %s", e.msg);
		store_txn_abort(t);
		return;
	}
	int64_t now = (int64_t)time(NULL);
	const char *name;
	json_t *v;
	json_object_foreach (names, name, v) {
		if (!store_icon_name_fetchable(name) || json_object_get(ic->active, name))
			continue;
		json_t *tried = json_object_get(ic->tried, name);
		if (tried && now - json_integer_value(tried) < k->retry_after)
			continue;
		int64_t failed_at;
		if (!store_icon_fail_get(t, name, &failed_at, NULL, NULL) &&
		    now - failed_at < k->retry_after)
			continue;
		char *file = icons_local_file(ic->images_dir, name);
		if (!file)
			enqueue(ic, name, 0, k->sources);
		free(file);
	}
	store_txn_abort(t);
	json_decref(names);
}

/* --- recording outcomes --------------------------------------------------- */

static int apply_fail(struct store_txn *t, void *ctx, struct err *e)
{
	struct fail_job *f = ctx;
	return f->at ? store_icon_fail_put(t, f->name, f->at, f->why, e)
	             : store_icon_fail_del(t, f->name, e);
}

static void fail_done(void *arg, int rc, const struct err *e)
{
	struct fail_job *f = arg;
	if (rc)
		log_error("icon '%s': cannot record the outcome: %s", f->name, e->msg);
	free(f->name);
	free(f->why);
	free(f);
}

/* Record (at != 0) or forget (at == 0) a failure of name, asynchronously. */
static void submit_fail(struct icons *ic, const char *name, int64_t at, const char *why)
{
	struct fail_job *f = xcalloc(1, sizeof(*f));
	f->name = xstrdup(name);
	f->at = at;
	f->why = why ? xstrdup(why) : NULL;
	struct err e = {0};
	if (writer_submit_async(ic->d->writer, apply_fail, f, fail_done, f, &e)) {
		free(f->name);
		free(f->why);
		free(f);
	}
}

static void count(struct icons *ic, int ok)
{
	pthread_mutex_lock(&ic->lock);
	if (ok)
		ic->fetched++;
	else
		ic->failed++;
	pthread_mutex_unlock(&ic->lock);
}

static void job_failed(struct icons *ic, struct job *j, const struct knobs *k)
{
	const char *why = j->n == 0    ? "no ICON_SOURCES template serves this kind of file"
	                  : j->all_404 ? "not found at any source"
	                               : j->why;
	int64_t now = (int64_t)time(NULL);
	log_info("icon '%s' not fetched: %s; next try in %d s", j->name, why, k->retry_after);
	json_object_set_new(ic->tried, j->name, json_integer(now));
	submit_fail(ic, j->name, now, why);
	count(ic, 0);
}

/* Check the body of candidate i and save it; NULL when the icon is in place, else why not. */
static char *save(struct icons *ic, struct job *j, size_t i)
{
	struct err e = {0};
	enum store_icon_kind kind;
	char *there = j->force ? NULL : icons_local_file(ic->images_dir, j->name);
	if (there) { /* the operator put one in meanwhile: theirs wins */
		free(there);
		return NULL;
	}
	if (store_icon_check(j->body.data, j->body.len, &kind, &e))
		return xasprintf("%s: %s", j->urls[i], e.msg);
	if (kind != j->kinds[i])
		return xasprintf("%s: the content is %s, not %s", j->urls[i],
		                 store_icon_kind_ext(kind), store_icon_kind_ext(j->kinds[i]));
	char *path = xasprintf("%s/%s", ic->images_dir, j->files[i]);
	int rc = fileio_write_atomic(path, j->body.data, j->body.len, NULL, &e);
	free(path);
	return rc ? xasprintf("cannot save '%s': %s", j->files[i], e.msg) : NULL;
}

/* --- transfers ------------------------------------------------------------ */

static size_t write_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct job *j = arg;
	size_t n = size * nmemb;
	/* Over the limit: stop reading (CURLE_WRITE_ERROR); buf_add leaves the buffer alone. */
	if (buf_add(&j->body, ptr, n)) {
		j->too_big = 1;
		return 0;
	}
	return n;
}

static int configure(struct job *j, const struct knobs *k)
{
	return curlget_setup(j->easy, j->urls[j->next], k->timeout, write_body, j, j->errbuf, j);
}

/* Start the job's next candidate; -1 when it could not be started. */
static int start_candidate(struct icons *ic, struct job *j, const struct knobs *k)
{
	buf_reset(&j->body);
	j->too_big = 0;
	j->errbuf[0] = '\0';
	if (!j->easy && !(j->easy = curl_easy_init()))
		return -1;
	curl_easy_reset(j->easy);
	if (configure(j, k) || curl_multi_add_handle(ic->multi, j->easy) != CURLM_OK)
		return -1;
	return 0;
}

static void job_done(struct icons *ic, struct job *j)
{
	for (size_t i = 0; i < RUNNING_MAX; i++)
		if (ic->running[i] == j)
			ic->running[i] = NULL;
	json_object_del(ic->active, j->name);
	job_free(j);
}

/* Start queued jobs while there is room. */
static void start_queued(struct icons *ic, const struct knobs *k)
{
	for (size_t i = 0; i < RUNNING_MAX && ic->queue; i++) {
		if (ic->running[i])
			continue;
		struct job *j = ic->queue;
		ic->queue = j->next_job;
		if (!ic->queue)
			ic->queue_tail = NULL;
		j->next_job = NULL;
		ic->running[i] = j;
		if (!j->n || start_candidate(ic, j, k)) {
			if (j->n) {
				j->why = xasprintf("%s: cannot set up the transfer", j->urls[0]);
				j->all_404 = 0;
			}
			job_failed(ic, j, k);
			job_done(ic, j);
		}
	}
}

/* Why candidate i failed, when it did not get as far as save(). */
static char *transfer_error(const struct job *j, size_t i, CURLcode cc, long code)
{
	if (j->too_big)
		return xasprintf("%s: larger than %d bytes", j->urls[i], STORE_ICON_MAX_BYTES);
	if (cc != CURLE_OK)
		return xasprintf("%s: %s", j->urls[i],
		                 j->errbuf[0] ? j->errbuf : curl_easy_strerror(cc));
	return xasprintf("%s: HTTP %ld", j->urls[i], code);
}

/*
 * A candidate's transfer ended: save it, or try the next one, or give up.
 * The reason kept is the first that is not a 404: "evil.svg has a script"
 * says more than the PNG variant's 404 after it.
 */
static void finish(struct icons *ic, CURL *easy, CURLcode cc, const struct knobs *k)
{
	char *priv = NULL;
	long code = 0;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
	curl_multi_remove_handle(ic->multi, easy);
	struct job *j = (struct job *)priv;
	size_t i = j->next++;
	int fetched = cc == CURLE_OK && code == 200;
	char *why = fetched ? save(ic, j, i) : transfer_error(j, i, cc, code);
	if (!why) {
		log_info("icon '%s' fetched: %s from %s", j->name, j->files[i], j->urls[i]);
		json_object_del(ic->tried, j->name);
		submit_fail(ic, j->name, 0, NULL);
		count(ic, 1);
		sitegen_wake(ic->d->sitegen);
		job_done(ic, j);
		return;
	}
	if (!(cc == CURLE_OK && code == 404) && j->all_404) {
		j->all_404 = 0;
		free(j->why);
		j->why = why;
	} else {
		free(why);
	}
	if (j->next < j->n && !start_candidate(ic, j, k))
		return;
	job_failed(ic, j, k);
	job_done(ic, j);
}

static void take_forced(struct icons *ic, const struct knobs *k)
{
	pthread_mutex_lock(&ic->lock);
	json_t *forced = ic->forced;
	ic->forced = json_array();
	pthread_mutex_unlock(&ic->lock);
	size_t i;
	json_t *v;
	json_array_foreach (forced, i, v) {
		const char *name = json_string_value(v);
		if (json_object_get(ic->active, name) || !k->sources)
			continue; /* under way already */
		json_object_del(ic->tried, name);
		submit_fail(ic, name, 0, NULL);
		enqueue(ic, name, 1, k->sources);
	}
	json_decref(forced);
}

static void *icons_main(void *arg)
{
	struct icons *ic = arg;
	ic->last_scan = -RESCAN_S;
	while (!atomic_load(&ic->stop)) {
		struct knobs k;
		read_knobs(ic, &k);
		double now = clock_mono_s();
		int woken = atomic_load(&ic->wake);
		if (k.sources && (now - ic->last_scan >= RESCAN_S ||
		                  (woken && now - ic->last_scan >= WAKE_MIN_S))) {
			atomic_store(&ic->wake, 0);
			scan(ic, &k);
		}
		take_forced(ic, &k);
		start_queued(ic, &k);
		int still;
		curl_multi_perform(ic->multi, &still);
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(ic->multi, &left)))
			if (m->msg == CURLMSG_DONE)
				finish(ic, m->easy_handle, m->data.result, &k);
		start_queued(ic, &k);
		free(k.sources);
		int ms = POLL_MAX_MS;
		if (atomic_load(&ic->wake))
			ms = (int)((ic->last_scan + WAKE_MIN_S - clock_mono_s()) * 1000.0) + 1;
		curl_multi_poll(ic->multi, NULL, 0, ms < 0 ? 0 : ms, NULL);
	}
	for (size_t i = 0; i < RUNNING_MAX; i++)
		if (ic->running[i]) {
			curl_multi_remove_handle(ic->multi, ic->running[i]->easy);
			job_free(ic->running[i]);
		}
	while (ic->queue) {
		struct job *j = ic->queue;
		ic->queue = j->next_job;
		job_free(j);
	}
	return NULL;
}

/* --- the other threads' side ---------------------------------------------- */

int icons_start(struct icons **out, struct daemon *d, struct err *e)
{
	struct icons *ic = xcalloc(1, sizeof(*ic));
	ic->d = d;
	ic->images_dir = xasprintf("%s/images", d->app.config);
	ic->forced = json_array();
	ic->active = json_object();
	ic->tried = json_object();
	atomic_init(&ic->stop, 0);
	atomic_init(&ic->wake, 0);
	pthread_mutex_init(&ic->lock, NULL);
	if (!(ic->multi = curl_multi_init()) || pthread_create(&ic->thread, NULL, icons_main, ic)) {
		if (ic->multi)
			curl_multi_cleanup(ic->multi);
		json_decref(ic->forced);
		json_decref(ic->active);
		json_decref(ic->tried);
		pthread_mutex_destroy(&ic->lock);
		free(ic->images_dir);
		free(ic);
		return err_set(e, ERR_IO, "cannot start the icon fetcher");
	}
	pthread_setname_np(ic->thread, "icons");
	*out = ic;
	return 0;
}

void icons_wake(struct icons *ic)
{
	if (!ic)
		return;
	atomic_store(&ic->wake, 1);
	curl_multi_wakeup(ic->multi);
}

int icons_refresh(struct icons *ic, const char *name, struct err *e)
{
	if (!store_icon_name_fetchable(name))
		return err_set(
		    e, ERR_INVAL,
		    "icon name: must be 1 to %d lowercase letters, digits, '.', '_' or '-'",
		    STORE_ICON_NAME_MAX);
	if (!ic)
		return err_set(e, ERR_BUSY, "the icon fetcher is not running");
	pthread_rwlock_rdlock(&ic->d->settings_lock);
	int off = !strcmp(ic->d->settings->icon_sources, "none");
	pthread_rwlock_unlock(&ic->d->settings_lock);
	if (off)
		return err_set(e, ERR_BUSY, "icon fetching is off (ICON_SOURCES=none)");
	pthread_mutex_lock(&ic->lock);
	json_array_append_new(ic->forced, json_string(name));
	pthread_mutex_unlock(&ic->lock);
	curl_multi_wakeup(ic->multi);
	return 0;
}

void icons_stop(struct icons *ic)
{
	if (!ic)
		return;
	atomic_store(&ic->stop, 1);
	curl_multi_wakeup(ic->multi);
	pthread_join(ic->thread, NULL);
	curl_multi_cleanup(ic->multi);
	json_decref(ic->forced);
	json_decref(ic->active);
	json_decref(ic->tried);
	pthread_mutex_destroy(&ic->lock);
	free(ic->images_dir);
	free(ic);
}

void icons_stats(struct icons *ic, unsigned long long *fetched, unsigned long long *failed)
{
	*fetched = *failed = 0;
	if (!ic)
		return;
	pthread_mutex_lock(&ic->lock);
	*fetched = ic->fetched;
	*failed = ic->failed;
	pthread_mutex_unlock(&ic->lock);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int icons_list_json(struct store_txn *t, const char *images_dir, json_t **out, struct err *e)
{
	json_t *names = names_in_use(t, e);
	if (!names)
		return ERR_STORE;
	json_t *list = json_array();
	const char **sorted = xcalloc(json_object_size(names) + 1, sizeof(*sorted));
	size_t n = 0;
	const char *name;
	json_t *v;
	json_object_foreach (names, name, v)
		sorted[n++] = name;
	if (n)
		qsort(sorted, n, sizeof(*sorted), name_cmp);
	for (size_t i = 0; i < n; i++) {
		char *file = icons_local_file(images_dir, sorted[i]);
		int64_t at = 0;
		char *why = NULL, when[32] = "";
		if (!store_icon_fail_get(t, sorted[i], &at, &why, NULL))
			store_time_format(at, when, sizeof(when));
		json_array_append_new(list, json_pack("{s:s,s:s?,s:s?,s:s?}", "name", sorted[i],
		                                      "file", file, "failed_at",
		                                      when[0] ? when : NULL, "error", why));
		free(file);
		free(why);
	}
	free(sorted);
	json_decref(names);
	*out = json_pack("{s:o}", "icons", list);
	return 0;
}
