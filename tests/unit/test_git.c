/*
 * Tests for store/git.c. Each case works in a fresh mkdtemp directory under
 * /tmp, removed afterwards; the git CLI checks results with HOME pointed at
 * that directory so the machine's git config does not matter.
 * Usage: test_git.t [GLOB]   (runs only the cases matching GLOB, e.g. "*diff*")
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../common/buf.h"
#include "../../common/err.h"
#include "../../common/fileio.h"
#include "../../common/xalloc.h"
#include "../../store/git.h"
#include "../../common/banned.h"

struct fx {
	char tmp[64]; /* the mkdtemp dir, also HOME for the git CLI */
	char *repo;   /* tmp/inventory: the work tree */
	struct store_git *g;
	struct buf out; /* output of the last git CLI run */
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	struct err e = {0};
	snprintf(f->tmp, sizeof(f->tmp), "/tmp/portolan-test-git.XXXXXX");
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
	buf_addf(&cmd, "env HOME='%s' XDG_CONFIG_HOME='%s' GIT_CONFIG_NOSYSTEM=1 git -C '%s' ",
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

static void put(struct fx *f, const char *rel, const char *text)
{
	struct err e = {0};
	char *path = xasprintf("%s/%s", f->repo, rel);
	if (fileio_write_atomic(path, text, strlen(text), NULL, &e))
		fail_msg("write: %s", e.msg);
	free(path);
}

static void rm(struct fx *f, const char *rel)
{
	char *path = xasprintf("%s/%s", f->repo, rel);
	assert_int_equal(unlink(path), 0);
	free(path);
}

/* Commit paths with a fixed author; returns *committed. */
static int commit_n(struct fx *f, const char *const *paths, size_t n, const char *msg, char *hex)
{
	struct err e = {0};
	int committed = -1;
	if (store_git_commit_paths(f->g, paths, n, "Ada Operator", "ada@example.org", msg,
	                           &committed, hex, &e))
		fail_msg("commit: %s", e.msg);
	return committed;
}

static int commit1(struct fx *f, const char *path, const char *msg)
{
	return commit_n(f, &path, 1, msg, NULL);
}

static void reopen(struct fx *f)
{
	struct err e = {0};
	store_git_free(f->g);
	f->g = NULL;
	if (store_git_open(&f->g, f->repo, &e))
		fail_msg("reopen: %s", e.msg);
}

static void assert_fsck_clean(struct fx *f)
{
	/* Dangling objects (written by a batch killed before its commit) are not damage. */
	int rc = git_cli(f, "fsck --strict --no-progress --no-dangling");
	if (rc != 0 || f->out.len != 0)
		fail_msg("git fsck (exit %d): %s", rc, f->out.data);
}

static void test_open_creates_repo_on_main(void **state)
{
	struct fx *f = *state;
	struct err e = {0};
	char hex[STORE_GIT_HEX_SIZE];
	assert_string_equal(store_git_workdir(f->g), f->repo);
	char *gitdir = xasprintf("%s/.git", f->repo);
	assert_true(fileio_exists(gitdir));
	free(gitdir);
	assert_int_equal(git_cli(f, "symbolic-ref HEAD"), 0);
	assert_string_equal(f->out.data, "refs/heads/main\n");
	assert_int_equal(store_git_head(f->g, hex, &e), ERR_NOTFOUND);
	/* Nothing to commit in an empty repository: no commit either. */
	assert_int_equal(commit_n(f, NULL, 0, "nothing", NULL), 0);
	assert_int_equal(store_git_head(f->g, hex, &e), ERR_NOTFOUND);
	/* Opening again finds the same repository. */
	reopen(f);
	assert_int_equal(git_cli(f, "rev-parse --is-bare-repository"), 0);
	assert_string_equal(f->out.data, "false\n");
}

static void test_commit_added_files(void **state)
{
	struct fx *f = *state;
	struct err e = {0};
	char hex[STORE_GIT_HEX_SIZE], head[STORE_GIT_HEX_SIZE];
	const char *paths[] = {"services/docker01/nginx.yml", "groups.yml"};
	put(f, paths[0], "host: docker01\ncontainer_name: nginx\n");
	put(f, paths[1], "groups: []\n");
	assert_int_equal(commit_n(f, paths, 2, "register docker01/nginx", hex), 1);
	assert_int_equal(strlen(hex), 40);
	assert_int_equal(store_git_head(f->g, head, &e), 0);
	assert_string_equal(hex, head);
	assert_int_equal(git_cli(f, "log --format='%%H|%%an|%%ae|%%cn|%%ce|%%s|%%P'"), 0);
	char *want = xasprintf("%s|Ada Operator|ada@example.org|Ada Operator|ada@example.org|"
	                       "register docker01/nginx|\n",
	                       hex);
	assert_string_equal(f->out.data, want);
	free(want);
	assert_int_equal(git_cli(f, "ls-tree -r --name-only HEAD"), 0);
	assert_string_equal(f->out.data, "groups.yml\nservices/docker01/nginx.yml\n");
	assert_int_equal(git_cli(f, "show HEAD:services/docker01/nginx.yml"), 0);
	assert_string_equal(f->out.data, "host: docker01\ncontainer_name: nginx\n");
	/* The index matches the work tree: git sees nothing to do. */
	assert_int_equal(git_cli(f, "status --porcelain"), 0);
	assert_string_equal(f->out.data, "");
	/* A second commit has the first as parent. */
	put(f, paths[1], "groups: [media]\n");
	assert_int_equal(commit_n(f, paths + 1, 1, "edit groups", head), 1);
	assert_int_equal(git_cli(f, "log -1 --format=%%P"), 0);
	assert_int_equal(strncmp(f->out.data, hex, 40), 0);
	assert_fsck_clean(f);
}

static void test_unchanged_makes_no_commit(void **state)
{
	struct fx *f = *state;
	struct err e = {0};
	char first[STORE_GIT_HEX_SIZE], head[STORE_GIT_HEX_SIZE];
	const char *path = "services/h/a.yml";
	put(f, path, "a: 1\n");
	assert_int_equal(commit_n(f, &path, 1, "add a", first), 1);
	/* Same bytes, new inode and mtime (as an atomic rewrite makes). */
	char *full = xasprintf("%s/%s", f->repo, path);
	assert_int_equal(unlink(full), 0);
	free(full);
	put(f, path, "a: 1\n");
	assert_int_equal(commit1(f, path, "replay"), 0);
	/* A path that never existed anywhere changes nothing either. */
	assert_int_equal(commit1(f, "services/h/never.yml", "noop"), 0);
	assert_int_equal(store_git_head(f->g, head, &e), 0);
	assert_string_equal(head, first);
	assert_int_equal(git_cli(f, "rev-list --count HEAD"), 0);
	assert_string_equal(f->out.data, "1\n");
}

static void test_removal_committed(void **state)
{
	struct fx *f = *state;
	const char *paths[] = {"services/h1/a.yml", "services/h2/b.yml"};
	put(f, paths[0], "a\n");
	put(f, paths[1], "b\n");
	assert_int_equal(commit_n(f, paths, 2, "add", NULL), 1);
	rm(f, paths[1]);
	assert_int_equal(commit1(f, paths[1], "remove b"), 1);
	assert_int_equal(git_cli(f, "ls-tree -r --name-only HEAD"), 0);
	assert_string_equal(f->out.data, "services/h1/a.yml\n");
	/* Removing again is a no-op. */
	assert_int_equal(commit1(f, paths[1], "remove b again"), 0);
	assert_int_equal(git_cli(f, "status --porcelain"), 0);
	assert_string_equal(f->out.data, "");
	assert_fsck_clean(f);
}

static void touch(struct fx *f, const char *rel)
{
	char *path = xasprintf("%s/.git/%s", f->repo, rel);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("junk\n", fp);
	fclose(fp);
	free(path);
}

static int git_exists(struct fx *f, const char *rel)
{
	char *path = xasprintf("%s/.git/%s", f->repo, rel);
	int r = fileio_exists(path);
	free(path);
	return r;
}

static void test_stale_locks_removed(void **state)
{
	struct fx *f = *state;
	static const char *const locks[] = {"index.lock", "HEAD.lock", "refs/heads/main.lock",
	                                    "objects/tmp_object_git2_a1b2c3"};
	put(f, "a.yml", "a\n");
	assert_int_equal(commit1(f, "a.yml", "add a"), 1);
	store_git_free(f->g);
	f->g = NULL;
	for (size_t i = 0; i < sizeof(locks) / sizeof(locks[0]); i++)
		touch(f, locks[i]);
	reopen(f);
	for (size_t i = 0; i < sizeof(locks) / sizeof(locks[0]); i++)
		if (git_exists(f, locks[i]))
			fail_msg("stale '%s' still there", locks[i]);
	/* Index and ref can be written again. */
	put(f, "a.yml", "a2\n");
	assert_int_equal(commit1(f, "a.yml", "edit a"), 1);
	assert_fsck_clean(f);
}

struct seen {
	char text[512]; /* "path:exists " for each callback, in order */
	int calls;
	int stop_after; /* return 7 on this call (1-based); 0 = never */
};

static int record_path(const char *path, int exists, void *arg)
{
	struct seen *s = arg;
	size_t len = strlen(s->text);
	snprintf(s->text + len, sizeof(s->text) - len, "%s:%d ", path, exists);
	return ++s->calls == s->stop_after ? 7 : 0;
}

static void test_diff_paths(void **state)
{
	struct fx *f = *state;
	struct err e = {0};
	char c1[STORE_GIT_HEX_SIZE], c2[STORE_GIT_HEX_SIZE];
	const char *first[] = {"services/h/a.yml", "services/h/b.yml", "groups.yml"};
	const char *second[] = {"services/h/a.yml", "services/h/b.yml", "services/g/c.yml"};
	put(f, first[0], "a\n");
	put(f, first[1], "b\n");
	put(f, first[2], "g\n");
	assert_int_equal(commit_n(f, first, 3, "one", c1), 1);
	put(f, second[0], "a changed\n");
	rm(f, second[1]);
	put(f, second[2], "c\n");
	assert_int_equal(commit_n(f, second, 3, "two", c2), 1);

	struct seen s = {0};
	assert_int_equal(store_git_diff_paths(f->g, c1, c2, record_path, &s, &e), 0);
	assert_string_equal(s.text, "services/g/c.yml:1 services/h/a.yml:1 services/h/b.yml:0 ");
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_git_diff_paths(f->g, NULL, c1, record_path, &s, &e), 0);
	assert_string_equal(s.text, "groups.yml:1 services/h/a.yml:1 services/h/b.yml:1 ");
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_git_diff_paths(f->g, c2, c2, record_path, &s, &e), 0);
	assert_int_equal(s.calls, 0);
	/* Abbreviated ids and "" for the empty tree work too. */
	char abbrev[8];
	snprintf(abbrev, sizeof(abbrev), "%.7s", c2);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_git_diff_paths(f->g, "", abbrev, record_path, &s, &e), 0);
	assert_int_equal(s.calls, 3);
	/* The callback stops the walk. */
	memset(&s, 0, sizeof(s));
	s.stop_after = 2;
	assert_int_equal(store_git_diff_paths(f->g, c1, c2, record_path, &s, &e), 7);
	assert_int_equal(s.calls, 2);
	/* Unknown and malformed revisions. */
	assert_int_equal(store_git_diff_paths(f->g, NULL,
	                                      "0123456789012345678901234567890123456789",
	                                      record_path, &s, &e),
	                 ERR_NOTFOUND);
	assert_int_equal(store_git_diff_paths(f->g, "@{{", c2, record_path, &s, &e), ERR_INVAL);
	assert_int_equal(store_git_diff_paths(f->g, c1, NULL, record_path, &s, &e), ERR_INVAL);
}

