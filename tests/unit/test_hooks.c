/*
 * Tests for daemon/hooks.c: the bounded set of changed names, and real
 * runs of shell hooks in a fresh mkdtemp dir: arguments, stdin and the
 * exact environment, no inherited fds or blocked signals, the timeout
 * killing the whole process group (also a hook that ignores SIGTERM),
 * coalescing, failures counted and logged, output bounded in the log, a
 * bounded stop.
 * Run one case: ./test_hooks.t <name-glob>.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../common/buf.h"
#include "../../common/clock.h"
#include "../../common/err.h"
#include "../../common/fileio.h"
#include "../../common/log.h"
#include "../../common/xalloc.h"
#include "../../daemon/hooks.h"
#include "../../common/banned.h"

struct fixture {
	char tmp[64];
	char *hooks, *config, *repo, *site;
	struct hooks *h;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	snprintf(f->tmp, sizeof(f->tmp), "/tmp/test_hooks.XXXXXX");
	if (!mkdtemp(f->tmp))
		return -1;
	f->hooks = xasprintf("%s/config/hooks", f->tmp);
	f->config = xasprintf("%s/config", f->tmp);
	f->repo = xasprintf("%s/config/inventory", f->tmp);
	f->site = xasprintf("%s/config/site", f->tmp);
	if (fileio_mkdirs(f->hooks, NULL))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	hooks_stop(f->h);
	fileio_remove_tree(f->tmp, NULL);
	free(f->hooks);
	free(f->config);
	free(f->repo);
	free(f->site);
	free(f);
	return 0;
}

static void start(struct fixture *f, int timeout_s)
{
	struct hooks_config cfg = {f->hooks, f->config, f->repo, f->site, timeout_s};
	struct err e = {0};
	assert_int_equal(hooks_start(&f->h, &cfg, &e), 0);
}

/* Install hook `name` with a /bin/sh body; TMP in the body is the temp dir. */
static void install(struct fixture *f, const char *name, const char *body)
{
	char *path = xasprintf("%s/%s", f->hooks, name);
	char *text = xasprintf("#!/bin/sh\nTMP='%s'\n%s\n", f->tmp, body);
	assert_int_equal(fileio_write_atomic(path, text, strlen(text), NULL, NULL), 0);
	assert_int_equal(chmod(path, 0755), 0);
	free(text);
	free(path);
}

static unsigned long long count(struct hooks *h, enum hooks_kind k, enum hooks_result r)
{
	unsigned long long runs[HOOKS_NKINDS][HOOKS_NRESULTS];
	hooks_stats(h, runs);
	return runs[k][r];
}

/* Wait (up to secs) until hook k has `want` results r; the count then. */
static unsigned long long wait_count(struct hooks *h, enum hooks_kind k, enum hooks_result r,
                                     unsigned long long want, double secs)
{
	double until = clock_mono_s() + secs;
	while (count(h, k, r) < want && clock_mono_s() < until)
		usleep(10000);
	return count(h, k, r);
}

static char *slurp(struct fixture *f, const char *name)
{
	char *path = xasprintf("%s/%s", f->tmp, name);
	struct buf b;
	buf_init(&b, 0);
	int rc = fileio_read(path, &b, NULL);
	free(path);
	if (rc) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

/* Running (not gone, not a zombie waiting for a reaper)? */
static int pid_alive(long pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	struct buf b;
	buf_init(&b, 0);
	int alive = 0;
	if (!fileio_read(path, &b, NULL)) {
		const char *p = strrchr(b.data, ')');
		alive = p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
	}
	buf_release(&b);
	return alive;
}

/* --- the set of names -------------------------------------------------------- */

static void names_union_sorted(void **state)
{
	(void)state;
	struct hooks_names s = {0};
	const char *in[] = {"services/b.yml", "groups.yml", "services/b.yml", "services/a.yml",
	                    "groups.yml"};
	for (size_t i = 0; i < 5; i++)
		hooks_names_add(&s, in[i]);
	hooks_names_finish(&s);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.v[0], "groups.yml");
	assert_string_equal(s.v[1], "services/a.yml");
	assert_string_equal(s.v[2], "services/b.yml");
	assert_false(s.truncated);
	hooks_names_release(&s);
	assert_int_equal(s.n, 0);
}

