#include "gitsync.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../common/xalloc.h"
#include "../store/gitremote.h"
#include "serve.h"
#include "../common/banned.h"

#define BACKOFF_MIN_S 5.0
/* How long a stop waits for a transfer in flight. */
#define STOP_WAIT_S 3

/* One kind of transfer's record: push or fetch. */
struct transfer {
	unsigned long long ok, failed;
	int failures;         /* in a row */
	double retry_at;      /* monotonic; 0 = now */
	time_t last_ok;       /* wall clock, 0 = never */
	double last_seconds;  /* how long the last attempt took */
	char last_error[512]; /* "" when the last attempt worked */
};

struct gitsync {
	struct daemon *d;
	struct store_remote *remote; /* NULL: no GIT_REMOTE */
	double interval;
	pthread_t thread;
	int started;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stop;
	int push_wanted;
	int fetched;   /* a fetch brought something: the mirror thread imports it */
	int check_due; /* the periodic look at the repo is due */
	double next_fetch;
	struct transfer push, fetch;
	/* what the mirror thread reported */
	unsigned long long imports, refusals;
	struct app_import_result last_import;  /* outcome DONE */
	struct app_import_result last_refusal; /* outcome REFUSED */
	time_t last_import_at, last_refusal_at;
	size_t uncommitted;
	char *uncommitted_paths;
};

static void wake_mirror_thread(struct daemon *d)
{
	pthread_mutex_lock(&d->mirror_lock);
	d->mirror_dirty = 1;
	pthread_cond_signal(&d->mirror_wake);
	pthread_mutex_unlock(&d->mirror_lock);
}

static double backoff(const struct gitsync *s, int failures)
{
	double b = BACKOFF_MIN_S;
	for (int i = 1; i < failures && b < s->interval; i++)
		b *= 2;
	return b < s->interval ? b : s->interval;
}

/* Record an attempt's outcome (lock held). */
static void note(struct gitsync *s, struct transfer *tr, int rc, const struct err *e,
                 const char *what, double seconds)
{
	tr->last_seconds = seconds;
	if (!rc) {
		if (tr->failures)
			log_info("git sync: %s works again", what);
		tr->ok++;
		tr->failures = 0;
		tr->retry_at = 0;
		tr->last_ok = time(NULL);
		tr->last_error[0] = 0;
		return;
	}
	tr->failed++;
	tr->failures++;
	tr->retry_at = clock_mono_s() + backoff(s, tr->failures);
	snprintf(tr->last_error, sizeof(tr->last_error), "%s", e->msg);
	/* once, then every tenth: a remote that is down for a day must not flood the log */
	if (tr->failures == 1 || tr->failures % 10 == 0)
		log_warn("git sync: %s failed (%d in a row, next try in %.0f s): %s", what,
		         tr->failures, backoff(s, tr->failures), e->msg);
}

static void do_push(struct gitsync *s)
{
	struct err e = {0};
	double t0 = clock_mono_s();
	int rc = store_remote_push(s->remote, &e);
	pthread_mutex_lock(&s->lock);
	if (rc == ERR_NOTFOUND)
		rc = 0; /* no commits yet */
	if (rc)
		s->next_fetch = 0; /* most often the remote moved on: merge it, then push again */
	note(s, &s->push, rc, &e, "push", clock_mono_s() - t0);
	if (rc)
		s->push_wanted = 1; /* again, after the back-off */
	pthread_mutex_unlock(&s->lock);
}

static void do_fetch(struct gitsync *s)
{
	struct err e = {0};
	char tip[41];
	double t0 = clock_mono_s();
	int rc = store_remote_fetch(s->remote, tip, &e);
	pthread_mutex_lock(&s->lock);
	if (rc == ERR_NOTFOUND) {
		rc = 0; /* an empty remote: the next push fills it */
		s->push_wanted = 1;
	} else if (!rc) {
		s->fetched = 1;
	}
	note(s, &s->fetch, rc, &e, "fetch", clock_mono_s() - t0);
	if (rc)
		s->next_fetch = s->fetch.retry_at; /* the back-off, not the whole interval */
	pthread_mutex_unlock(&s->lock);
}