static void test_fsck_clean_after_many_commits(void **state)
{
	struct fx *f = *state;
	char path[64], text[64];
	for (int round = 0; round < 5; round++) {
		const char *paths[10];
		char names[10][64];
		for (int i = 0; i < 10; i++) {
			snprintf(names[i], sizeof(names[i]), "services/h%d/s%d.yml", i % 3, i);
			snprintf(text, sizeof(text), "rev: %d\nid: %d\n", round, i);
			if (round == 3 && i % 4 == 0) {
				snprintf(path, sizeof(path), "%s/%s", f->repo, names[i]);
				unlink(path);
			} else {
				put(f, names[i], text);
			}
			paths[i] = names[i];
		}
		assert_int_equal(commit_n(f, paths, 10, "round", NULL), 1);
		if (round == 2)
			reopen(f);
	}
	assert_fsck_clean(f);
	assert_int_equal(git_cli(f, "status --porcelain"), 0);
	assert_string_equal(f->out.data, "");
	assert_int_equal(git_cli(f, "rev-list --count HEAD"), 0);
	assert_string_equal(f->out.data, "5\n");
}

static void test_unstaged_write_picked_up_staged_left_alone(void **state)
{
	struct fx *f = *state;
	/* A file written by a process that died before staging it ... */
	put(f, "services/h/late.yml", "late\n");
	reopen(f);
	/* ... is committed by the next call naming it. */
	assert_int_equal(commit1(f, "services/h/late.yml", "register h/late"), 1);
	assert_int_equal(git_cli(f, "ls-tree -r --name-only HEAD"), 0);
	assert_string_equal(f->out.data, "services/h/late.yml\n");
	/*
	 * A change someone staged (git add) and did not commit is theirs: a
	 * commit naming other files leaves it out, and leaves the file alone.
	 * (The mirror's own half-done batches are replayed from its journal.)
	 */
	put(f, "services/h/late.yml", "later\n");
	assert_int_equal(git_cli(f, "add services/h/late.yml"), 0);
	reopen(f);
	put(f, "other.yml", "o\n");
	assert_int_equal(commit1(f, "other.yml", "add other"), 1);
	assert_int_equal(git_cli(f, "show HEAD:services/h/late.yml"), 0);
	assert_string_equal(f->out.data, "late\n");
	assert_int_equal(store_git_worktree_dirty(f->g, "services/h/late.yml"), 1);
	/* named, it goes out */
	assert_int_equal(commit1(f, "services/h/late.yml", "register h/late"), 1);
	assert_int_equal(git_cli(f, "show HEAD:services/h/late.yml"), 0);
	assert_string_equal(f->out.data, "later\n");
	assert_int_equal(store_git_worktree_dirty(f->g, "services/h/late.yml"), 0);
}

