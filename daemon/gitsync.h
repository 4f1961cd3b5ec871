/*
 * GitOps: the sync thread keeps the inventory repo in step with GIT_REMOTE
 * and looks for commits made by hand in the repo.
 *
 * - After the mirror commits, the thread pushes (store/gitremote.h); a
 *   register never waits for it. Every GIT_SYNC_INTERVAL seconds it
 *   fetches; a fetched tip the repo does not contain yet is handed to the
 *   mirror thread, which imports it (app_import: validated whole, merged
 *   field by field, applied through the writer) and records the merge.
 * - Failures back off (5 s doubling, at most the interval; a refused push
 *   fetches at once) and are shown in Settings → Info and /metrics.
 * - Without a remote the thread only wakes the mirror thread every
 *   interval, which then imports hand commits and warns about uncommitted
 *   edits.
 */
#ifndef DAEMON_GITSYNC_H
#define DAEMON_GITSYNC_H

#include <jansson.h>

#include "../common/buf.h"
#include "../common/err.h"
#include "app.h"

struct daemon;
struct gitsync;

/* Start the thread (also without a remote). ERR_* when the remote cannot be opened. */
int gitsync_start(struct gitsync **out, struct daemon *d, struct err *e);
/* Stop and free (NULL is fine); a push in flight finishes first. */
void gitsync_stop(struct gitsync *s);

/* The mirror committed: push soon. Any thread. */
void gitsync_committed(struct gitsync *s);
/* For the mirror thread: 1 when a fetch brought commits to import (then cleared). */
int gitsync_take_fetched(struct gitsync *s);
/* For the mirror thread: 1 when the periodic look at the work tree is due (then cleared). */
int gitsync_take_check(struct gitsync *s);
/* The mirror thread reports what an import did, and what the work tree holds uncommitted. */
void gitsync_note_import(struct gitsync *s, const struct app_import_result *r);
void gitsync_note_uncommitted(struct gitsync *s, size_t n, const char *paths);

/* State for Settings → Info (new reference). */
json_t *gitsync_status(struct gitsync *s);
/* Prometheus lines for /metrics. */
void gitsync_metrics(struct gitsync *s, struct buf *out);

#endif
