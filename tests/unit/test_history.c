/*
 * Tests for store/history.c on real repositories: commits are made with
 * store/git.c (or, for merges and long histories, the git CLI with HOME
 * pointed at the temp dir) in a fresh mkdtemp directory under /tmp,
 * removed afterwards.
 * Usage: test_history.t [GLOB]   (runs only the cases matching GLOB)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../common/buf.h"
#include "../../common/err.h"
#include "../../common/fileio.h"
#include "../../common/xalloc.h"
#include "../../store/git.h"
#include "../../store/history.h"
#include "../../store/record.h"
#include "../../common/banned.h"

#define TARGET "services/docker01/sonarr.yml"
#define RADARR "services/docker02/radarr.yml"
#define GROUPS "groups.yml"

struct fx {
	char tmp[64]; /* the mkdtemp dir, also HOME for the git CLI */
	char *repo;   /* tmp/inventory: the work tree */
	struct store_git *g;
	struct buf out;  /* output of the last git CLI run */
	char c[10][41];  /* commits of the story, c[0] first */
	json_t *history; /* result of the last history call */
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	struct err e = {0};
	snprintf(f->tmp, sizeof(f->tmp), "/tmp/portolan-test-history.XXXXXX");
	assert_non_null(mkdtemp(f->tmp));
	f->repo = xasprintf("%s/inventory", f->tmp);
	buf_init(&f->out, 0);
	if (store_git_open(&f->g, f->repo, &e))
		fail_msg("open: %s", e.msg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	struct err e = {0};
	store_git_free(f->g);
	json_decref(f->history);
	assert_int_equal(fileio_remove_tree(f->tmp, &e), 0);
	buf_release(&f->out);
	free(f->repo);
	free(f);
	return 0;
}

