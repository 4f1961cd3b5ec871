/*
 * Operator hooks: executables in <config>/hooks/ that the daemon runs after
 * an inventory commit (post-commit) and after the site changed
 * (post-render). One worker thread owns every run, so the threads that
 * report events (the mirror, the render thread) never wait for a hook:
 * hooks_post_commit/hooks_post_render only record the event and signal.
 *
 * Runs are coalesced per hook: while one runs, further events merge into
 * a single pending run (the union of the changed names, the newest commit
 * id), never a queue. A run is a child process in its own process group,
 * with a minimal environment, cwd = the config dir, the changed names on
 * stdin, stdout and stderr logged line by line (bounded) and a timeout
 * after which the whole group gets SIGTERM, then SIGKILL. A failing hook
 * is logged and counted, never fatal. The hook file is looked up at each
 * run, so operators add and remove hooks without a restart. README.md
 * ("Hooks") is the interface operators rely on.
 */
#ifndef DAEMON_HOOKS_H
#define DAEMON_HOOKS_H

#include <stddef.h>

#include "../common/err.h"

/* Changed names kept per pending run; past it the list is cut and PORTOLAN_TRUNCATED=1. */
#define HOOKS_MAX_NAMES 10000
/* Bytes of a run's output that reach the log; the rest is read and dropped. */
#define HOOKS_MAX_OUTPUT (64u << 10)
/* After SIGTERM, the hook's process group has this long before SIGKILL. */
#define HOOKS_KILL_GRACE_S 2
/* hooks_stop lets a running or pending hook go on this long before killing it. */
#define HOOKS_STOP_GRACE_S 5

enum hooks_kind { HOOKS_POST_COMMIT, HOOKS_POST_RENDER, HOOKS_NKINDS };
enum hooks_result { HOOKS_OK, HOOKS_FAILED, HOOKS_TIMEOUT, HOOKS_NRESULTS };

struct hooks_config {
	const char *dir;    /* where the hooks live: <config>/hooks (need not exist) */
	const char *config; /* PORTOLAN_CONFIG, and the hooks' working directory */
	const char *repo;   /* PORTOLAN_REPO: the inventory work tree */
	const char *site;   /* PORTOLAN_SITE, and post-render's argument */
	int timeout_s;      /* per run, >= 1 */
};

struct hooks;

/* Start the worker (relative paths are made absolute). ERR_IO when no thread can start. */
int hooks_start(struct hooks **out, const struct hooks_config *cfg, struct err *e);
/*
 * Commits up to commit_hex changed files[0..n) (paths in the repo): run
 * post-commit soon. Copies what it needs; never blocks on a hook. NULL h
 * is fine (no hooks).
 */
void hooks_post_commit(struct hooks *h, const char *commit_hex, const char *const *files, size_t n);
/* The render wrote pages[0..n) (relative to the site dir): run post-render soon. Like above. */
void hooks_post_render(struct hooks *h, const char *const *pages, size_t n);
/* 1 when the hook is an executable file now: lets callers skip gathering names for nothing. */
int hooks_installed(struct hooks *h, enum hooks_kind k);
/* Use this timeout from the next run on (SIGHUP). NULL h is fine. */
void hooks_set_timeout(struct hooks *h, int timeout_s);
/*
 * Let a running hook and the pending ones go on for up to
 * HOOKS_STOP_GRACE_S, kill what is left (SIGTERM, then SIGKILL), stop the
 * worker, free. Pending runs not started by then are dropped (logged).
 * NULL is fine.
 */
void hooks_stop(struct hooks *h);
/* Finished runs per hook and result, for /metrics. NULL h gives zeros. */
void hooks_stats(struct hooks *h, unsigned long long runs[HOOKS_NKINDS][HOOKS_NRESULTS]);
/* "post-commit", "post-render": the file name in the hooks dir. */
const char *hooks_name(enum hooks_kind k);
/* "ok", "failed", "timeout". */
const char *hooks_result_name(enum hooks_result r);

/*
 * The set of changed names one pending run carries: a union without
 * duplicates, sorted when finished, at most HOOKS_MAX_NAMES (then
 * truncated is set and later names are dropped: the hook must treat
 * everything as changed). Exposed for the unit tests.
 */
struct hooks_names {
	char **v;
	size_t n, cap;
	int truncated;
};

/* Add a copy of name (duplicates are merged, lazily). */
void hooks_names_add(struct hooks_names *s, const char *name);
/* Sort, drop duplicates and cut to HOOKS_MAX_NAMES (setting truncated). */
void hooks_names_finish(struct hooks_names *s);
/* Free the names; the set is empty again. */
void hooks_names_release(struct hooks_names *s);

#endif