static void test_external_commit_and_lost_index(void **state)
{
	struct fx *f = *state;
	put(f, "a.yml", "a\n");
	assert_int_equal(commit1(f, "a.yml", "add a"), 1);
	/* Someone edits and commits by hand while the store stays open. */
	put(f, "hand.yml", "by hand\n");
	assert_int_equal(git_cli(f, "add hand.yml"), 0);
	assert_int_equal(git_cli(f, "-c user.name=H -c user.email=h@x commit -q -m hand"), 0);
	put(f, "b.yml", "b\n");
	assert_int_equal(commit1(f, "b.yml", "add b"), 1);
	assert_int_equal(git_cli(f, "ls-tree -r --name-only HEAD"), 0);
	assert_string_equal(f->out.data, "a.yml\nb.yml\nhand.yml\n");
	/* A lost index is rebuilt from HEAD, so the next commit deletes nothing. */
	store_git_free(f->g);
	f->g = NULL;
	char *index = xasprintf("%s/.git/index", f->repo);
	assert_int_equal(unlink(index), 0);
	free(index);
	reopen(f);
	put(f, "c.yml", "c\n");
	assert_int_equal(commit1(f, "c.yml", "add c"), 1);
	assert_int_equal(git_cli(f, "ls-tree -r --name-only HEAD"), 0);
	assert_string_equal(f->out.data, "a.yml\nb.yml\nc.yml\nhand.yml\n");
	assert_fsck_clean(f);
}

