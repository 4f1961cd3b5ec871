/*
 * `portolan serve`: the daemon. It owns the app (store + mirror), the
 * settings (swapped whole on SIGHUP under settings_lock), the writer, the
 * mirror thread and the HTTP server. Handlers (api.c) get a struct daemon.
 */
#ifndef DAEMON_SERVE_H
#define DAEMON_SERVE_H

#include <pthread.h>
#include <stdatomic.h>

#include "app.h"
#include "backup.h"
#include "events.h"
#include "health.h"
#include "history_cache.h"
#include "hooks.h"
#include "http.h"
#include "icons.h"
#include "widgets.h"
#include "metrics.h"
#include "settings.h"
#include "gitsync.h"
#include "sitegen.h"
#include "throttle.h"
#include "ui.h"
#include "writer.h"

struct daemon {
	struct app app;
	pthread_rwlock_t settings_lock;
	struct settings *settings;
	struct writer *writer;
	struct http_server *http;
	struct events *events; /* GET /api/v1/events; outlives http */
	struct metrics metrics;
	/* mirror thread: woken after each durable write, debounced */
	pthread_t mirror_thread;
	pthread_mutex_t mirror_lock;
	pthread_cond_t mirror_wake;
	int mirror_dirty;
	int mirror_stop;
	double mirror_seconds; /* total time spent committing to git */
	unsigned long long mirror_runs;
	/* GitOps (gitsync.h); imports run on the mirror thread */
	struct gitsync *gitsync;
	/* the static site: re-rendered after writes, debounced, on its own thread */
	struct sitegen *sitegen;
	/* the URL health checker (health.h): submits results to the writer */
	struct health *health;
	/* the icon fetcher (icons.h): writes <config>/images/, wakes sitegen */
	struct icons *icons;
	/* the widget sampler (widgets.h): submits values to the writer, wakes sitegen */
	struct widgets *widgets;
	/* the daily STD-format backup (backup.h): reads the store, writes BACKUP_PATH */
	struct backup *backup;
	/* failed logins per client address, and password checks running (auth.c) */
	struct throttle *throttle;
	atomic_int hashing;
	/* the web UI's templates (ui.c) */
	struct ui *ui;
	/* answers of store/history.h for the current HEAD (history_cache.c) */
	struct history_cache *history_cache;
	uint64_t published_seq; /* journal seq that last woke the mirror (writer thread) */
	/* <config>/hooks/: post-commit from the mirror thread, post-render from the render thread
	 */
	struct hooks *hooks;
};

/* portolan serve [--listen ADDR] [-n] */
int serve_main(const char *config, int argc, char **argv);

/* The HTTP handler for every route (api.c). */
void api_handle(const struct http_request *req, struct http_response *res, void *arg);

#endif