/* Run `git -C repo ARGS` with a private HOME; output in f->out; returns exit status. */
static int git_cli(struct fx *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int git_cli(struct fx *f, const char *fmt, ...)
{
	struct buf cmd;
	va_list ap;
	buf_init(&cmd, 0);
	buf_addf(&cmd,
	         "env HOME='%s' XDG_CONFIG_HOME='%s' GIT_CONFIG_NOSYSTEM=1 git -C '%s' "
	         "-c user.name=Cli -c user.email=cli@example.org ",
	         f->tmp, f->tmp, f->repo);
	va_start(ap, fmt);
	buf_vaddf(&cmd, fmt, ap);
	va_end(ap);
	buf_adds(&cmd, " 2>&1");
	buf_reset(&f->out);
	FILE *p = popen(cmd.data, "r");
	assert_non_null(p);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		buf_add(&f->out, chunk, n);
	int st = pclose(p);
	buf_release(&cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A file for commit(): data NULL means removed. */
static struct store_git_file file(const char *path, const char *data)
{
	return (struct store_git_file){path, data, data ? strlen(data) : 0};
}

/* Write files to the work tree and commit them as who <who@example.org>; id into hex. */
static void commit(struct fx *f, const char *who, const char *msg, char *hex,
                   const struct store_git_file *files, size_t n)
{
	struct err e = {0};
	int committed = -1;
	for (size_t i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", f->repo, files[i].path);
		if (files[i].data) {
			if (fileio_write_atomic_flags(path, NULL, files[i].data, files[i].len,
			                              FILEIO_NOSYNC, NULL, &e))
				fail_msg("write: %s", e.msg);
		} else {
			unlink(path);
		}
		free(path);
	}
	char *email = xasprintf("%s@example.org", who);
	if (store_git_commit_files(f->g, files, n, who, email, msg, &committed, hex, &e))
		fail_msg("commit: %s", e.msg);
	assert_int_equal(committed, 1);
	free(email);
}

#define COMMIT(f, who, msg, hex, ...)                                                              \
	commit(f, who, msg, hex, (const struct store_git_file[]){__VA_ARGS__},                     \
	       sizeof((const struct store_git_file[]){__VA_ARGS__}) /                              \
	           sizeof(struct store_git_file))

static const char *const v1 = "host: docker01\nimage: old\n";
static const char *const v2 = "host: docker01\nimage: new\n";
static const char *const v3 = "host: docker01\nimage: new\nport: 8989\n";
static const char *const v4 = "host: docker01\nimage: newest\n";

/*
 * TARGET is added (c1), modified twice (c3, c4), deleted (c5) and added
 * again (c7); other files change in between, one of them (c8) next to it.
 */
static void story(struct fx *f)
{
	COMMIT(f, "ada", "init", f->c[0], file(GROUPS, "groups: []\n"), file(RADARR, "a\n"));
	COMMIT(f, "ada", "add sonarr", f->c[1], file(TARGET, v1));
	COMMIT(f, "bob", "edit radarr", f->c[2], file(RADARR, "b\n"));
	COMMIT(f, "bob", "sonarr: new image\n\nThe old one was\ndeprecated.", f->c[3],
	       file(TARGET, v2));
	COMMIT(f, "carol", "sonarr port, groups", f->c[4], file(TARGET, v3),
	       file(GROUPS, "groups: [media]\n"));
	COMMIT(f, "ada", "remove sonarr", f->c[5], file(TARGET, NULL));
	COMMIT(f, "bob", "edit groups", f->c[6], file(GROUPS, "groups: [tv]\n"));
	COMMIT(f, "carol", "re-add sonarr", f->c[7], file(TARGET, v4));
	COMMIT(f, "ada", "add plex", f->c[8], file("services/docker01/plex.yml", "p\n"));
}

/* store_history_file into f->history, which must succeed. */
static json_t *history(struct fx *f, const char *path, size_t max)
{
	struct err e = {0};
	json_decref(f->history);
	f->history = NULL;
	if (store_history_file(f->repo, path, max, &f->history, &e))
		fail_msg("history of '%s': %s", path, e.msg);
	assert_true(json_is_array(f->history));
	return f->history;
}

static const char *field(const json_t *entry, const char *key)
{
	const char *s = json_string_value(json_object_get(entry, key));
	if (!s)
		fail_msg("no string '%s'", key);
	return s;
}

static void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("'%s' not in:\n%s", needle, haystack);
}

/* Entry i is commit hex, made by who with message msg, a change of kind change. */
static void assert_entry(const json_t *list, size_t i, const char *hex, const char *who,
                         const char *msg, const char *change)
{
	const json_t *entry = json_array_get(list, i);
	assert_non_null(entry);
	assert_string_equal(field(entry, "commit"), hex);
	assert_string_equal(field(entry, "author"), who);
	char *email = xasprintf("%s@example.org", who);
	assert_string_equal(field(entry, "email"), email);
	free(email);
	assert_string_equal(field(entry, "message"), msg);
	assert_string_equal(field(entry, "change"), change);
	int64_t when;
	assert_int_equal(store_time_parse(field(entry, "when"), &when), 0);
	assert_true(when <= (int64_t)time(NULL) && when > (int64_t)time(NULL) - 600);
}

static void test_file_history_story(void **state)
{
	struct fx *f = *state;
	story(f);
	json_t *h = history(f, TARGET, 100);
	assert_int_equal(json_array_size(h), 5);
	assert_entry(h, 0, f->c[7], "carol", "re-add sonarr", "added");
	assert_entry(h, 1, f->c[5], "ada", "remove sonarr", "deleted");
	assert_entry(h, 2, f->c[4], "carol", "sonarr port, groups", "modified");
	assert_entry(h, 3, f->c[3], "bob", "sonarr: new image", "modified");
	assert_entry(h, 4, f->c[1], "ada", "add sonarr", "added");
	/* Diffs against the first parent, of this file only. */
	const char *d = field(json_array_get(h, 0), "diff");
	assert_contains(d, "diff --git a/" TARGET " b/" TARGET "\n");
	assert_contains(d, "new file mode 100644\n");
	assert_contains(d, "--- /dev/null\n+++ b/" TARGET "\n");
	assert_contains(d, "+host: docker01\n+image: newest\n");
	d = field(json_array_get(h, 1), "diff");
	assert_contains(d, "deleted file mode 100644\n");
	assert_contains(d, "-host: docker01\n-image: new\n-port: 8989\n");
	d = field(json_array_get(h, 2), "diff");
	assert_contains(d, "@@ -1,2 +1,3 @@\n host: docker01\n image: new\n+port: 8989\n");
	assert_true(strstr(d, "groups") == NULL);
	d = field(json_array_get(h, 3), "diff");
	assert_contains(d, "-image: old\n+image: new\n");
	assert_true(strstr(d, "new file mode") == NULL);
	d = field(json_array_get(h, 4), "diff");
	assert_contains(d, "+image: old\n");
	/* The same through JSON text. */
	char *text = json_dumps(h, 0);
	assert_non_null(text);
	free(text);
}

static void test_file_history_root_commit_and_other_files(void **state)
{
	struct fx *f = *state;
	story(f);
	json_t *h = history(f, GROUPS, 100);
	assert_int_equal(json_array_size(h), 3);
	assert_entry(h, 0, f->c[6], "bob", "edit groups", "modified");
	assert_entry(h, 1, f->c[4], "carol", "sonarr port, groups", "modified");
	assert_entry(h, 2, f->c[0], "ada", "init", "added");
	/* The root commit's diff is the whole file, as added. */
	const char *d = field(json_array_get(h, 2), "diff");
	assert_contains(d, "--- /dev/null\n+++ b/groups.yml\n@@ -0,0 +1 @@\n+groups: []\n");
	assert_true(strstr(d, "radarr") == NULL);
	h = history(f, "services/docker01/plex.yml", 100);
	assert_int_equal(json_array_size(h), 1);
	assert_entry(h, 0, f->c[8], "ada", "add plex", "added");
}

static void test_file_history_max(void **state)
{
	struct fx *f = *state;
	story(f);
	json_t *h = history(f, TARGET, 2);
	assert_int_equal(json_array_size(h), 2);
	assert_string_equal(field(json_array_get(h, 0), "commit"), f->c[7]);
	assert_string_equal(field(json_array_get(h, 1), "commit"), f->c[5]);
	assert_int_equal(json_array_size(history(f, TARGET, 1)), 1);
	assert_int_equal(json_array_size(history(f, TARGET, 0)), 0);
	assert_int_equal(json_array_size(history(f, TARGET, 5)), 5);
}

static void test_unknown_path_and_directory(void **state)
{
	struct fx *f = *state;
	story(f);
	assert_int_equal(json_array_size(history(f, "services/docker01/nope.yml", 10)), 0);
	assert_int_equal(json_array_size(history(f, "services/nohost/sonarr.yml", 10)), 0);
	/* A directory is not a file, and a file is not a directory. */
	assert_int_equal(json_array_size(history(f, "services/docker01", 10)), 0);
	assert_int_equal(json_array_size(history(f, "services", 10)), 0);
	assert_int_equal(json_array_size(history(f, GROUPS "/x", 10)), 0);
}

static void test_bad_paths(void **state)
{
	struct fx *f = *state;
	struct err e = {0};
	struct buf b;
	json_t *out = NULL;
	static const char *const bad[] = {"",    "/etc/passwd", "a//b.yml", "a/../b.yml",
	                                  "./a", "services/",   "..",       "a/./b"};
	story(f);
	buf_init(&b, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (store_history_file(f->repo, bad[i], 10, &out, &e) != ERR_INVAL)
			fail_msg("history of '%s' not ERR_INVAL", bad[i]);
		if (store_history_file_at(f->repo, f->c[1], bad[i], &b, &e) != ERR_INVAL)
			fail_msg("file at '%s' not ERR_INVAL", bad[i]);
	}
	assert_int_equal(store_history_file(f->repo, NULL, 10, &out, &e), ERR_INVAL);
	assert_int_equal(store_history_file_at(f->repo, f->c[1], NULL, &b, &e), ERR_INVAL);
	/* Too deep to be a path anyone wrote. */
	struct buf deep;
	buf_init(&deep, 0);
	for (int i = 0; i < 70; i++)
		buf_adds(&deep, "d/");
	buf_adds(&deep, "f.yml");
	assert_int_equal(store_history_file(f->repo, deep.data, 10, &out, &e), ERR_INVAL);
	buf_release(&deep);
	assert_null(out);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

static void test_empty_repo(void **state)
{
	struct fx *f = *state;
	struct err e = {0};
	json_t *log = NULL;
	struct buf b;
	assert_int_equal(json_array_size(history(f, TARGET, 10)), 0);
	assert_int_equal(store_history_log(f->repo, 10, &log, &e), 0);
	assert_true(json_is_array(log));
	assert_int_equal(json_array_size(log), 0);
	json_decref(log);
	buf_init(&b, 0);
	assert_int_equal(store_history_file_at(f->repo, "0123456789abcdef0123456789abcdef01234567",
	                                       TARGET, &b, &e),
	                 ERR_NOTFOUND);
	buf_release(&b);
}

static void test_not_a_repo(void **state)
{
	struct fx *f = *state;
	struct err e = {0};
	json_t *out = NULL;
	struct buf b;
	char *missing = xasprintf("%s/missing", f->tmp);
	char *plain = xasprintf("%s/plain", f->tmp);
	assert_int_equal(mkdir(plain, 0700), 0);
	buf_init(&b, 0);
	const char *dirs[] = {missing, plain, ""};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(store_history_file(dirs[i], TARGET, 10, &out, &e), ERR_GIT);
		assert_contains(e.msg, "cannot open repository '");
		assert_contains(e.msg, dirs[i]);
		assert_int_equal(store_history_log(dirs[i], 10, &out, &e), ERR_GIT);
		assert_int_equal(store_history_file_at(dirs[i],
		                                       "0123456789abcdef0123456789abcdef01234567",
		                                       TARGET, &b, &e),
		                 ERR_GIT);
	}
	assert_int_equal(store_history_log(NULL, 10, &out, &e), ERR_GIT);
	assert_null(out);
	buf_release(&b);
	free(plain);
	free(missing);
}

/* store_history_file_at(c, path) must be exactly want. */
static void assert_file_at(struct fx *f, const char *c, const char *path, const char *want)
{
	struct err e = {0};
	struct buf b;
	buf_init(&b, 1 << 20);
	if (store_history_file_at(f->repo, c, path, &b, &e))
		fail_msg("file at %s: %s", c, e.msg);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);
	buf_release(&b);
}

static int file_at_rc(struct fx *f, const char *c, const char *path)
{
	struct err e = {0};
	struct buf b;
	buf_init(&b, 0);
	int rc = store_history_file_at(f->repo, c, path, &b, &e);
	if (rc)
		assert_int_equal(b.len, 0);
	buf_release(&b);
	return rc;
}

static void test_file_at_versions(void **state)
{
	struct fx *f = *state;
	story(f);
	assert_file_at(f, f->c[1], TARGET, v1);
	assert_file_at(f, f->c[2], TARGET, v1);
	assert_file_at(f, f->c[3], TARGET, v2);
	assert_file_at(f, f->c[4], TARGET, v3);
	assert_file_at(f, f->c[7], TARGET, v4);
	assert_file_at(f, f->c[8], TARGET, v4);
	assert_file_at(f, f->c[0], GROUPS, "groups: []\n");
	/* Not there at that commit, or not a file. */
	assert_int_equal(file_at_rc(f, f->c[0], TARGET), ERR_NOTFOUND);
	assert_int_equal(file_at_rc(f, f->c[5], TARGET), ERR_NOTFOUND);
	assert_int_equal(file_at_rc(f, f->c[6], TARGET), ERR_NOTFOUND);
	assert_int_equal(file_at_rc(f, f->c[8], "services/docker01"), ERR_NOTFOUND);
	assert_int_equal(file_at_rc(f, f->c[8], GROUPS "/x"), ERR_NOTFOUND);
	assert_int_equal(file_at_rc(f, f->c[8], "nope.yml"), ERR_NOTFOUND);
	/* Unknown commit, and an object that is not a commit. */
	assert_int_equal(file_at_rc(f, "0123456789abcdef0123456789abcdef01234567", TARGET),
	                 ERR_NOTFOUND);
	assert_int_equal(git_cli(f, "rev-parse %s:%s", f->c[1], TARGET), 0);
	f->out.data[40] = '\0';
	assert_int_equal(file_at_rc(f, f->out.data, TARGET), ERR_NOTFOUND);
	assert_int_equal(git_cli(f, "rev-parse %s^{tree}", f->c[1]), 0);
	f->out.data[40] = '\0';
	assert_int_equal(file_at_rc(f, f->out.data, TARGET), ERR_NOTFOUND);
}

static void test_file_at_bad_ids(void **state)
{
	struct fx *f = *state;
	story(f);
	char upper[41], shorter[40], longer[42], abbrev[8];
	snprintf(upper, sizeof(upper), "%s", f->c[1]);
	for (char *p = upper; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	assert_string_not_equal(upper, f->c[1]); /* some letter among 40 hex digits */
	snprintf(shorter, sizeof(shorter), "%.39s", f->c[1]);
	snprintf(longer, sizeof(longer), "%s0", f->c[1]);
	snprintf(abbrev, sizeof(abbrev), "%.7s", f->c[1]);
	const char *bad[] = {"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
	                     upper,
	                     shorter,
	                     longer,
	                     abbrev,
	                     "",
	                     "HEAD",
	                     "main",
	                     NULL};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (file_at_rc(f, bad[i], TARGET) != ERR_INVAL)
			fail_msg("commit id '%s' not ERR_INVAL", bad[i] ? bad[i] : "(null)");
}

static void test_file_at_appends_and_limits(void **state)
{
	struct fx *f = *state;
	struct err e = {0};
	struct buf b;
	story(f);
	buf_init(&b, strlen(v1) + 3);
	buf_adds(&b, "ab");
	assert_int_equal(store_history_file_at(f->repo, f->c[1], TARGET, &b, &e), 0);
	assert_int_equal(b.len, 2 + strlen(v1));
	assert_memory_equal(b.data + 2, v1, strlen(v1));
	/* No room for another copy: refused, buffer unchanged. */
	assert_int_equal(store_history_file_at(f->repo, f->c[1], TARGET, &b, &e), ERR_TOOBIG);
	assert_int_equal(b.len, 2 + strlen(v1));
	buf_release(&b);
	buf_init(&b, 4);
	assert_int_equal(store_history_file_at(f->repo, f->c[1], TARGET, &b, &e), ERR_TOOBIG);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

/* The strings of a JSON array joined by spaces. */
static char *joined(const json_t *array)
{
	struct buf b;
	size_t i;
	json_t *v;
	buf_init(&b, 0);
	json_array_foreach (array, i, v) {
		buf_addf(&b, "%s%s", i ? " " : "", json_string_value(v));
	}
	return buf_detach(&b, NULL);
}

static void assert_log_entry(const json_t *entry, const char *hex, const char *msg,
                             const char *files, json_int_t nfiles)
{
	assert_string_equal(field(entry, "commit"), hex);
	assert_string_equal(field(entry, "message"), msg);
	char *got = joined(json_object_get(entry, "files"));
	assert_string_equal(got, files);
	free(got);
	assert_int_equal(json_integer_value(json_object_get(entry, "nfiles")), nfiles);
}

static void test_log_lists_files(void **state)
{
	struct fx *f = *state;
	struct err e = {0};
	json_t *log = NULL;
	story(f);
	assert_int_equal(store_history_log(f->repo, 100, &log, &e), 0);
	assert_int_equal(json_array_size(log), 9);
	assert_log_entry(json_array_get(log, 0), f->c[8], "add plex", "services/docker01/plex.yml",
	                 1);
	assert_log_entry(json_array_get(log, 3), f->c[5], "remove sonarr", TARGET, 1);
	assert_log_entry(json_array_get(log, 4), f->c[4], "sonarr port, groups", GROUPS " " TARGET,
	                 2);
	assert_log_entry(json_array_get(log, 5), f->c[3], "sonarr: new image", TARGET, 1);
	assert_log_entry(json_array_get(log, 8), f->c[0], "init", GROUPS " " RADARR, 2);
	const json_t *first = json_array_get(log, 8);
	assert_string_equal(field(first, "author"), "ada");
	assert_string_equal(field(first, "email"), "ada@example.org");
	int64_t when;
	assert_int_equal(store_time_parse(field(first, "when"), &when), 0);
	json_decref(log);
	log = NULL;
	assert_int_equal(store_history_log(f->repo, 2, &log, &e), 0);
	assert_int_equal(json_array_size(log), 2);
	assert_string_equal(field(json_array_get(log, 1), "commit"), f->c[7]);
	json_decref(log);
	log = NULL;
	assert_int_equal(store_history_log(f->repo, 0, &log, &e), 0);
	assert_int_equal(json_array_size(log), 0);
	json_decref(log);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* 120 files whose tree order and byte order could differ if done wrong; 50 listed, sorted. */
static void test_log_caps_files_sorted(void **state)
{
	struct fx *f = *state;
	struct err e = {0};
	json_t *log = NULL;
	static const char *const tricky[] = {"a.yml",     "a-b.yml", "a/x.yml",   "a0.yml",
	                                     "a/b/c.yml", "a/b.yml", "a.b/c.yml", "b"};
	enum { NT = sizeof(tricky) / sizeof(tricky[0]), N = 120 };
	char *names[N];
	struct store_git_file files[N];
	for (int i = 0; i < N; i++) {
		names[i] = i < NT ? xstrdup(tricky[i])
		                  : xasprintf("services/h%d/s%03d.yml", i % 7, (i * 37) % 1000);
		files[i] = file(names[i], names[i]);
	}
	COMMIT(f, "ada", "start", NULL, file("README", "r\n"));
	commit(f, "ada", "bulk", NULL, files, N);
	assert_int_equal(store_history_log(f->repo, 1, &log, &e), 0);
	const json_t *list = json_object_get(json_array_get(log, 0), "files");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(log, 0), "nfiles")), N);
	assert_int_equal(json_array_size(list), STORE_HISTORY_MAX_FILES);
	qsort(names, N, sizeof(names[0]), cmp_str);
	for (size_t i = 0; i < STORE_HISTORY_MAX_FILES; i++)
		assert_string_equal(json_string_value(json_array_get(list, i)), names[i]);
	json_decref(log);
	/* Removing a directory of them lists each file. */
	struct store_git_file gone[] = {file("a/x.yml", NULL), file("a/b/c.yml", NULL),
	                                file("a/b.yml", NULL)};
	commit(f, "ada", "remove a/", NULL, gone, 3);
	log = NULL;
	assert_int_equal(store_history_log(f->repo, 1, &log, &e), 0);
	assert_log_entry(json_array_get(log, 0), field(json_array_get(log, 0), "commit"),
	                 "remove a/", "a/b.yml a/b/c.yml a/x.yml", 3);
	json_decref(log);
	for (int i = 0; i < N; i++)
		free(names[i]);
}

static void test_diff_truncated(void **state)
{
	struct fx *f = *state;
	struct buf big;
	buf_init(&big, 0);
	for (int i = 0; i < 10000; i++)
		buf_addf(&big, "line %05d of a long file\n", i);
	assert_true(big.len > STORE_HISTORY_MAX_DIFF);
	COMMIT(f, "ada", "big", NULL, file("big.yml", big.data));
	json_t *h = history(f, "big.yml", 10);
	const char *d = field(json_array_get(h, 0), "diff");
	size_t n = strlen(d), marker = strlen(STORE_HISTORY_TRUNCATED);
	assert_true(n <= STORE_HISTORY_MAX_DIFF + marker);
	assert_true(n > STORE_HISTORY_MAX_DIFF - 100);
	assert_string_equal(d + n - marker, STORE_HISTORY_TRUNCATED);
	assert_string_equal(STORE_HISTORY_TRUNCATED, "\xe2\x80\xa6(diff truncated)\n");
	assert_int_equal(d[n - marker - 1], '\n'); /* cut after a whole line */
	assert_int_equal(strncmp(d, "diff --git a/big.yml b/big.yml\n", 31), 0);
	/* A small change to the big file gives a small, whole diff. */
	memcpy(big.data + 5, "XXXXX", 5);
	COMMIT(f, "ada", "edit big", NULL, file("big.yml", big.data));
	h = history(f, "big.yml", 10);
	assert_int_equal(json_array_size(h), 2);
	d = field(json_array_get(h, 0), "diff");
	assert_true(strlen(d) < 1000);
	assert_contains(d, "-line 00000 of a long file\n+line XXXXX of a long file\n");
	assert_true(strstr(d, "truncated") == NULL);
	buf_release(&big);
}

static void test_huge_and_binary_files(void **state)
{
	struct fx *f = *state;
	struct buf huge;
	buf_init(&huge, 0);
	while (huge.len <= STORE_HISTORY_MAX_DIFF_BLOB)
		buf_adds(&huge, "0123456789abcdef0123456789abcdef0123456789abcdef012345678\n");
	COMMIT(f, "ada", "huge", NULL, file("huge.txt", huge.data),
	       (struct store_git_file){"bin.dat", "a\0b\0c", 5});
	const char *d = field(json_array_get(history(f, "huge.txt", 10), 0), "diff");
	assert_contains(d, "Binary files /dev/null and b/huge.txt differ\n");
	assert_true(strlen(d) < 1000);
	d = field(json_array_get(history(f, "bin.dat", 10), 0), "diff");
	assert_contains(d, "Binary files /dev/null and b/bin.dat differ\n");
	/* The bytes themselves are all there. */
	struct err e = {0};
	struct buf b;
	buf_init(&b, 0);
	char hex[41];
	assert_int_equal(store_git_head(f->g, hex, &e), 0);
	assert_int_equal(store_history_file_at(f->repo, hex, "huge.txt", &b, &e), 0);
	assert_int_equal(b.len, huge.len);
	buf_reset(&b);
	assert_int_equal(store_history_file_at(f->repo, hex, "bin.dat", &b, &e), 0);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, "a\0b\0c", 5);
	buf_release(&b);
	buf_release(&huge);
}