#define CRASH_FILES        30
#define CRASH_FILES_PACKED 100 /* above the pack threshold (64) */

static void crash_paths(char names[][48], const char *paths[], int n)
{
	for (int i = 0; i < n; i++) {
		snprintf(names[i], 48, "services/h%d/s%03d.yml", i % 4, i);
		paths[i] = names[i];
	}
}

/*
 * Child: write and commit batches of n files until killed; by path
 * (read back from the work tree) or, with use_files, from memory.
 */
static void crash_child(struct fx *f, int n, int use_files)
{
	struct err e = {0};
	struct store_git *g = NULL;
	char names[CRASH_FILES_PACKED][48], text[CRASH_FILES_PACKED][64];
	const char *paths[CRASH_FILES_PACKED];
	struct store_git_file files[CRASH_FILES_PACKED];
	int committed;
	crash_paths(names, paths, n);
	if (store_git_open(&g, f->repo, &e))
		_exit(1);
	for (unsigned rev = 0;; rev++) {
		for (int i = 0; i < n; i++) {
			snprintf(text[i], sizeof(text[i]), "id: %d\nrev: %u\n", i, rev);
			char *path = xasprintf("%s/%s", f->repo, names[i]);
			int gone = (rev + (unsigned)i) % 7 == 0;
			if (gone)
				unlink(path);
			else if (fileio_write_atomic_flags(path, NULL, text[i], strlen(text[i]),
			                                   FILEIO_NOSYNC, NULL, &e))
				_exit(1);
			free(path);
			files[i] = (struct store_git_file){names[i], gone ? NULL : text[i],
			                                   gone ? 0 : strlen(text[i])};
		}
		if (use_files ? store_git_commit_files(g, files, (size_t)n, "K", "k@x", "batch",
		                                       &committed, NULL, &e)
		              : store_git_commit_paths(g, paths, (size_t)n, "K", "k@x", "batch",
		                                       &committed, NULL, &e))
			_exit(2);
	}
}

