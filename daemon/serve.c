#include "serve.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../store/gitremote.h"
#include "../common/xalloc.h"
#include "../common/banned.h"

/* How long the mirror waits after a write to gather more into one commit. */
#define MIRROR_DEBOUNCE_MS 250

/*
 * The journal seq after a commit, or 0 when it cannot be read. A commit
 * that journaled nothing (health results that changed no state, a
 * heartbeat register) leaves it where it was.
 */
static uint64_t journal_seq(struct daemon *d)
{
	struct store_txn *t;
	uint64_t seq = 0;
	if (!store_txn_begin(d->app.db, 0, &t, NULL)) {
		seq = store_journal_last(t);
		store_txn_abort(t);
	}
	return seq;
}

/* Tell event subscribers (the live UI) that a write is durable: {"seq": <journal seq>}. */
static void publish_change(struct daemon *d, uint64_t seq)
{
	char data[64];
	if (seq)
		snprintf(data, sizeof(data), "{\"seq\":%llu}", (unsigned long long)seq);
	else
		snprintf(data, sizeof(data), "{\"seq\":null}");
	events_publish(d->events, "change", data);
}

/*
 * The site was rebuilt up to journal seq: live pages reload (app.js listens for "render")
 * and the post-render hook runs.
 */
static void publish_render(void *arg, uint64_t seq, const char *const *pages, size_t npages)
{
	struct daemon *d = arg;
	if (!npages)
		return; /* browsers would fetch the page again for nothing */
	char data[96];
	snprintf(data, sizeof(data), "{\"seq\":%llu,\"pages_written\":%zu}",
	         (unsigned long long)seq, npages);
	events_publish(d->events, "render", data);
	hooks_post_render(d->hooks, pages, npages);
}

static void wake_mirror(void *arg)
{
	struct daemon *d = arg;
	uint64_t seq = journal_seq(d);
	/* Nothing journaled: nothing for the mirror, site or UI (health results commit often). */
	if (seq && seq == d->published_seq)
		return;
	d->published_seq = seq;
	pthread_mutex_lock(&d->mirror_lock);
	d->mirror_dirty = 1;
	pthread_cond_signal(&d->mirror_wake);
	pthread_mutex_unlock(&d->mirror_lock);
	sitegen_wake(d->sitegen);
	publish_change(d, seq);
}

/*
 * Bring in commits made outside: by hand in the repo (looked for before
 * every drain, so the mirror never commits on top of one unseen), or
 * fetched (fetched = the remote's ref).
 */
static void import_outside(struct daemon *d, const char *fetched)
{
	struct app_import_result res;
	struct err e = {0};
	app_import(&d->app, fetched, &res, &e);
	if (res.outcome == APP_IMPORT_DONE) {
		/* what the writer's hook does after a write */
		sitegen_wake(d->sitegen);
		publish_change(d, journal_seq(d));
		/* a hand commit may need no commit of ours, but the remote wants it */
		gitsync_committed(d->gitsync);
	}
	gitsync_note_import(d->gitsync, &res);
	app_import_result_release(&res);
}

static void drain(struct daemon *d, int *commits)
{
	struct err e = {0};
	int n = 0;
	int rc = store_mirror_drain(d->app.mirror, d->app.db, &n, &e);
	/* a commit made by hand since the look for one: import it, then ours */
	if (rc == ERR_BUSY) {
		*commits += n;
		n = 0;
		import_outside(d, NULL);
		rc = store_mirror_drain(d->app.mirror, d->app.db, &n, &e);
	}
	/* the cursor stays; retried on the next write */
	if (rc)
		log_error("git mirror: %s", e.msg);
	*commits += n;
}

/* Collects changed paths, one more than a hook is given: that one says "truncated". */
static int add_changed(const char *path, int exists, void *arg)
{
	(void)exists; /* a hook sees a removed file by its absence from the work tree */
	struct hooks_names *files = arg;
	hooks_names_add(files, path);
	return files->n > HOOKS_MAX_NAMES;
}

/* The mirror committed since HEAD was before ("" = no commit yet): run post-commit. */
static void post_commit_hook(struct daemon *d, const char *before)
{
	char after[64];
	struct err e = {0};
	if (store_mirror_head(d->app.mirror, after, &e) || !strcmp(before, after))
		return;
	struct hooks_names files = {0};
	if (store_mirror_changed_paths(d->app.mirror, before, after, add_changed, &files, &e) < 0)
		log_error("post-commit hook: %s", e.msg);
	else
		hooks_post_commit(d->hooks, after, (const char *const *)files.v, files.n);
	hooks_names_release(&files);
}

/*
 * The widget definitions and key file, before the renderer reads them. An
 * unreadable key file stops the start (keys at rest would be lost); a bad
 * per-install definition only loses that override (logged).
 */
static int start_widgets(struct daemon *d, struct err *e)
{
	return widgets_new(&d->widgets, d, e);
}