/* Text that is not UTF-8 comes back with U+FFFD, so it can be sent as JSON. */
static void test_not_utf8(void **state)
{
	struct fx *f = *state;
	struct err e = {0};
	json_t *log = NULL;
	COMMIT(f, "Jos\xe9", "caf\xe9 \xf0\x9f\x8d\xb5 ok", NULL,
	       file("menu.yml", "drink: caf\xe9\nalso: th\xc3\xa9\n"));
	json_t *h = history(f, "menu.yml", 10);
	const json_t *entry = json_array_get(h, 0);
	assert_string_equal(field(entry, "author"), "Jos\xef\xbf\xbd");
	assert_string_equal(field(entry, "email"), "Jos\xef\xbf\xbd@example.org");
	assert_string_equal(field(entry, "message"), "caf\xef\xbf\xbd \xf0\x9f\x8d\xb5 ok");
	assert_contains(field(entry, "diff"), "+drink: caf\xef\xbf\xbd\n+also: th\xc3\xa9\n");
	char *text = json_dumps(h, 0);
	assert_non_null(text);
	free(text);
	assert_int_equal(store_history_log(f->repo, 10, &log, &e), 0);
	text = json_dumps(log, 0);
	assert_non_null(text);
	free(text);
	json_decref(log);
}

/*
 * Only first parents are followed: a change made on a merged branch shows
 * as the merge commit, against the branch the merge was made on.
 */
