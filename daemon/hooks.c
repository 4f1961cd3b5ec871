#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/buf.h"
#include "../common/clock.h"
#include "../common/log.h"
#include "../common/xalloc.h"
#include "../common/banned.h"

/* A line of hook output longer than this is logged in pieces: the log never holds a 10 MB line. */
#define LINE_MAX_BYTES 4096
/* Lines per run that reach the log: with the log's own prefix, bounds what a run adds to it. */
#define MAX_LINES 500
/* How long output is still read after the hook exited, when something else holds the pipe. */
#define DRAIN_AFTER_EXIT_S 0.2
/* The most a supervising poll sleeps: how soon a stop or a deadline is noticed. */
#define TICK_MS 100

static const char *const names[HOOKS_NKINDS] = {"post-commit", "post-render"};
static const char *const results[HOOKS_NRESULTS] = {"ok", "failed", "timeout"};

/* One hook's pending run: what the events since the last start added up to. */
struct job {
	int due;
	char *commit; /* post-commit: the newest commit id */
	struct hooks_names names;
};

struct hooks {
	char *dir, *config, *repo, *site, *home;
	pthread_t thread;
	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t wake;
	int timeout_s;
	int stop;
	double stop_at; /* clock_mono_s() after which hooks are killed and pending runs dropped */
	struct job pending[HOOKS_NKINDS];
	unsigned long long runs[HOOKS_NKINDS][HOOKS_NRESULTS];
	int next;                        /* kind looked at first: neither hook starves the other */
	int noexec_logged[HOOKS_NKINDS]; /* worker only: "not executable" said once */
};

/* --- the set of changed names ------------------------------------------------ */

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void hooks_names_finish(struct hooks_names *s)
{
	if (!s->n)
		return;
	qsort(s->v, s->n, sizeof(*s->v), cmp_name);
	size_t keep = 1;
	for (size_t i = 1; i < s->n; i++) {
		if (!strcmp(s->v[i], s->v[keep - 1]))
			free(s->v[i]);
		else
			s->v[keep++] = s->v[i];
	}
	s->n = keep;
	if (s->n > HOOKS_MAX_NAMES) {
		for (size_t i = HOOKS_MAX_NAMES; i < s->n; i++)
			free(s->v[i]);
		s->n = HOOKS_MAX_NAMES;
		s->truncated = 1;
	}
}