static void names_duplicates_stay_bounded(void **state)
{
	(void)state;
	struct hooks_names s = {0};
	char name[32];
	/* 100,000 adds of 7 names: merged as they come, never cut. */
	for (int i = 0; i < 100000; i++) {
		snprintf(name, sizeof(name), "p%d", i % 7);
		hooks_names_add(&s, name);
		assert_true(s.n <= 2 * HOOKS_MAX_NAMES);
	}
	hooks_names_finish(&s);
	assert_int_equal(s.n, 7);
	assert_false(s.truncated);
	hooks_names_release(&s);
}

static void names_over_the_bound_are_cut(void **state)
{
	(void)state;
	struct hooks_names s = {0};
	char name[32];
	for (int i = 0; i < HOOKS_MAX_NAMES + 1; i++) {
		snprintf(name, sizeof(name), "f%06d", i);
		hooks_names_add(&s, name);
	}
	hooks_names_finish(&s);
	assert_true(s.truncated);
	assert_int_equal(s.n, HOOKS_MAX_NAMES);
	assert_string_equal(s.v[0], "f000000");
	/* Truncated: later names are dropped (the hook must assume everything changed). */
	hooks_names_add(&s, "a-late-one");
	hooks_names_finish(&s);
	assert_int_equal(s.n, HOOKS_MAX_NAMES);
	assert_string_equal(s.v[0], "f000000");
	hooks_names_release(&s);

	/* Exactly the bound is not truncated. */
	for (int i = 0; i < HOOKS_MAX_NAMES; i++) {
		snprintf(name, sizeof(name), "f%06d", i);
		hooks_names_add(&s, name);
		hooks_names_add(&s, name);
	}
	hooks_names_finish(&s);
	assert_false(s.truncated);
	assert_int_equal(s.n, HOOKS_MAX_NAMES);
	hooks_names_release(&s);
}

/* --- runs -------------------------------------------------------------------- */

static void post_commit_args_stdin_env(void **state)
{
	struct fixture *f = *state;
	install(f, "post-commit",
	        "printf '%s\\n' \"$#\" \"$@\" >\"$TMP/args\"\n"
	        "cat >\"$TMP/stdin\"\n"
	        "env | sort >\"$TMP/env\"\n"
	        "pwd >\"$TMP/pwd\"\n"
	        "ls /proc/self/fd | sort -n >\"$TMP/fds\"\n"
	        "grep -E '^Sig(Blk|Ign):' /proc/self/status >\"$TMP/signals\"");
	/* A leaky fd of the daemon (no O_CLOEXEC) must not reach the hook. */
	int leak = open("/dev/null", O_RDONLY);
	assert_true(leak > 2);
	start(f, 10);
	const char *files[] = {"services/h/b.yml", "services/h/a.yml", "groups.yml"};
	hooks_post_commit(f->h, "0123456789abcdef0123456789abcdef01234567", files, 3);
	assert_int_equal(wait_count(f->h, HOOKS_POST_COMMIT, HOOKS_OK, 1, 10), 1);
	close(leak);

	char *args = slurp(f, "args");
	char *want = xasprintf("1\n%s\n", "0123456789abcdef0123456789abcdef01234567");
	assert_string_equal(args, want);
	free(want);
	free(args);
	char *in = slurp(f, "stdin");
	assert_string_equal(in, "groups.yml\nservices/h/a.yml\nservices/h/b.yml\n");
	free(in);
	char *env = slurp(f, "env");
	const char *home = getenv("HOME");
	want = xasprintf("HOME=%s\nLANG=C.UTF-8\nPATH=/usr/local/bin:/usr/bin:/bin\n"
	                 "PORTOLAN_COMMIT=0123456789abcdef0123456789abcdef01234567\n"
	                 "PORTOLAN_CONFIG=%s\nPORTOLAN_HOOK=post-commit\nPORTOLAN_REPO=%s\n"
	                 "PORTOLAN_SITE=%s\nPORTOLAN_TRUNCATED=0\nPWD=%s\n",
	                 home && *home ? home : "/", f->config, f->repo, f->site, f->config);
	assert_string_equal(env, want);
	free(want);
	free(env);
	char *pwd = slurp(f, "pwd");
	want = xasprintf("%s\n", f->config);
	assert_string_equal(pwd, want);
	free(want);
	free(pwd);
	/* 0, 1, 2 and the fd ls opened to list them. */
	char *fds = slurp(f, "fds");
	assert_string_equal(fds, "0\n1\n2\n3\n");
	free(fds);
	/* The daemon blocks SIGTERM and ignores SIGPIPE; the hook must not. */
	char *sigs = slurp(f, "signals");
	assert_int_equal(strncmp(sigs, "SigBlk:\t0000000000000000\nSigIgn:\t", 33), 0);
	/*
	 * No standard signal ignored (glibc's posix_spawn leaves its two
	 * internal real-time signals, 32 and 33, ignored: they are not ours).
	 */
	unsigned long long ign = strtoull(sigs + 33, NULL, 16);
	assert_int_equal(ign & 0x7fffffffULL, 0); /* bit n-1 is signal n */
	free(sigs);
}

