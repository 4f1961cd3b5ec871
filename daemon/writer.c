#include "writer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../common/xalloc.h"
#include "../common/banned.h"

/* Jobs per transaction: bounds how long one group holds the write lock. */
#define GROUP_MAX 4096

struct job {
	writer_apply_fn fn;
	void *ctx;
	struct err *e;
	int rc;
	int done;
	pthread_cond_t done_cond; /* per job: a commit wakes only its own waiters */
	writer_done_fn on_done;   /* set for asynchronous jobs (heap-allocated) */
	void *done_arg;
	struct err own_err;
	struct job *next;
};

struct writer {
	struct store_db *db;
	void (*after_commit)(void *arg);
	void *arg;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work; /* queue non-empty or stopping */
	struct job *head, *tail;
	int stopping;
	unsigned long long groups, jobs;
	double commit_seconds;
};

static int is_callers_error(int rc)
{
	return rc == ERR_INVAL || rc == ERR_NOTFOUND || rc == ERR_EXISTS;
}

/* Apply one group in one transaction; every job gets its rc. */
static void run_group(struct writer *w, struct job *group)
{
	struct store_txn *t = NULL;
	struct err e = {0};
	double t0 = clock_mono_s();
	int rc = store_txn_begin(w->db, 1, &t, &e);
	for (struct job *j = group; j && !rc; j = j->next) {
		j->rc = j->fn(t, j->ctx, j->e);
		if (j->rc && !is_callers_error(j->rc)) {
			rc = j->rc;
			e = *j->e;
		}
	}
	if (rc)
		store_txn_abort(t);
	else
		rc = store_txn_commit(t, &e);
	double dt = clock_mono_s() - t0;
	size_t n = 0;
	pthread_mutex_lock(&w->lock);
	struct job *async = NULL;
	for (struct job *j = group, *next; j; j = next, n++) {
		next = j->next;
		if (rc) {
			j->rc = rc;
			*j->e = e;
		}
		if (j->on_done) {
			j->next = async;
			async = j;
			continue;
		}
		j->done = 1;
		pthread_cond_signal(&j->done_cond);
	}
	w->groups++;
	w->jobs += n;
	w->commit_seconds += dt;
	pthread_mutex_unlock(&w->lock);
	while (async) {
		struct job *j = async;
		async = j->next;
		j->on_done(j->done_arg, j->rc, &j->own_err);
		free(j);
	}
	if (rc)
		log_error("write failed for %zu change(s): %s", n, e.msg);
	else if (w->after_commit)
		w->after_commit(w->arg);
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->head && !w->stopping)
			pthread_cond_wait(&w->work, &w->lock);
		if (!w->head)
			break;
		struct job *group = w->head, *last = group;
		for (size_t n = 1; n < GROUP_MAX && last->next; n++)
			last = last->next;
		w->head = last->next;
		if (!w->head)
			w->tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&w->lock);
		run_group(w, group);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int writer_start(struct writer **out, struct store_db *db, void (*after_commit)(void *arg),
                 void *arg, struct err *e)
{
	struct writer *w = xcalloc(1, sizeof(*w));
	w->db = db;
	w->after_commit = after_commit;
	w->arg = arg;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->work, NULL);
	if (pthread_create(&w->thread, NULL, writer_main, w)) {
		free(w);
		return err_set(e, ERR_IO, "cannot start the writer thread");
	}
	*out = w;
	return 0;
}

static void enqueue(struct writer *w, struct job *j)
{
	if (w->tail)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
	pthread_cond_signal(&w->work);
}

int writer_submit(struct writer *w, writer_apply_fn fn, void *ctx, struct err *e)
{
	struct job j = {.fn = fn, .ctx = ctx, .e = e};
	pthread_cond_init(&j.done_cond, NULL);
	pthread_mutex_lock(&w->lock);
	if (w->stopping) {
		pthread_mutex_unlock(&w->lock);
		pthread_cond_destroy(&j.done_cond);
		return err_set(e, ERR_BUSY, "shutting down");
	}
	enqueue(w, &j);
	while (!j.done)
		pthread_cond_wait(&j.done_cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
	pthread_cond_destroy(&j.done_cond);
	return j.rc;
}

int writer_submit_async(struct writer *w, writer_apply_fn fn, void *ctx, writer_done_fn done,
                        void *done_arg, struct err *e)
{
	struct job *j = xcalloc(1, sizeof(*j));
	j->fn = fn;
	j->ctx = ctx;
	j->e = &j->own_err;
	j->on_done = done;
	j->done_arg = done_arg;
	pthread_mutex_lock(&w->lock);
	if (w->stopping) {
		pthread_mutex_unlock(&w->lock);
		free(j);
		return err_set(e, ERR_BUSY, "shutting down");
	}
	enqueue(w, j);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

void writer_stop(struct writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = 1;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->work);
	free(w);
}

void writer_stats(struct writer *w, unsigned long long *groups, unsigned long long *jobs,
                  double *commit_seconds)
{
	pthread_mutex_lock(&w->lock);
	*groups = w->groups;
	*jobs = w->jobs;
	*commit_seconds = w->commit_seconds;
	pthread_mutex_unlock(&w->lock);
}