void hooks_names_add(struct hooks_names *s, const char *name)
{
	if (s->truncated)
		return; /* the hook is told the list is incomplete: more names change nothing */
	/*
	 * Duplicates are merged only when the array is twice the bound: each
	 * sort then removes at least half, so adding stays cheap amortised
	 * while memory stays bounded.
	 */
	if (s->n == 2 * (size_t)HOOKS_MAX_NAMES) {
		hooks_names_finish(s);
		if (s->truncated)
			return;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = xstrdup(name);
}

void hooks_names_release(struct hooks_names *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static void job_release(struct job *j)
{
	free(j->commit);
	hooks_names_release(&j->names);
	memset(j, 0, sizeof(*j));
}

/* --- events ------------------------------------------------------------------ */

static void post(struct hooks *h, enum hooks_kind k, const char *commit, const char *const *v,
                 size_t n)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	struct job *j = &h->pending[k];
	j->due = 1;
	if (commit) {
		free(j->commit);
		j->commit = xstrdup(commit);
	}
	for (size_t i = 0; i < n; i++)
		hooks_names_add(&j->names, v[i]);
	pthread_cond_signal(&h->wake);
	pthread_mutex_unlock(&h->lock);
}

void hooks_post_commit(struct hooks *h, const char *commit_hex, const char *const *files, size_t n)
{
	post(h, HOOKS_POST_COMMIT, commit_hex, files, n);
}

void hooks_post_render(struct hooks *h, const char *const *pages, size_t n)
{
	post(h, HOOKS_POST_RENDER, NULL, pages, n);
}

/* --- one run ----------------------------------------------------------------- */

/* 1: run it; 0: missing (silently skipped) or not runnable (*why set). */
static int runnable(const char *path, const char **why)
{
	struct stat st;
	*why = NULL;
	if (stat(path, &st)) /* follows symlinks: a link to a script is fine */
		return 0;
	if (!S_ISREG(st.st_mode))
		*why = "not a regular file";
	else if (access(path, X_OK))
		*why = "not executable";
	return !*why;
}

int hooks_installed(struct hooks *h, enum hooks_kind k)
{
	if (!h)
		return 0;
	char *path = xasprintf("%s/%s", h->dir, names[k]);
	const char *why;
	int ok = runnable(path, &why);
	free(path);
	return ok;
}

/* The hook's output, logged line by line under a budget. */
struct output {
	const char *hook;
	char line[LINE_MAX_BYTES];
	size_t len;
	size_t bytes, lines;
	int cut;
};

static void out_flush(struct output *o)
{
	/* Control characters could forge log lines or escape sequences on a terminal. */
	for (size_t i = 0; i < o->len; i++) {
		unsigned char c = (unsigned char)o->line[i];
		if (c == '\t')
			o->line[i] = ' ';
		else if (c < 0x20 || c == 0x7f)
			o->line[i] = '?';
	}
	log_info("hook '%s': %.*s", o->hook, (int)o->len, o->line);
	o->len = 0;
	o->lines++;
}

static void out_add(struct output *o, const char *p, size_t n)
{
	for (size_t i = 0; i < n && !o->cut; i++) {
		if (o->bytes >= HOOKS_MAX_OUTPUT || o->lines >= MAX_LINES) {
			if (o->len)
				out_flush(o);
			log_warn("hook '%s': … output truncated (more than %u KiB or %d lines)",
			         o->hook, HOOKS_MAX_OUTPUT >> 10, MAX_LINES);
			o->cut = 1;
			return;
		}
		o->bytes++;
		if (p[i] == '\n') {
			if (o->len && o->line[o->len - 1] == '\r')
				o->len--;
			out_flush(o);
			continue;
		}
		o->line[o->len++] = p[i];
		if (o->len == sizeof(o->line))
			out_flush(o);
	}
}

/* A memfd holding the names, one per line, at offset 0: the hook's stdin. -1 on failure. */
static int stdin_file(const struct hooks_names *s)
{
	int fd = memfd_create("portolan-hook-stdin", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; i < s->n; i++) {
		buf_adds(&b, s->v[i]);
		buf_addc(&b, '\n');
	}
	size_t off = 0;
	while (off < b.len) {
		ssize_t w = write(fd, b.data + off, b.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	int whole = off == b.len;
	buf_release(&b);
	if (!whole || lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * The whole environment of a hook: nothing of the daemon's own (API_TOKEN,
 * FLASK_SECRET_KEY and whatever else it was started with stay out).
 */
static void build_env(struct hooks *h, enum hooks_kind k, const struct job *j, char **env)
{
	size_t n = 0;
	env[n++] = xstrdup("PATH=/usr/local/bin:/usr/bin:/bin");
	env[n++] = xasprintf("HOME=%s", h->home);
	env[n++] = xstrdup("LANG=C.UTF-8");
	env[n++] = xasprintf("PORTOLAN_HOOK=%s", names[k]);
	env[n++] = xasprintf("PORTOLAN_CONFIG=%s", h->config);
	env[n++] = xasprintf("PORTOLAN_REPO=%s", h->repo);
	env[n++] = xasprintf("PORTOLAN_SITE=%s", h->site);
	env[n++] = xasprintf("PORTOLAN_TRUNCATED=%d", j->names.truncated);
	if (k == HOOKS_POST_COMMIT)
		env[n++] = xasprintf("PORTOLAN_COMMIT=%s", j->commit ? j->commit : "");
	env[n] = NULL;
}

/*
 * Start argv[0] in a process group of its own (so a timeout reaches its
 * children too), with stdin/stdout/stderr from the given fds, every other
 * fd closed (the listening socket and LMDB must not leak into a hook,
 * whatever their CLOEXEC flags), default signal handling and mask (the
 * daemon blocks SIGTERM and ignores SIGPIPE; a hook must not inherit
 * that), cwd = the config dir. Returns 0 or an errno.
 */
static int spawn(struct hooks *h, char *const *argv, char *const *env, int in_fd, int out_fd,
                 pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dflt;
	sigemptyset(&none);
	sigemptyset(&dflt);
	int sigs[] = {SIGPIPE, SIGHUP, SIGINT, SIGTERM, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(*sigs); i++)
		sigaddset(&dflt, sigs[i]);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	int rc = posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
	if (!rc)
		rc = posix_spawn_file_actions_addchdir_np(&fa, h->config);
	if (!rc)
		rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if (!rc)
		rc = posix_spawnattr_setpgroup(&at, 0);
	if (!rc)
		rc = posix_spawnattr_setsigmask(&at, &none);
	if (!rc)
		rc = posix_spawnattr_setsigdefault(&at, &dflt);
	if (!rc)
		rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
		                                       POSIX_SPAWN_SETSIGDEF);
	if (!rc)
		rc = posix_spawn(pid, argv[0], &fa, &at, argv, env);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

/* fmin without libm (the daemon links none). */
static double min3(double a, double b, double c)
{
	double m = a < b ? a : b;
	return m < c ? m : c;
}

static double stop_deadline(struct hooks *h)
{
	pthread_mutex_lock(&h->lock);
	double at = h->stop ? h->stop_at : INFINITY;
	pthread_mutex_unlock(&h->lock);
	return at;
}

/* How a supervised run ended. */
struct ending {
	int status;    /* from waitpid */
	int timed_out; /* the hook's own timeout */
	int stopped;   /* killed because the daemon stops */
};

/*
 * Read the hook's output until it exited and its output ended, enforcing
 * the timeout on its whole process group. Whatever the hook leaves running
 * in its group when it exits is killed too: the group is the run.
 */
static void supervise(struct hooks *h, pid_t pid, int fd, int timeout_s, struct output *o,
                      struct ending *end)
{
	double deadline = clock_mono_s() + timeout_s, kill_at = INFINITY, exited_at = INFINITY;
	int term_sent = 0;
	memset(end, 0, sizeof(*end));
	for (;;) {
		double now = clock_mono_s(), stop_at = stop_deadline(h);
		if (!term_sent && (now >= deadline || now >= stop_at) && exited_at == INFINITY) {
			end->timed_out = now >= deadline;
			end->stopped = !end->timed_out;
			killpg(pid, SIGTERM);
			term_sent = 1;
			kill_at = now + HOOKS_KILL_GRACE_S;
		}
		if (now >= kill_at) {
			killpg(pid, SIGKILL);
			kill_at = INFINITY;
		}
		if (exited_at == INFINITY) {
			/* WNOWAIT: the pid (and so the group id) stays ours until the leftovers are
			 * gone. */
			siginfo_t si;
			memset(&si, 0, sizeof(si));
			if (!waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) &&
			    si.si_pid == pid) {
				killpg(pid, SIGKILL);
				exited_at = now;
			}
		}
		if (exited_at != INFINITY && (fd < 0 || now >= exited_at + DRAIN_AFTER_EXIT_S))
			break;
		double next = min3(deadline, stop_at, kill_at);
		long ms = fd < 0 || exited_at != INFINITY ? 10 : TICK_MS;
		if (next - now < ms / 1e3)
			ms = (long)((next - now) * 1e3) + 1;
		if (ms < 1)
			ms = 1;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, (int)ms) <= 0 || fd < 0)
			continue;
		char chunk[8192];
		ssize_t r = read(fd, chunk, sizeof(chunk));
		if (r > 0)
			out_add(o, chunk, (size_t)r);
		else if (r == 0 || errno != EINTR)
			fd = -1; /* EOF: every writer is gone */
	}
	while (waitpid(pid, &end->status, 0) < 0 && errno == EINTR)
		;
}

static enum hooks_result report(const char *hook, const struct ending *end, int timeout_s,
                                double secs)
{
	int st = end->status;
	if (end->timed_out) {
		log_warn("hook '%s' timed out after %d s: killed its process group", hook,
		         timeout_s);
		return HOOKS_TIMEOUT;
	}
	if (end->stopped) {
		log_warn("hook '%s' still running at shutdown: killed its process group", hook);
		return HOOKS_TIMEOUT;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		log_info("hook '%s' done in %.2f s", hook, secs);
		return HOOKS_OK;
	}
	if (WIFEXITED(st))
		log_warn("hook '%s' failed: exit status %d after %.2f s", hook, WEXITSTATUS(st),
		         secs);
	else if (WIFSIGNALED(st))
		log_warn("hook '%s' failed: killed by signal %d (SIG%s) after %.2f s", hook,
		         WTERMSIG(st),
		         sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) : "?", secs);
	else
		log_warn("hook '%s' failed: wait status %#x", hook, (unsigned)st);
	return HOOKS_FAILED;
}