static void kill9_rounds(struct fx *f, int n, int use_files)
{
	char names[CRASH_FILES_PACKED][48];
	const char *paths[CRASH_FILES_PACKED];
	crash_paths(names, paths, n);
	put(f, "README", "inventory\n");
	assert_int_equal(commit1(f, "README", "start"), 1);
	store_git_free(f->g);
	f->g = NULL;
	srand((unsigned)time(NULL));
	for (int round = 0; round < 12; round++) {
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			crash_child(f, n, use_files);
		usleep((useconds_t)(5000 + rand() % 40000));
		int st;
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		if (!WIFSIGNALED(st))
			fail_msg("child exited with %d before the kill", WEXITSTATUS(st));
		/* Restart: whatever the work tree holds gets committed. */
		reopen(f);
		commit_n(f, paths, (size_t)n, "after crash", NULL);
		assert_int_equal(git_cli(f, "status --porcelain --untracked-files=no"), 0);
		if (f->out.len)
			fail_msg("round %d: work tree differs from HEAD: %s", round, f->out.data);
		assert_fsck_clean(f);
		/* Nothing a killed indexer leaves behind survives the reopen. */
		assert_int_equal(git_cli(f, "count-objects -v"), 0);
		if (!strstr(f->out.data, "\ngarbage: 0\n"))
			fail_msg("round %d: garbage in objects: %s", round, f->out.data);
		store_git_free(f->g);
		f->g = NULL;
	}
	reopen(f);
}

static void test_kill9_then_reopen_is_fsck_clean(void **state)
{
	kill9_rounds(*state, CRASH_FILES, 0);
}

/* The same with batches big enough to be written as packs, blobs from memory. */
static void test_kill9_packed_then_reopen_is_fsck_clean(void **state)
{
	kill9_rounds(*state, CRASH_FILES_PACKED, 1);
}

static void test_detached_head(void **state)
{
	struct fx *f = *state;
	char c1[STORE_GIT_HEX_SIZE], c2[STORE_GIT_HEX_SIZE];
	put(f, "a.yml", "a\n");
	assert_int_equal(commit_n(f, (const char *[]){"a.yml"}, 1, "add a", c1), 1);
	assert_int_equal(git_cli(f, "checkout -q --detach"), 0);
	put(f, "a.yml", "a2\n");
	assert_int_equal(commit_n(f, (const char *[]){"a.yml"}, 1, "edit a", c2), 1);
	/* The detached HEAD moved; main stayed. */
	assert_int_equal(git_cli(f, "rev-parse HEAD main"), 0);
	char *want = xasprintf("%s\n%s\n", c2, c1);
	assert_string_equal(f->out.data, want);
	free(want);
	assert_fsck_clean(f);
}