static void post_render_args_and_pages(void **state)
{
	struct fixture *f = *state;
	install(f, "post-render",
	        "printf '%s\\n' \"$@\" >\"$TMP/args\"\ncat >\"$TMP/stdin\"\n"
	        "echo \"$PORTOLAN_HOOK $PORTOLAN_SITE ${PORTOLAN_COMMIT-unset}\" >\"$TMP/env\"");
	start(f, 10);
	const char *pages[] = {"index.html", "tiled-group.html"};
	hooks_post_render(f->h, pages, 2);
	assert_int_equal(wait_count(f->h, HOOKS_POST_RENDER, HOOKS_OK, 1, 10), 1);
	char *args = slurp(f, "args"), *in = slurp(f, "stdin"), *env = slurp(f, "env");
	char *want = xasprintf("%s\n", f->site);
	assert_string_equal(args, want);
	assert_string_equal(in, "index.html\ntiled-group.html\n");
	free(want);
	want = xasprintf("post-render %s unset\n", f->site);
	assert_string_equal(env, want);
	free(want);
	free(args);
	free(in);
	free(env);
	assert_int_equal(count(f->h, HOOKS_POST_COMMIT, HOOKS_OK), 0);
}

static void timeout_kills_the_group(void **state)
{
	struct fixture *f = *state;
	/* The child ignores SIGTERM: only the SIGKILL that follows ends it. */
	install(f, "post-commit",
	        "(trap '' TERM; exec sleep 1000) & echo $! >\"$TMP/child\"\nsleep 1000");
	start(f, 1);
	double t0 = clock_mono_s();
	const char *files[] = {"x.yml"};
	hooks_post_commit(f->h, "abc", files, 1);
	assert_int_equal(wait_count(f->h, HOOKS_POST_COMMIT, HOOKS_TIMEOUT, 1, 10), 1);
	double took = clock_mono_s() - t0;
	assert_true(took >= 0.9);
	assert_true(took < 1 + HOOKS_KILL_GRACE_S + 2);
	char *child = slurp(f, "child");
	assert_non_null(child);
	long pid = strtol(child, NULL, 10);
	free(child);
	assert_true(pid > 0);
	double until = clock_mono_s() + 5;
	while (pid_alive(pid) && clock_mono_s() < until)
		usleep(10000);
	assert_false(pid_alive(pid));
	assert_int_equal(count(f->h, HOOKS_POST_COMMIT, HOOKS_OK), 0);
}

static void leader_ignoring_term_is_killed(void **state)
{
	struct fixture *f = *state;
	install(f, "post-commit", "trap '' TERM\necho $$ >\"$TMP/pid\"\nwhile :; do sleep 1; done");
	start(f, 1);
	const char *files[] = {"x.yml"};
	hooks_post_commit(f->h, "abc", files, 1);
	assert_int_equal(wait_count(f->h, HOOKS_POST_COMMIT, HOOKS_TIMEOUT, 1, 10), 1);
	char *pid = slurp(f, "pid");
	assert_non_null(pid);
	assert_false(pid_alive(strtol(pid, NULL, 10)));
	free(pid);
}