/* Run hook k for job j; returns its result, or -1 when there was no hook to run. */
static int run_hook(struct hooks *h, enum hooks_kind k, struct job *j)
{
	const char *hook = names[k];
	char *path = xasprintf("%s/%s", h->dir, hook);
	const char *why;
	int result = -1;
	int in_fd = -1, pipefd[2] = {-1, -1};
	char *env[16] = {0}; /* room for everything build_env sets */
	if (!runnable(path, &why)) {
		if (why && !h->noexec_logged[k])
			log_warn("hook '%s': '%s' is %s: not run", hook, path, why);
		h->noexec_logged[k] = why != NULL;
		goto out;
	}
	h->noexec_logged[k] = 0;
	pthread_mutex_lock(&h->lock);
	int timeout_s = h->timeout_s;
	pthread_mutex_unlock(&h->lock);
	hooks_names_finish(&j->names);
	result = HOOKS_FAILED;
	if ((in_fd = stdin_file(&j->names)) < 0 || pipe2(pipefd, O_CLOEXEC)) {
		log_warn("hook '%s' failed: cannot set up its stdin or output: %s", hook,
		         strerror(errno));
		goto out;
	}
	build_env(h, k, j, env);
	static char none[1]; /* a post-commit without a commit id cannot happen; be safe anyway */
	char *argv[] = {path, k == HOOKS_POST_COMMIT ? (j->commit ? j->commit : none) : h->site,
	                NULL};
	pid_t pid;
	double t0 = clock_mono_s();
	int rc = spawn(h, argv, env, in_fd, pipefd[1], &pid);
	close(pipefd[1]);
	pipefd[1] = -1;
	if (rc) {
		log_warn("hook '%s' failed: cannot run '%s': %s", hook, path, strerror(rc));
		goto out;
	}
	struct output o = {.hook = hook};
	struct ending end;
	supervise(h, pid, pipefd[0], timeout_s, &o, &end);
	if (o.len && !o.cut)
		out_flush(&o);
	result = report(hook, &end, timeout_s, clock_mono_s() - t0);
out:
	for (size_t i = 0; env[i]; i++)
		free(env[i]);
	if (in_fd >= 0)
		close(in_fd);
	for (int i = 0; i < 2; i++)
		if (pipefd[i] >= 0)
			close(pipefd[i]);
	free(path);
	return result;
}