static void test_bad_input(void **state)
{
	struct fx *f = *state;
	struct err e = {0};
	int committed = -1;
	static const char *const bad[] = {"",          "/etc/passwd", "../x.yml",
	                                  "a/../../x", "a//b",        ".git/config",
	                                  "a/.GIT/x",  "dir/",        "./a.yml"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc =
		    store_git_commit_paths(f->g, &bad[i], 1, "A", "a@x", "m", &committed, NULL, &e);
		if (rc != ERR_INVAL)
			fail_msg("path '%s': got %d, want ERR_INVAL", bad[i], rc);
	}
	/* A directory is not a file to stage. */
	put(f, "services/h/a.yml", "a\n");
	const char *dir = "services";
	assert_int_equal(
	    store_git_commit_paths(f->g, &dir, 1, "A", "a@x", "m", &committed, NULL, &e),
	    ERR_INVAL);
	/* Bad identity and empty message are refused, and nothing was committed. */
	const char *ok = "services/h/a.yml";
	assert_int_equal(store_git_commit_paths(f->g, &ok, 1, "", "a@x", "m", &committed, NULL, &e),
	                 ERR_INVAL);
	assert_int_equal(
	    store_git_commit_paths(f->g, &ok, 1, "A", "a@x", "  \n", &committed, NULL, &e),
	    ERR_INVAL);
	assert_int_equal(committed, -1);
	char hex[STORE_GIT_HEX_SIZE];
	assert_int_equal(store_git_head(f->g, hex, &e), ERR_NOTFOUND);
	/* After the failures, a good call still works. */
	assert_int_equal(commit1(f, ok, "add a"), 1);
}

#define BIG 200

struct big {
	char names[BIG][48];
	char texts[BIG][96];
	struct store_git_file files[BIG];
};

/* Write BIG files (work tree too) for revision rev; every third one changes per rev. */
static void big_batch(struct fx *f, struct big *b, int rev)
{
	struct err e = {0};
	for (int i = 0; i < BIG; i++) {
		snprintf(b->names[i], sizeof(b->names[i]), "services/h%d/svc-%03d.yml", i % 5, i);
		snprintf(b->texts[i], sizeof(b->texts[i]),
		         "host: h%d\ncontainer_name: svc-%03d\nrev: %d\n", i % 5, i,
		         i % 3 == 0 ? rev : 0);
		char *path = xasprintf("%s/%s", f->repo, b->names[i]);
		if (fileio_write_atomic_flags(path, NULL, b->texts[i], strlen(b->texts[i]),
		                              FILEIO_NOSYNC, NULL, &e))
			fail_msg("write: %s", e.msg);
		free(path);
		b->files[i] =
		    (struct store_git_file){b->names[i], b->texts[i], strlen(b->texts[i])};
	}
}

static int commit_files(struct fx *f, const struct store_git_file *files, size_t n, char *hex)
{
	struct err e = {0};
	int committed = -1;
	if (store_git_commit_files(f->g, files, n, "Ada Operator", "ada@example.org", "bulk",
	                           &committed, hex, &e))
		fail_msg("commit: %s", e.msg);
	return committed;
}

/* The value of "key: N" in f->out (git count-objects -v). */
static long count_field(struct fx *f, const char *key)
{
	char *k = xasprintf("%s: ", key);
	const char *p = strstr(f->out.data, k);
	if (!p)
		fail_msg("no '%s' in: %s", key, f->out.data);
	long v = strtol(p + strlen(k), NULL, 10);
	free(k);
	return v;
}

static int is_loose(struct fx *f, const char *hex)
{
	char *path = xasprintf("%s/.git/objects/%.2s/%s", f->repo, hex, hex + 2);
	int r = fileio_exists(path);
	free(path);
	return r;
}