static void *sync_main(void *arg)
{
	struct gitsync *s = arg;
	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		double now = clock_mono_s();
		int push = s->remote && s->push_wanted && now >= s->push.retry_at;
		int fetch = now >= s->next_fetch && now >= s->fetch.retry_at;
		/* fetch first: a push the remote would refuse (not a fast-forward) waits for the
		 * merge */
		if (fetch) {
			s->next_fetch = now + s->interval;
			s->check_due = 1;
			pthread_mutex_unlock(&s->lock);
			if (s->remote)
				do_fetch(s);
			wake_mirror_thread(s->d);
			pthread_mutex_lock(&s->lock);
			continue;
		}
		if (push) {
			/* claimed now: a commit during the push asks for another one */
			s->push_wanted = 0;
			pthread_mutex_unlock(&s->lock);
			do_push(s);
			pthread_mutex_lock(&s->lock);
			continue;
		}
		double until =
		    s->next_fetch > s->fetch.retry_at ? s->next_fetch : s->fetch.retry_at;
		if (s->remote && s->push_wanted && s->push.retry_at < until)
			until = s->push.retry_at;
		struct timespec ts;
		clock_deadline_ms(&ts, (long)((until - now) * 1000) + 1);
		pthread_cond_timedwait(&s->wake, &s->lock, &ts);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int gitsync_start(struct gitsync **out, struct daemon *d, struct err *e)
{
	struct gitsync *s = xcalloc(1, sizeof(*s));
	s->d = d;
	s->interval = d->settings->git_sync_interval;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	if (d->settings->git_remote) {
		struct store_remote_opts o = {d->settings->git_remote, d->settings->git_ssh_key,
		                              d->settings->git_token};
		int rc = store_remote_open(&s->remote, d->app.repo, &o, e);
		if (rc) {
			gitsync_stop(s);
			return rc;
		}
		s->push_wanted = 1; /* whatever was committed while we were down */
		log_info("git sync: remote %s, fetch every %.0f s", store_remote_display(s->remote),
		         s->interval);
	}
	s->next_fetch = 0; /* at once: a first fetch, and a first look at the work tree */
	if (pthread_create(&s->thread, NULL, sync_main, s)) {
		gitsync_stop(s);
		return err_set(e, ERR_IO, "cannot start the git sync thread");
	}
	s->started = 1;
	*out = s;
	return 0;
}

void gitsync_stop(struct gitsync *s)
{
	if (!s)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->lock);
		s->stop = 1;
		pthread_cond_signal(&s->wake);
		pthread_mutex_unlock(&s->lock);
		/*
		 * libgit2 (1.5) has no network timeout: a remote that accepts and
		 * never answers holds a transfer forever. Wait a little, then leave
		 * the thread (and what it uses) to the process's exit.
		 */
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += STOP_WAIT_S;
		if (pthread_timedjoin_np(s->thread, NULL, &until)) {
			log_warn(
			    "git sync: a transfer with the remote is still running after %d s; "
			    "leaving it",
			    STOP_WAIT_S);
			pthread_detach(s->thread);
			return;
		}
	}
	store_remote_free(s->remote);
	app_import_result_release(&s->last_import);
	app_import_result_release(&s->last_refusal);
	free(s->uncommitted_paths);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void gitsync_committed(struct gitsync *s)
{
	if (!s || !s->remote)
		return;
	pthread_mutex_lock(&s->lock);
	s->push_wanted = 1;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

static int take(struct gitsync *s, int *flag)
{
	if (!s)
		return 0;
	pthread_mutex_lock(&s->lock);
	int v = *flag;
	*flag = 0;
	pthread_mutex_unlock(&s->lock);
	return v;
}

int gitsync_take_fetched(struct gitsync *s)
{
	return s ? take(s, &s->fetched) : 0;
}

int gitsync_take_check(struct gitsync *s)
{
	return s ? take(s, &s->check_due) : 0;
}

static void copy_result(struct app_import_result *dst, const struct app_import_result *src)
{
	app_import_result_release(dst);
	*dst = *src;
	dst->author = src->author ? xstrdup(src->author) : NULL;
	dst->problems = src->problems ? xstrdup(src->problems) : NULL;
}

void gitsync_note_import(struct gitsync *s, const struct app_import_result *r)
{
	if (!s || r->outcome == APP_IMPORT_NONE)
		return;
	pthread_mutex_lock(&s->lock);
	if (r->outcome == APP_IMPORT_DONE) {
		s->imports++;
		copy_result(&s->last_import, r);
		s->last_import_at = time(NULL);
	} else {
		s->refusals++;
		copy_result(&s->last_refusal, r);
		s->last_refusal_at = time(NULL);
	}
	pthread_mutex_unlock(&s->lock);
}

void gitsync_note_uncommitted(struct gitsync *s, size_t n, const char *paths)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	int changed = n != s->uncommitted ||
	              (paths && (!s->uncommitted_paths || strcmp(paths, s->uncommitted_paths)));
	s->uncommitted = n;
	free(s->uncommitted_paths);
	s->uncommitted_paths = n ? xstrdup(paths) : NULL;
	pthread_mutex_unlock(&s->lock);
	if (changed && n) /* once per new state, not every interval */
		log_warn(
		    "git: %zu file%s edited in the inventory repo and not committed (%s): not "
		    "imported; commit them, or they are replaced when the service next changes",
		    n, n == 1 ? "" : "s", paths);
}

