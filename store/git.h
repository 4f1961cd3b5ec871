/*
 * The git mirror's repository: a work tree whose files the caller writes,
 * and commits of exactly the paths the caller names. This is the only
 * module that knows libgit2.
 *
 * Invariants:
 * - The caller owns the work-tree files; this module only reads them and
 *   the repository under .git. Callers guarantee, with their own flock, that
 *   no other portolan process uses the same repository, so lock files found
 *   at open are stale (left by a process killed with -9) and are removed.
 * - A commit becomes visible only when the branch ref moves. Objects and
 *   the index are written first and synced to disk (one syncfs) before the
 *   ref moves, so after a kill -9 or a power cut the ref never names an
 *   object that is missing or was cut short, and `git fsck` stays clean. The index is never older
 *   than HEAD, so a file written but not yet staged (or staged but not yet
 *   committed) when the process died goes out with the next commit.
 * - Behaviour does not depend on the machine's git configuration: global,
 *   XDG and system config and attribute files are not read (a process-wide
 *   libgit2 setting); author and committer are always given explicitly.
 * - No empty commits: a batch whose tree equals HEAD's tree commits nothing.
 * A struct store_git is not thread-safe; use it from one thread at a time.
 */
#ifndef STORE_GIT_H
#define STORE_GIT_H

#include <stddef.h>

#include "../common/buf.h"
#include "../common/err.h"

/* Hex commit id plus NUL. */
#define STORE_GIT_HEX_SIZE 41

/* A repository with a work tree; opaque. */
struct store_git;

/*
 * Open the repository whose work tree is workdir, creating it (and workdir)
 * on branch `main` if missing; removes stale lock files first.
 * ERR_INVAL for a bare repository, ERR_GIT or ERR_IO on failure.
 */
int store_git_open(struct store_git **out, const char *workdir, struct err *e);

/* Close the repository (NULL is fine). */
void store_git_free(struct store_git *g);

/*
 * Stage exactly these work-tree-relative paths (present files are added,
 * missing ones removed) and commit on the current branch (`main` for
 * repositories created here) with author = committer = name <email>, time
 * now. *committed (if non-NULL) is 0 when the resulting tree equals HEAD's
 * (no commit made), else 1, and commit_hex (if non-NULL,
 * STORE_GIT_HEX_SIZE bytes) gets the new commit's id. ERR_INVAL for a bad
 * path, identity or empty message; ERR_IO; ERR_GIT (also when the branch
 * moved under us).
 */
int store_git_commit_paths(struct store_git *g, const char *const *paths, size_t npaths,
                           const char *author_name, const char *author_email, const char *message,
                           int *committed, char *commit_hex, struct err *e);

/* A file to commit whose bytes the caller holds; data NULL means removed. */
struct store_git_file {
	const char *path; /* relative to the work tree */
	const char *data;
	size_t len;
};

/*
 * Like store_git_commit_paths, but blobs come from the given bytes (which
 * the caller has also written to the work tree) instead of being read back.
 */
int store_git_commit_files(struct store_git *g, const struct store_git_file *files, size_t nfiles,
                           const char *author_name, const char *author_email, const char *message,
                           int *committed, char *commit_hex, struct err *e);

/*
 * Like store_git_commit_files, but the commit gets a second parent,
 * merge_hex, and is made even when its tree equals HEAD's: it records
 * that the other history is now part of this one. ERR_NOTFOUND for an
 * unknown merge_hex, ERR_INVAL before the first commit.
 */
int store_git_commit_merge(struct store_git *g, const struct store_git_file *files, size_t nfiles,
                           const char *merge_hex, const char *author_name, const char *author_email,
                           const char *message, char *commit_hex, struct err *e);

/* Copy HEAD's commit id (STORE_GIT_HEX_SIZE bytes); ERR_NOTFOUND if no commits yet. */
int store_git_head(struct store_git *g, char *hex, struct err *e);

/*
 * Call cb(path, exists_in_to, arg) for every file path that differs between
 * two commits (from_hex NULL or "" = the empty tree). Ids may be any
 * revision git understands (full or abbreviated hex, "HEAD"). Stops at and
 * returns cb's first nonzero value; ERR_NOTFOUND for an unknown revision,
 * ERR_INVAL for a malformed one, ERR_GIT on failure.
 */
int store_git_diff_paths(struct store_git *g, const char *from_hex, const char *to_hex,
                         int (*cb)(const char *path, int exists, void *arg), void *arg,
                         struct err *e);

/* The commit id (STORE_GIT_HEX_SIZE bytes) of any revision ("HEAD", a ref, a hex id). */
int store_git_resolve(struct store_git *g, const char *spec, char *hex, struct err *e);
/* The best common ancestor of two revisions; ERR_NOTFOUND when they share no history. */
int store_git_merge_base(struct store_git *g, const char *a, const char *b, char *hex,
                         struct err *e);
/* 1 if ancestor is commit or one of its ancestors, 0 if not, -ERR_* on failure. */
int store_git_contains(struct store_git *g, const char *commit, const char *ancestor,
                       struct err *e);
/*
 * Append the bytes of path in revision rev to out. ERR_NOTFOUND when there
 * is no such file (or revision), ERR_TOOBIG above max bytes, ERR_GIT.
 */
int store_git_read_file(struct store_git *g, const char *rev, const char *path, size_t max,
                        struct buf *out, struct err *e);
/* A commit's author name and first line (malloc'd; either pointer may be NULL). */
int store_git_commit_info(struct store_git *g, const char *rev, char **author, char **summary,
                          struct err *e);
/*
 * Call cb(path) for every tracked file edited, deleted or staged by hand
 * and not committed (work tree or index differ from HEAD); path NULL = all,
 * else only that file. Stops at cb's first nonzero value.
 */
int store_git_worktree_changes(struct store_git *g, const char *path,
                               int (*cb)(const char *path, void *arg), void *arg, struct err *e);

/*
 * 1 when the work-tree file at path holds bytes HEAD does not: an edit
 * nobody committed (staged or not), or a file nobody added. 0 when it
 * matches or is missing.
 */
int store_git_worktree_dirty(struct store_git *g, const char *path);

/*
 * Called after a commit object is written and synced, before the branch
 * moves to it (parent_hex "" for a first commit): a nonzero return (an
 * ERR_* with e set) abandons the commit, leaving the branch where it was.
 * The mirror records there which commits are its own, and refuses to
 * commit on top of a commit made by someone else meanwhile. NULL: none.
 */
typedef int (*store_git_commit_hook)(const char *hex, const char *parent_hex, void *arg,
                                     struct err *e);
void store_git_set_commit_hook(struct store_git *g, store_git_commit_hook fn, void *arg);

/* Work tree path, as given to store_git_open. */
const char *store_git_workdir(const struct store_git *g);

#endif