/* Every file of b reads back from HEAD with the git CLI, and none of their blobs is loose. */
static void assert_big_in_head(struct fx *f, const struct big *b)
{
	struct buf args, want;
	buf_init(&args, 0);
	buf_init(&want, 0);
	for (int i = 0; i < BIG; i++) {
		buf_addf(&args, " HEAD:%s", b->names[i]);
		buf_adds(&want, b->texts[i]);
	}
	/* One git per check: show prints the blobs one after the other. */
	assert_int_equal(git_cli(f, "show%s", args.data), 0);
	assert_string_equal(f->out.data, want.data);
	assert_int_equal(git_cli(f, "rev-parse%s", args.data), 0);
	assert_int_equal(f->out.len, BIG * 41);
	for (int i = 0; i < BIG; i++) {
		char *hex = f->out.data + i * 41;
		hex[40] = '\0';
		if (is_loose(f, hex))
			fail_msg("blob of '%s' is a loose object", b->names[i]);
	}
	buf_release(&want);
	buf_release(&args);
}

static void test_large_commit_writes_a_pack(void **state)
{
	struct fx *f = *state;
	struct err e = {0};
	struct big *b = xcalloc(1, sizeof(*b));
	char c1[STORE_GIT_HEX_SIZE], c2[STORE_GIT_HEX_SIZE];
	big_batch(f, b, 1);
	assert_int_equal(commit_files(f, b->files, BIG, c1), 1);
	/* One pack with the 200 blobs and their 7 trees; only the commit is loose. */
	assert_int_equal(git_cli(f, "count-objects -v"), 0);
	assert_int_equal(count_field(f, "packs"), 1);
	assert_int_equal(count_field(f, "in-pack"), BIG + 7);
	assert_int_equal(count_field(f, "count"), 1);
	assert_int_equal(count_field(f, "garbage"), 0);
	assert_true(is_loose(f, c1));
	assert_big_in_head(f, b);
	assert_fsck_clean(f);
	assert_int_equal(git_cli(f, "status --porcelain"), 0);
	assert_string_equal(f->out.data, "");

	/* A second big batch (a third of the files changed) packs only what is new. */
	big_batch(f, b, 2);
	assert_int_equal(commit_files(f, b->files, BIG, c2), 1);
	assert_int_equal(git_cli(f, "count-objects -v"), 0);
	assert_int_equal(count_field(f, "packs"), 2);
	assert_int_equal(count_field(f, "in-pack"), 2 * (BIG + 7) - (BIG - (BIG + 2) / 3));
	assert_big_in_head(f, b);
	/* The same batch again changes nothing, makes no commit and no pack. */
	assert_int_equal(commit_files(f, b->files, BIG, NULL), 0);
	assert_int_equal(git_cli(f, "count-objects -v"), 0);
	assert_int_equal(count_field(f, "packs"), 2);

	/* Small commits stay loose, and libgit2 reads the packed objects back. */
	put(f, "groups.yml", "groups: []\n");
	assert_int_equal(commit1(f, "groups.yml", "groups"), 1);
	assert_int_equal(git_cli(f, "count-objects -v"), 0);
	assert_int_equal(count_field(f, "packs"), 2);
	reopen(f);
	struct seen s = {0};
	assert_int_equal(store_git_diff_paths(f->g, c1, c2, record_path, &s, &e), 0);
	assert_int_equal(s.calls, (BIG + 2) / 3);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_git_diff_paths(f->g, NULL, "HEAD", record_path, &s, &e), 0);
	assert_int_equal(s.calls, BIG + 1);
	assert_int_equal(git_cli(f, "rev-list --count HEAD"), 0);
	assert_string_equal(f->out.data, "3\n");
	assert_fsck_clean(f);
	assert_int_equal(git_cli(f, "status --porcelain"), 0);
	assert_string_equal(f->out.data, "");
	free(b);
}

/* Many paths read back from the work tree are packed too, removals included. */
static void test_large_commit_by_path(void **state)
{
	struct fx *f = *state;
	struct big *b = xcalloc(1, sizeof(*b));
	const char *paths[BIG];
	big_batch(f, b, 1);
	for (int i = 0; i < BIG; i++)
		paths[i] = b->names[i];
	assert_int_equal(commit_n(f, paths, BIG, "bulk", NULL), 1);
	assert_int_equal(git_cli(f, "count-objects -v"), 0);
	assert_int_equal(count_field(f, "packs"), 1);
	assert_int_equal(count_field(f, "count"), 1);
	assert_big_in_head(f, b);
	for (int i = 0; i < BIG; i += 2)
		rm(f, paths[i]);
	assert_int_equal(commit_n(f, paths, BIG, "remove half", NULL), 1);
	assert_int_equal(git_cli(f, "ls-files"), 0);
	size_t lines = 0;
	for (const char *p = f->out.data; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, BIG / 2);
	assert_fsck_clean(f);
	assert_int_equal(git_cli(f, "status --porcelain"), 0);
	assert_string_equal(f->out.data, "");
	free(b);
}