static void runs_coalesce(void **state)
{
	struct fixture *f = *state;
	/* Each run appends one line: its commit argument and how many names it got. */
	install(f, "post-commit", "n=$(wc -l); echo \"$1 $n\" >>\"$TMP/runs\"\nsleep 0.3");
	start(f, 10);
	char name[32], commit[32];
	for (int i = 1; i <= 100; i++) {
		snprintf(name, sizeof(name), "services/s%03d.yml", i);
		snprintf(commit, sizeof(commit), "c%03d", i);
		const char *files[] = {name, "groups.yml"};
		hooks_post_commit(f->h, commit, files, 2);
		usleep(2000);
	}
	double until = clock_mono_s() + 10;
	char *runs = NULL;
	for (;;) {
		free(runs);
		runs = slurp(f, "runs");
		if ((runs && strstr(runs, "c100 ")) || clock_mono_s() > until)
			break;
		usleep(20000);
	}
	assert_non_null(runs);
	assert_non_null(strstr(runs, "c100 "));
	size_t lines = 0, names = 0;
	for (const char *p = runs; *p; p = strchr(p, '\n') + 1) {
		lines++;
		names += strtoul(strchr(p, ' ') + 1, NULL, 10);
	}
	print_message("# 100 events: %zu runs\n", lines);
	assert_true(lines >= 1 && lines <= 5);
	/* Every file reached a run, groups.yml once per run. */
	assert_int_equal(names, 100 + lines);
	/* The last run saw the newest commit. */
	const char *last = runs + strlen(runs) - 1;
	while (last > runs && last[-1] != '\n')
		last--;
	assert_int_equal(strncmp(last, "c100 ", 5), 0);
	free(runs);
}

static void failures_are_counted_and_logged(void **state)
{
	struct fixture *f = *state;
	char *log_path = xasprintf("%s/portolan.log", f->tmp);
	assert_int_equal(log_open_file(log_path, 10u << 20, 0), 0);
	install(f, "post-commit",
	        "echo 'something broke' >&2\nprintf 'tab\\there\\033[31m'\nexit 3");
	start(f, 10);
	const char *files[] = {"x.yml"};
	hooks_post_commit(f->h, "abc", files, 1);
	assert_int_equal(wait_count(f->h, HOOKS_POST_COMMIT, HOOKS_FAILED, 1, 10), 1);
	/* A second event runs it again: a failure changes nothing for later runs. */
	hooks_post_commit(f->h, "abd", files, 1);
	assert_int_equal(wait_count(f->h, HOOKS_POST_COMMIT, HOOKS_FAILED, 2, 10), 2);
	log_close_file();
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(fileio_read(log_path, &b, NULL), 0);
	assert_non_null(strstr(b.data, "hook 'post-commit': something broke\n"));
	/* Control characters never reach the log as such. */
	assert_non_null(strstr(b.data, "hook 'post-commit': tab here?[31m\n"));
	assert_non_null(strstr(b.data, "hook 'post-commit' failed: exit status 3"));
	buf_release(&b);
	free(log_path);
}

static void missing_and_not_executable_are_skipped(void **state)
{
	struct fixture *f = *state;
	char *log_path = xasprintf("%s/portolan.log", f->tmp);
	assert_int_equal(log_open_file(log_path, 10u << 20, 0), 0);
	start(f, 10);
	assert_false(hooks_installed(f->h, HOOKS_POST_COMMIT));
	const char *files[] = {"x.yml"};
	hooks_post_commit(f->h, "abc", files, 1); /* no hook: nothing */
	install(f, "post-render", "touch \"$TMP/ran\"");
	char *path = xasprintf("%s/post-render", f->hooks);
	assert_int_equal(chmod(path, 0644), 0);
	assert_false(hooks_installed(f->h, HOOKS_POST_RENDER));
	for (int i = 0; i < 3; i++) {
		hooks_post_render(f->h, files, 1);
		usleep(100000);
	}
	/* Made executable: the next event runs it, no restart needed. */
	assert_int_equal(chmod(path, 0755), 0);
	assert_true(hooks_installed(f->h, HOOKS_POST_RENDER));
	hooks_post_render(f->h, files, 1);
	assert_int_equal(wait_count(f->h, HOOKS_POST_RENDER, HOOKS_OK, 1, 10), 1);
	assert_int_equal(count(f->h, HOOKS_POST_COMMIT, HOOKS_OK) +
	                     count(f->h, HOOKS_POST_COMMIT, HOOKS_FAILED),
	                 0);
	log_close_file();
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(fileio_read(log_path, &b, NULL), 0);
	/* Said once, not once per event. */
	const char *first = strstr(b.data, "is not executable: not run");
	assert_non_null(first);
	assert_null(strstr(first + 1, "is not executable: not run"));
	assert_null(strstr(b.data, "post-commit"));
	buf_release(&b);
	free(path);
	free(log_path);
}