static void run_mirror(struct daemon *d)
{
	double t0 = clock_mono_s();
	int commits = 0;
	char before[64] = "";
	/* HEAD is read and diffed only for a post-commit hook: most installs have none. */
	int hook = hooks_installed(d->hooks, HOOKS_POST_COMMIT);
	if (hook && store_mirror_head(d->app.mirror, before, NULL))
		before[0] = '\0';
	import_outside(d, NULL);
	drain(d, &commits);
	if (gitsync_take_fetched(d->gitsync)) {
		import_outside(d, STORE_REMOTE_REF);
		drain(d, &commits); /* the imported changes, and the merge commit */
	}
	if (gitsync_take_check(d->gitsync)) {
		size_t n = 0;
		struct buf paths;
		buf_init(&paths, 0);
		if (!store_mirror_uncommitted(d->app.mirror, &n, &paths, NULL))
			gitsync_note_uncommitted(d->gitsync, n, paths.data);
		buf_release(&paths);
	}
	if (commits)
		gitsync_committed(d->gitsync);
	if (hook && commits > 0)
		post_commit_hook(d, before);
	pthread_mutex_lock(&d->mirror_lock);
	d->mirror_seconds += clock_mono_s() - t0;
	d->mirror_runs++;
	pthread_mutex_unlock(&d->mirror_lock);
}

static void *mirror_main(void *arg)
{
	struct daemon *d = arg;
	pthread_mutex_lock(&d->mirror_lock);
	for (;;) {
		while (!d->mirror_dirty && !d->mirror_stop)
			pthread_cond_wait(&d->mirror_wake, &d->mirror_lock);
		if (d->mirror_stop)
			break;
		/* Debounce: a burst of registrations becomes a few commits. */
		struct timespec until;
		clock_deadline_ms(&until, MIRROR_DEBOUNCE_MS);
		while (!d->mirror_stop &&
		       pthread_cond_timedwait(&d->mirror_wake, &d->mirror_lock, &until) == 0)
			;
		d->mirror_dirty = 0;
		pthread_mutex_unlock(&d->mirror_lock);
		run_mirror(d);
		pthread_mutex_lock(&d->mirror_lock);
	}
	pthread_mutex_unlock(&d->mirror_lock);
	run_mirror(d); /* flush what the last writes left */
	return NULL;
}

struct serve_opts {
	const char *listen;
	int check_only;
};

static int parse_opts(int argc, char **argv, struct serve_opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-n")) {
			o->check_only = 1;
		} else if (!strcmp(argv[i], "--listen") && i + 1 < argc) {
			o->listen = argv[++i];
		} else if (!strncmp(argv[i], "--listen=", 9)) {
			o->listen = argv[i] + 9;
		} else {
			fprintf(stderr, "serve: unknown option '%s'\n", argv[i]);
			return -1;
		}
	}
	return 0;
}

static void reload_settings(struct daemon *d)
{
	struct settings *fresh;
	struct err e = {0};
	if (settings_load(&fresh, d->app.config, NULL, &e)) {
		log_error("reload: %s; keeping the current settings", e.msg);
		return;
	}
	pthread_rwlock_wrlock(&d->settings_lock);
	struct settings *old = d->settings;
	d->settings = fresh;
	pthread_rwlock_unlock(&d->settings_lock);
	settings_free(old);
	log_set_level(fresh->log_level);
	hooks_set_timeout(d->hooks, fresh->hook_timeout);
	log_info("settings reloaded");
}

static int start_http(struct daemon *d, const char *listen, struct err *e)
{
	char *host = NULL;
	int port = 0;
	if (settings_parse_listen(listen, &host, &port) < 0)
		return err_set(e, ERR_INVAL, "bad listen address '%s'", listen);
	struct http_config cfg = {host, port, 1024, 256, 30, 4};
	int rc = http_start(&d->http, &cfg, api_handle, d, e);
	if (!rc)
		log_info("listening on http://%s%s%s:%d/", strchr(host, ':') ? "[" : "", host,
		         strchr(host, ':') ? "]" : "", http_port(d->http));
	free(host);
	return rc;
}