/* What a killed indexer leaves in objects/pack is swept at open; real packs stay. */
static void test_stale_pack_files_removed(void **state)
{
	struct fx *f = *state;
	struct big *b = xcalloc(1, sizeof(*b));
	big_batch(f, b, 1);
	assert_int_equal(commit_files(f, b->files, BIG, NULL), 1);
	store_git_free(f->g);
	f->g = NULL;
	static const char *const stale[] = {
	    "objects/pack/pack_git2_0123456789abcdef",
	    "objects/pack/pack_git2_0123456789abidx.lock",
	    "objects/pack/pack-0123456789012345678901234567890123456789.idx"};
	for (size_t i = 0; i < sizeof(stale) / sizeof(stale[0]); i++)
		touch(f, stale[i]);
	reopen(f);
	for (size_t i = 0; i < sizeof(stale) / sizeof(stale[0]); i++)
		if (git_exists(f, stale[i]))
			fail_msg("stale '%s' still there", stale[i]);
	assert_int_equal(git_cli(f, "count-objects -v"), 0);
	assert_int_equal(count_field(f, "packs"), 1);
	assert_int_equal(count_field(f, "garbage"), 0);
	assert_big_in_head(f, b);
	assert_fsck_clean(f);
	free(b);
}

/*
 * A pack that cannot be written (objects/pack is a file) fails the commit
 * and leaves the index and HEAD alone; once repaired, the next one works.
 */
static void test_failed_pack_write(void **state)
{
	struct fx *f = *state;
	struct err e = {0};
	struct big *b = xcalloc(1, sizeof(*b));
	put(f, "README", "inventory\n");
	assert_int_equal(commit1(f, "README", "start"), 1);
	char *pack = xasprintf("%s/.git/objects/pack", f->repo);
	char *away = xasprintf("%s/.git/objects/pack.away", f->repo);
	assert_int_equal(rename(pack, away), 0);
	touch(f, "objects/pack");
	big_batch(f, b, 1);
	int committed = -1;
	assert_int_equal(
	    store_git_commit_files(f->g, b->files, BIG, "A", "a@x", "bulk", &committed, NULL, &e),
	    ERR_GIT);
	assert_int_equal(committed, -1);
	assert_int_equal(unlink(pack), 0);
	assert_int_equal(rename(away, pack), 0);
	assert_int_equal(git_cli(f, "rev-list --count HEAD"), 0);
	assert_string_equal(f->out.data, "1\n");
	assert_int_equal(git_cli(f, "ls-files"), 0);
	assert_string_equal(f->out.data, "README\n");
	assert_fsck_clean(f);
	assert_int_equal(commit_files(f, b->files, BIG, NULL), 1);
	assert_big_in_head(f, b);
	assert_fsck_clean(f);
	assert_int_equal(git_cli(f, "status --porcelain"), 0);
	assert_string_equal(f->out.data, "");
	free(away);
	free(pack);
	free(b);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	    T(test_open_creates_repo_on_main),
	    T(test_commit_added_files),
	    T(test_unchanged_makes_no_commit),
	    T(test_removal_committed),
	    T(test_stale_locks_removed),
	    T(test_diff_paths),
	    T(test_fsck_clean_after_many_commits),
	    T(test_unstaged_write_picked_up_staged_left_alone),
	    T(test_external_commit_and_lost_index),
	    T(test_detached_head),
	    T(test_bad_input),
	    T(test_large_commit_writes_a_pack),
	    T(test_large_commit_by_path),
	    T(test_stale_pack_files_removed),
	    T(test_failed_pack_write),
	    T(test_kill9_then_reopen_is_fsck_clean),
	    T(test_kill9_packed_then_reopen_is_fsck_clean),
#undef T
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("store_git", tests, NULL, NULL);
}