static void test_first_parent_merge(void **state)
{
	struct fx *f = *state;
	char base[41], head[41];
	struct err e = {0};
	COMMIT(f, "ada", "add sonarr", base, file(TARGET, v1));
	assert_int_equal(git_cli(f, "checkout -q -b side"), 0);
	char *path = xasprintf("%s/%s", f->repo, TARGET);
	assert_int_equal(fileio_write_atomic(path, v2, strlen(v2), NULL, &e), 0);
	free(path);
	assert_int_equal(git_cli(f, "commit -q -a -m 'side edit'"), 0);
	assert_int_equal(git_cli(f, "checkout -q main"), 0);
	COMMIT(f, "bob", "edit groups", NULL, file(GROUPS, "g\n"));
	assert_int_equal(git_cli(f, "merge -q --no-ff -m 'merge side' side"), 0);
	assert_int_equal(store_git_head(f->g, head, &e), 0);
	json_t *h = history(f, TARGET, 10);
	assert_int_equal(json_array_size(h), 2);
	assert_string_equal(field(json_array_get(h, 0), "commit"), head);
	assert_string_equal(field(json_array_get(h, 0), "message"), "merge side");
	assert_string_equal(field(json_array_get(h, 0), "author"), "Cli");
	assert_string_equal(field(json_array_get(h, 0), "change"), "modified");
	assert_contains(field(json_array_get(h, 0), "diff"), "-image: old\n+image: new\n");
	assert_string_equal(field(json_array_get(h, 1), "commit"), base);
	json_t *log = NULL;
	assert_int_equal(store_history_log(f->repo, 10, &log, &e), 0);
	assert_int_equal(json_array_size(log), 3);
	assert_log_entry(json_array_get(log, 0), head, "merge side", TARGET, 1);
	json_decref(log);
}

