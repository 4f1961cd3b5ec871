/*
 * The single writer: every change to the store goes through here, so
 * concurrent requests share one durable LMDB transaction (group commit:
 * many requests, one fsync). writer_submit() blocks until the change it
 * carries is durable, or failed, so a reply is only ever sent for a
 * durable write.
 *
 * An apply function must not have written anything when it returns a
 * caller's error (ERR_INVAL, ERR_NOTFOUND, ERR_EXISTS): then only its own
 * job fails. Any other error aborts the whole group, and every job in it
 * fails with that error.
 */
#ifndef DAEMON_WRITER_H
#define DAEMON_WRITER_H

#include "../common/err.h"
#include "../store/db.h"

typedef int (*writer_apply_fn)(struct store_txn *t, void *ctx, struct err *e);

struct writer;

/* Start the writer thread; after_commit(arg) runs after each durable group. */
int writer_start(struct writer **out, struct store_db *db, void (*after_commit)(void *arg),
                 void *arg, struct err *e);
/* Apply fn(ctx) in the next group; returns once durable: fn's result or the commit's. */
int writer_submit(struct writer *w, writer_apply_fn fn, void *ctx, struct err *e);
typedef void (*writer_done_fn)(void *arg, int rc, const struct err *e);
/*
 * Queue fn(ctx) without waiting: done(done_arg, rc, e) runs on the writer
 * thread once the change is durable (or failed). ERR_BUSY when stopping.
 */
int writer_submit_async(struct writer *w, writer_apply_fn fn, void *ctx, writer_done_fn done,
                        void *done_arg, struct err *e);
/* Finish queued work and stop the thread. NULL is fine. */
void writer_stop(struct writer *w);
/* Groups committed and jobs applied so far, and total commit time (for /metrics). */
void writer_stats(struct writer *w, unsigned long long *groups, unsigned long long *jobs,
                  double *commit_seconds);

#endif