/* --- the worker -------------------------------------------------------------- */

/* The next kind with a pending run (round robin), or -1. Under the lock. */
static int pick(struct hooks *h)
{
	for (int i = 0; i < HOOKS_NKINDS; i++) {
		int k = (h->next + i) % HOOKS_NKINDS;
		if (h->pending[k].due) {
			h->next = (k + 1) % HOOKS_NKINDS;
			return k;
		}
	}
	return -1;
}

static void *hooks_main(void *arg)
{
	struct hooks *h = arg;
	pthread_mutex_lock(&h->lock);
	for (;;) {
		int k = pick(h);
		if (k < 0) {
			if (h->stop)
				break;
			pthread_cond_wait(&h->wake, &h->lock);
			continue;
		}
		if (h->stop && clock_mono_s() >= h->stop_at) {
			h->next = k; /* still pending: dropped below */
			break;
		}
		/* Take the pending run: events from now on add up to the next one. */
		struct job j = h->pending[k];
		memset(&h->pending[k], 0, sizeof(h->pending[k]));
		pthread_mutex_unlock(&h->lock);
		int result = run_hook(h, (enum hooks_kind)k, &j);
		job_release(&j);
		pthread_mutex_lock(&h->lock);
		if (result >= 0)
			h->runs[k][result]++;
	}
	for (int k = 0; k < HOOKS_NKINDS; k++) {
		if (h->pending[k].due)
			log_warn("hook '%s': a pending run was dropped at shutdown", names[k]);
		job_release(&h->pending[k]);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* path made absolute against the cwd: the hooks run elsewhere (cwd = the config dir). */
static char *absolute(const char *path)
{
	if (path[0] == '/')
		return xstrdup(path);
	char *cwd = getcwd(NULL, 0);
	char *abs = xasprintf("%s/%s", cwd ? cwd : ".", path);
	free(cwd);
	return abs;
}

int hooks_start(struct hooks **out, const struct hooks_config *cfg, struct err *e)
{
	struct hooks *h = xcalloc(1, sizeof(*h));
	h->dir = absolute(cfg->dir);
	h->config = absolute(cfg->config);
	h->repo = absolute(cfg->repo);
	h->site = absolute(cfg->site);
	const char *home = getenv("HOME"); /* read once, at start-up, before any hook thread */
	h->home = xstrdup(home && *home ? home : "/");
	h->timeout_s = cfg->timeout_s > 0 ? cfg->timeout_s : 1;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->wake, NULL);
	int rc = pthread_create(&h->thread, NULL, hooks_main, h);
	if (rc) {
		pthread_cond_destroy(&h->wake);
		pthread_mutex_destroy(&h->lock);
		free(h->dir);
		free(h->config);
		free(h->repo);
		free(h->site);
		free(h->home);
		free(h);
		return err_set(e, ERR_IO, "cannot start the hooks thread: %s", strerror(rc));
	}
	*out = h;
	return 0;
}

void hooks_set_timeout(struct hooks *h, int timeout_s)
{
	if (!h || timeout_s < 1)
		return;
	pthread_mutex_lock(&h->lock);
	h->timeout_s = timeout_s;
	pthread_mutex_unlock(&h->lock);
}

void hooks_stop(struct hooks *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->stop = 1;
	h->stop_at = clock_mono_s() + HOOKS_STOP_GRACE_S;
	pthread_cond_signal(&h->wake);
	pthread_mutex_unlock(&h->lock);
	pthread_join(h->thread, NULL);
	pthread_cond_destroy(&h->wake);
	pthread_mutex_destroy(&h->lock);
	free(h->dir);
	free(h->config);
	free(h->repo);
	free(h->site);
	free(h->home);
	free(h);
}

void hooks_stats(struct hooks *h, unsigned long long runs[HOOKS_NKINDS][HOOKS_NRESULTS])
{
	memset(runs, 0, sizeof(unsigned long long) * HOOKS_NKINDS * HOOKS_NRESULTS);
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	memcpy(runs, h->runs, sizeof(h->runs));
	pthread_mutex_unlock(&h->lock);
}

const char *hooks_name(enum hooks_kind k)
{
	return k < HOOKS_NKINDS ? names[k] : "?";
}

const char *hooks_result_name(enum hooks_result r)
{
	return r < HOOKS_NRESULTS ? results[r] : "?";
}