/* Feed a fast-import stream of n commits to the repo: the first adds old.yml, all bump counter. */
/* A file under dir holds exactly want (NULL: there is no such file). */
static void assert_exported(const char *dir, const char *path, const char *want)
{
	char *full = xasprintf("%s/%s", dir, path);
	struct buf b;
	buf_init(&b, 0);
	int rc = fileio_read(full, &b, NULL);
	if (want) {
		assert_int_equal(rc, 0);
		assert_string_equal(b.data, want);
	} else {
		assert_int_equal(rc, ERR_NOTFOUND);
	}
	buf_release(&b);
	free(full);
}

static void test_export_version(void **state)
{
	struct fx *f = *state;
	story(f);
	COMMIT(f, "ada", "stray file", f->c[9], file("README.md", "not inventory\n"),
	       file("exposure.yml", "layers: {}\n"));
	struct err e = {0};
	char *dir = xasprintf("%s/export-c4", f->tmp);
	assert_int_equal(mkdir(dir, 0700), 0);
	if (store_history_export(f->repo, f->c[4], dir, &e))
		fail_msg("export: %s", e.msg);
	assert_exported(dir, TARGET, v3);
	assert_exported(dir, RADARR, "b\n");
	assert_exported(dir, GROUPS, "groups: [media]\n");
	assert_exported(dir, "services/docker01/plex.yml", NULL); /* later */
	assert_exported(dir, "exposure.yml", NULL);
	free(dir);
	/* the newest: only inventory files, not the README */
	dir = xasprintf("%s/export-c9", f->tmp);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(store_history_export(f->repo, f->c[9], dir, &e), 0);
	assert_exported(dir, "exposure.yml", "layers: {}\n");
	assert_exported(dir, "README.md", NULL);
	assert_exported(dir, "services/docker01/plex.yml", "p\n");
	assert_int_equal(store_history_export(f->repo, "nothex", dir, &e), ERR_INVAL);
	assert_int_equal(
	    store_history_export(f->repo, "0123456789abcdef0123456789abcdef01234567", dir, &e),
	    ERR_NOTFOUND);
	free(dir);
}