static void output_is_bounded(void **state)
{
	struct fixture *f = *state;
	char *log_path = xasprintf("%s/portolan.log", f->tmp);
	assert_int_equal(log_open_file(log_path, 100u << 20, 0), 0);
	/* 10 MB in long lines, then 10 MB in one line, then a last word. */
	install(
	    f, "post-render",
	    "yes 0123456789012345678901234567890123456789012345678901234567890123456789 "
	    "| head -c 10000000\nhead -c 10000000 /dev/zero | tr '\\0' x\necho done >\"$TMP/end\"");
	start(f, 20);
	const char *pages[] = {"index.html"};
	hooks_post_render(f->h, pages, 1);
	assert_int_equal(wait_count(f->h, HOOKS_POST_RENDER, HOOKS_OK, 1, 20), 1);
	log_close_file();
	struct stat st;
	assert_int_equal(stat(log_path, &st), 0);
	print_message("# log after 20 MB of output: %lld bytes\n", (long long)st.st_size);
	assert_true(st.st_size > 20000); /* some of it was logged */
	assert_true(st.st_size < 100000);
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(fileio_read(log_path, &b, NULL), 0);
	assert_non_null(strstr(b.data, "output truncated"));
	buf_release(&b);
	char *end = slurp(f, "end");
	assert_non_null(end); /* the hook was never blocked on its output */
	free(end);
	free(log_path);
}

static void stop_is_bounded(void **state)
{
	struct fixture *f = *state;
	install(f, "post-commit", "echo $$ >\"$TMP/pid\"\nexec sleep 1000");
	start(f, 600);
	const char *files[] = {"x.yml"};
	hooks_post_commit(f->h, "abc", files, 1);
	char *pid = NULL;
	double until = clock_mono_s() + 10;
	while (!(pid = slurp(f, "pid")) && clock_mono_s() < until)
		usleep(10000);
	assert_non_null(pid);
	usleep(50000); /* let the shell exec sleep */
	double t0 = clock_mono_s();
	hooks_stop(f->h);
	f->h = NULL;
	double took = clock_mono_s() - t0;
	print_message("# stop with a hook running took %.1f s\n", took);
	assert_true(took >= HOOKS_STOP_GRACE_S - 0.5);
	assert_true(took < HOOKS_STOP_GRACE_S + HOOKS_KILL_GRACE_S + 1);
	assert_false(pid_alive(strtol(pid, NULL, 10)));
	free(pid);
}

int main(int argc, char **argv)
{
	/* Like the daemon: the hook must not inherit either. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(names_union_sorted),
	    cmocka_unit_test(names_duplicates_stay_bounded),
	    cmocka_unit_test(names_over_the_bound_are_cut),
	    cmocka_unit_test_setup_teardown(post_commit_args_stdin_env, setup, teardown),
	    cmocka_unit_test_setup_teardown(post_render_args_and_pages, setup, teardown),
	    cmocka_unit_test_setup_teardown(timeout_kills_the_group, setup, teardown),
	    cmocka_unit_test_setup_teardown(leader_ignoring_term_is_killed, setup, teardown),
	    cmocka_unit_test_setup_teardown(runs_coalesce, setup, teardown),
	    cmocka_unit_test_setup_teardown(failures_are_counted_and_logged, setup, teardown),
	    cmocka_unit_test_setup_teardown(missing_and_not_executable_are_skipped, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(output_is_bounded, setup, teardown),
	    cmocka_unit_test_setup_teardown(stop_is_bounded, setup, teardown),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