/* Block until SIGTERM or SIGINT; SIGHUP reloads the settings. */
static void wait_for_signals(struct daemon *d, const sigset_t *set)
{
	for (;;) {
		int sig;
		if (sigwait(set, &sig))
			continue;
		if (sig == SIGHUP) {
			reload_settings(d);
			sitegen_reload(d->sitegen);
			ui_reload(d->ui);
			continue;
		}
		log_info("%s: shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
		return;
	}
}

/* Before the render thread and the mirror, which report to it. */
static int start_hooks(struct daemon *d, struct err *e)
{
	char *dir = xasprintf("%s/hooks", d->app.config);
	struct hooks_config cfg = {dir, d->app.config, d->app.repo, d->settings->site_dir,
	                           d->settings->hook_timeout};
	int rc = hooks_start(&d->hooks, &cfg, e);
	free(dir);
	return rc;
}

static void print_first_start(const struct daemon *d)
{
	if (!d->settings->api_token_generated)
		return;
	/* Printed once, on the terminal only: never logged. */
	printf("API token (generated; kept in %s/api_token): %s\n", d->app.config,
	       d->settings->api_token);
	fflush(stdout);
}

int serve_main(const char *config, int argc, char **argv)
{
	struct serve_opts o;
	if (parse_opts(argc, argv, &o))
		return 2;
	struct daemon d;
	memset(&d, 0, sizeof(d));
	struct err e = {0};
	if (settings_load(&d.settings, config, NULL, &e)) {
		fprintf(stderr, "serve: %s\n", e.msg);
		return 1;
	}
	log_set_level(d.settings->log_level);
	if (o.listen && settings_override(d.settings, "LISTEN", o.listen, &e)) {
		fprintf(stderr, "serve: --listen: %s\n", e.msg);
		settings_free(d.settings);
		return 2;
	}
	if (o.check_only) {
		/* The warnings were logged as they were found; -n adds the verdict. */
		size_t n = d.settings->nwarnings;
		printf("%s: configuration %s (%zu warning%s)\n", config, n ? "has problems" : "ok",
		       n, n == 1 ? "" : "s");
		settings_free(d.settings);
		return n ? 1 : 0;
	}
	/* Signals go to sigwait in this thread only; every thread started later inherits the mask.
	 */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	char *log_path = xasprintf("%s/portolan.log", config);
	int status = 1;
	pthread_rwlock_init(&d.settings_lock, NULL);
	pthread_mutex_init(&d.mirror_lock, NULL);
	pthread_cond_init(&d.mirror_wake, NULL);
	metrics_init(&d.metrics);
	d.events = events_new(); /* before anything that publishes */
	if (log_open_file(log_path, 10u << 20, 4))
		log_warn("cannot open log file '%s': logging to stderr only", log_path);
	/* Before any thread: curl_global_init is not thread-safe everywhere. */
	if (sodium_init() < 0) { /* passwords and session tokens (store/users.h) */
		fprintf(stderr, "serve: cannot initialise libsodium\n");
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		fprintf(stderr, "serve: cannot initialise libcurl\n");
		goto out;
	}
	/* The render thread starts before the writer, whose callback wakes it. */
	d.history_cache = history_cache_new();
	d.throttle = throttle_new(THROTTLE_MAX_FAILURES, THROTTLE_WINDOW_S, THROTTLE_LOCKOUT_S,
	                          THROTTLE_MAX_ENTRIES);
	if (app_open(&d.app, config, &e) || ui_new(&d.ui, config, &e) || start_hooks(&d, &e) ||
	    start_widgets(&d, &e) || sitegen_start(&d.sitegen, &d, publish_render, &d, &e) ||
	    writer_start(&d.writer, d.app.db, wake_mirror, &d, &e) ||
	    auth_ensure_default_user(&d, &e)) {
		fprintf(stderr, "serve: %s\n", e.msg);
		goto out;
	}
	/* before the mirror thread, which reads d.gitsync */
	if (gitsync_start(&d.gitsync, &d, &e))
		log_error("%s: no git sync", e.msg);
	pthread_create(&d.mirror_thread, NULL, mirror_main, &d);
	if (health_start(&d.health, &d, &e))
		log_error("%s: no URL health checks", e.msg);
	if (d.widgets && widgets_run(d.widgets, &e))
		log_error("%s: no widget sampling", e.msg);
	if (icons_start(&d.icons, &d, &e))
		log_error("%s: no icon fetching", e.msg);
	if (backup_start(&d.backup, &d, &e))
		log_error("%s: no daily backups", e.msg);
	if (start_http(&d, d.settings->listen, &e)) {
		fprintf(stderr, "serve: %s\n", e.msg);
	} else {
		print_first_start(&d);
		wait_for_signals(&d, &set);
		status = 0;
	}
	http_stop(d.http); /* finishes in-flight requests, whose writes the writer completes */
	/* The checker submits results: it stops before the writer. */
	health_stop(d.health);
	icons_stop(d.icons);     /* like the checker: it submits to the writer */
	widgets_stop(d.widgets); /* the same */
	backup_stop(d.backup);   /* reads the store: before app_close */
	writer_stop(d.writer);
	pthread_mutex_lock(&d.mirror_lock);
	d.mirror_stop = 1;
	pthread_cond_signal(&d.mirror_wake);
	pthread_mutex_unlock(&d.mirror_lock);
	pthread_join(d.mirror_thread, NULL);
	gitsync_stop(d.gitsync); /* after the mirror thread, which calls it; pushes at next start */
	log_info("stopped");
out:
	sitegen_stop(d.sitegen); /* renders what the last writes changed */
	widgets_free(d.widgets); /* the renderer read its definitions */
	hooks_stop(d.hooks);     /* runs what the last commit and render left, for a few seconds */
	ui_free(d.ui);
	throttle_free(d.throttle);
	history_cache_free(d.history_cache);
	log_close_file();
	app_close(&d.app);
	settings_free(d.settings);
	metrics_release(&d.metrics);
	events_free(d.events); /* after http_stop and everything that publishes */
	curl_global_cleanup(); /* nothing uses curl any more: the health and icon threads are gone
	                        */
	free(log_path);
	return status;
}