static void fast_import(struct fx *f, int from, int n)
{
	char *stream = xasprintf("%s/stream", f->tmp);
	FILE *fp = fopen(stream, "w");
	assert_non_null(fp);
	for (int i = from; i < from + n; i++) {
		fprintf(fp, "commit refs/heads/main\n");
		fprintf(fp, "committer Bulk <bulk@example.org> %d +0000\n", 1700000000 + i);
		fprintf(fp, "data %d\nc%05d\n", 7, i);
		if (i == from && from > 0)
			fprintf(fp, "from refs/heads/main^0\n");
		if (i == 0)
			fprintf(fp, "M 100644 inline old.yml\ndata 4\nold\n");
		fprintf(fp, "M 100644 inline counter.yml\ndata 6\n%05d\n\n", i);
	}
	assert_int_equal(fclose(fp), 0);
	if (git_cli(f, "fast-import --quiet < '%s'", stream) != 0)
		fail_msg("fast-import: %s", f->out.data);
	free(stream);
}

/* A walk examines at most STORE_HISTORY_MAX_SCAN commits. */
static void test_scan_limit(void **state)
{
	struct fx *f = *state;
	struct err e = {0};
	json_t *log = NULL;
	/* The root commit is the last one examined. */
	fast_import(f, 0, STORE_HISTORY_MAX_SCAN);
	json_t *h = history(f, "old.yml", 10);
	assert_int_equal(json_array_size(h), 1);
	assert_string_equal(field(json_array_get(h, 0), "message"), "c00000");
	assert_string_equal(field(json_array_get(h, 0), "when"), "2023-11-14T22:13:20Z");
	assert_int_equal(json_array_size(history(f, "counter.yml", 3)), 3);
	/* One commit more and it is out of reach. */
	fast_import(f, STORE_HISTORY_MAX_SCAN, 1);
	assert_int_equal(json_array_size(history(f, "old.yml", 10)), 0);
	assert_int_equal(store_history_log(f->repo, 100000, &log, &e), 0);
	assert_int_equal(json_array_size(log), STORE_HISTORY_MAX_SCAN);
	json_decref(log);
}