static json_t *time_or_null(time_t t)
{
	if (!t)
		return json_null();
	char iso[32];
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(iso);
}

static json_t *transfer_json(const struct transfer *tr)
{
	return json_pack("{s:o, s:s?, s:i, s:i}", "last_ok", time_or_null(tr->last_ok), "error",
	                 tr->last_error[0] ? tr->last_error : NULL, "failures", tr->failures, "ms",
	                 (int)(tr->last_seconds * 1000));
}

json_t *gitsync_status(struct gitsync *s)
{
	pthread_mutex_lock(&s->lock);
	json_t *j = json_pack("{s:s?, s:i, s:o, s:o, s:i}", "remote",
	                      s->remote ? store_remote_display(s->remote) : NULL, "interval",
	                      (int)s->interval, "push", transfer_json(&s->push), "fetch",
	                      transfer_json(&s->fetch), "uncommitted", (int)s->uncommitted);
	if (s->uncommitted_paths)
		json_object_set_new(j, "uncommitted_paths", json_string(s->uncommitted_paths));
	if (s->last_import_at)
		json_object_set_new(j, "last_import",
		                    json_pack("{s:s, s:s?, s:o, s:i, s:i, s:i}", "commit",
		                              s->last_import.rev, "author", s->last_import.author,
		                              "at", time_or_null(s->last_import_at), "files",
		                              (int)s->last_import.files, "changed",
		                              (int)s->last_import.changed, "ms",
		                              (int)(s->last_import.seconds * 1000)));
	if (s->last_refusal_at)
		json_object_set_new(j, "last_refusal",
		                    json_pack("{s:s, s:o, s:s?}", "commit", s->last_refusal.rev,
		                              "at", time_or_null(s->last_refusal_at), "problems",
		                              s->last_refusal.problems));
	pthread_mutex_unlock(&s->lock);
	return j;
}

void gitsync_metrics(struct gitsync *s, struct buf *out)
{
	pthread_mutex_lock(&s->lock);
	buf_addf(
	    out,
	    "# HELP portolan_git_sync_total Transfers with GIT_REMOTE by outcome.\n"
	    "# TYPE portolan_git_sync_total counter\n"
	    "portolan_git_sync_total{op=\"push\",result=\"ok\"} %llu\n"
	    "portolan_git_sync_total{op=\"push\",result=\"failed\"} %llu\n"
	    "portolan_git_sync_total{op=\"fetch\",result=\"ok\"} %llu\n"
	    "portolan_git_sync_total{op=\"fetch\",result=\"failed\"} %llu\n"
	    "# HELP portolan_git_sync_failing Transfers failed in a row (0 = working).\n"
	    "# TYPE portolan_git_sync_failing gauge\n"
	    "portolan_git_sync_failing{op=\"push\"} %d\n"
	    "portolan_git_sync_failing{op=\"fetch\"} %d\n"
	    "# HELP portolan_git_imports_total Outside commits imported or refused.\n"
	    "# TYPE portolan_git_imports_total counter\n"
	    "portolan_git_imports_total{result=\"imported\"} %llu\n"
	    "portolan_git_imports_total{result=\"refused\"} %llu\n"
	    "# HELP portolan_git_uncommitted Files edited in the inventory repo, not committed.\n"
	    "# TYPE portolan_git_uncommitted gauge\nportolan_git_uncommitted %zu\n",
	    s->push.ok, s->push.failed, s->fetch.ok, s->fetch.failed, s->push.failures,
	    s->fetch.failures, s->imports, s->refusals, s->uncommitted);
	pthread_mutex_unlock(&s->lock);
}