struct writer {
	struct store_git
	    *g; /* opened before the thread starts: opening sets process-wide options */
	int rounds;
	int failed;
	atomic_int done;
};

/* Commits through its own store_git while the test reads. */
static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct err e = {0};
	char names[80][48], texts[80][32];
	struct store_git_file files[80];
	for (int r = 0; r < w->rounds && !w->failed; r++) {
		/* Every fifth batch is big enough to be written as a pack. */
		int n = r % 5 == 4 ? 80 : 2;
		for (int i = 0; i < n; i++) {
			snprintf(names[i], sizeof(names[i]), "services/h%d/s%02d.yml", i % 4, i);
			snprintf(texts[i], sizeof(texts[i]), "rev: %d\n", r);
			files[i] = file(names[i], texts[i]);
		}
		int committed;
		if (store_git_commit_files(w->g, files, (size_t)n, "w", "w@example.org", "batch",
		                           &committed, NULL, &e))
			w->failed = 1;
	}
	atomic_store(&w->done, 1);
	return NULL;
}

/* Every read while another thread commits sees a whole history that only grows. */
static void test_reads_while_mirror_commits(void **state)
{
	struct fx *f = *state;
	struct err e = {0};
	struct writer w = {.rounds = 60};
	pthread_t t;
	COMMIT(f, "ada", "start", NULL, file("services/h0/s00.yml", "rev: start\n"));
	if (store_git_open(&w.g, f->repo, &e))
		fail_msg("open: %s", e.msg);
	assert_int_equal(pthread_create(&t, NULL, writer_main, &w), 0);
	size_t last = 1, reads = 0;
	for (int done = 0; !done;) {
		json_t *log = NULL, *h = NULL;
		done = atomic_load(&w.done);
		if (store_history_log(f->repo, 1000, &log, &e))
			fail_msg("log while committing: %s", e.msg);
		if (store_history_file(f->repo, "services/h0/s00.yml", 1000, &h, &e))
			fail_msg("history while committing: %s", e.msg);
		size_t n = json_array_size(log);
		assert_true(n >= last);
		assert_true(json_array_size(h) >= n); /* every commit changed it */
		last = n;
		reads++;
		json_decref(h);
		json_decref(log);
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	store_git_free(w.g);
	assert_int_equal(w.failed, 0);
	assert_int_equal(last, 61);
	assert_true(reads > 1);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	    T(test_file_history_story),
	    T(test_file_history_root_commit_and_other_files),
	    T(test_file_history_max),
	    T(test_unknown_path_and_directory),
	    T(test_bad_paths),
	    T(test_empty_repo),
	    T(test_not_a_repo),
	    T(test_file_at_versions),
	    T(test_file_at_bad_ids),
	    T(test_file_at_appends_and_limits),
	    T(test_log_lists_files),
	    T(test_log_caps_files_sorted),
	    T(test_diff_truncated),
	    T(test_huge_and_binary_files),
	    T(test_not_utf8),
	    T(test_first_parent_merge),
	    T(test_scan_limit),
	    T(test_export_version),
	    T(test_reads_while_mirror_commits),
#undef T
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("store_history", tests, NULL, NULL);
}
