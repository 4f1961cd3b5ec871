/*
 * Reading the inventory repo's history back, for the web UI: the commits
 * that changed one service file (with their diffs), a file's bytes at a
 * given commit (to restore that version), and the repo's recent commits.
 * Read-only: nothing here writes to the repository.
 *
 * History is the first-parent chain from HEAD, newest first. A walk stops
 * after `max` results or after examining STORE_HISTORY_MAX_SCAN commits,
 * whichever comes first, so a page costs a bounded amount of work however
 * old the repo is; older history is then simply not listed.
 *
 * Times are the author's, as ISO-8601 UTC ("2026-11-23T17:40:00Z").
 * Strings that are not valid UTF-8 (a commit made by hand in another
 * encoding, a Latin-1 file) get U+FFFD for each bad byte, so every result
 * can be sent as JSON.
 *
 * Thread-safety: every call opens its own git_repository and frees it
 * before returning, so calls may run on any thread, concurrently with each
 * other and with the mirror's commits (which take no lock we respect).
 * Readers still see a consistent commit graph: git objects are immutable
 * and are written before any ref names them, and the branch ref is
 * replaced atomically (lock file + rename), so a call sees either the old
 * HEAD or the new one, and everything reachable from either is complete.
 * In the daemon the mirror keeps libgit2 initialised (with store/git.c's
 * process-wide settings); the init and shutdown each call does are then
 * only a reference count.
 */
#ifndef STORE_HISTORY_H
#define STORE_HISTORY_H

#include <stddef.h>

#include <jansson.h>

#include "../common/buf.h"
#include "../common/err.h"

/* Most commits one call examines; older history is not reported. */
#define STORE_HISTORY_MAX_SCAN 5000
/* Longest diff text per commit; a longer one ends with STORE_HISTORY_TRUNCATED. */
#define STORE_HISTORY_MAX_DIFF (64 * 1024)
/* The line that replaces what is cut from a diff. */
#define STORE_HISTORY_TRUNCATED "\xe2\x80\xa6(diff truncated)\n"
/* Changed paths listed per commit by store_history_log (nfiles counts them all). */
#define STORE_HISTORY_MAX_FILES 50
/* Blobs larger than this are diffed as binary ("Binary files ... differ"). */
#define STORE_HISTORY_MAX_DIFF_BLOB (1024 * 1024)

/*
 * The commits in which the file at path (repo-relative, e.g.
 * "services/docker01/sonarr.yml") was added, modified or deleted, newest
 * first, at most max, as a new JSON array of {"commit", "when", "author",
 * "email", "message" (the summary line), "change" ("added", "modified" or
 * "deleted"), "diff" (unified diff of that file against the first parent,
 * git's format; whole lines up to STORE_HISTORY_MAX_DIFF bytes, counted
 * before any U+FFFD, then the truncation line)}. Only a file (blob or
 * symlink) at exactly path counts; a directory there is no file. An empty
 * array for a path with no history or a repo without commits. ERR_INVAL
 * for a malformed path, ERR_GIT when the repo cannot be opened or read.
 */
int store_history_file(const char *repo_dir, const char *path, size_t max, json_t **out,
                       struct err *e);

/*
 * Append the bytes of the file at path in commit commit_hex (exactly 40
 * lowercase hex digits) to out. ERR_INVAL for a malformed commit id or
 * path, ERR_NOTFOUND when there is no such commit or no file at path in
 * it, ERR_TOOBIG when out's maximum would be exceeded (out unchanged),
 * ERR_GIT when the repo cannot be opened or read.
 */
int store_history_file_at(const char *repo_dir, const char *commit_hex, const char *path,
                          struct buf *out, struct err *e);

/*
 * Write the inventory files of commit commit_hex (services/ ** and the
 * top-level groups.yml and exposure.yml) under dir, which must exist and
 * be empty, so store/repo.h can load that version of the inventory. At
 * most STORE_HISTORY_MAX_EXPORT bytes in all. ERR_INVAL for a malformed
 * commit id, ERR_NOTFOUND for an unknown commit, ERR_TOOBIG, ERR_IO,
 * ERR_GIT.
 */
int store_history_export(const char *repo_dir, const char *commit_hex, const char *dir,
                         struct err *e);
#define STORE_HISTORY_MAX_EXPORT (256u << 20)
/*
 * Call cb(path, bytes, len, arg) for each inventory file of commit_hex,
 * the files store_history_export writes, without writing them; stops at
 * and returns cb's first nonzero value. Errors as store_history_export.
 */
int store_history_walk(const char *repo_dir, const char *commit_hex,
                       int (*cb)(const char *path, const char *data, size_t len, void *arg),
                       void *arg, struct err *e);

/*
 * The most recent commits, newest first, at most max, as a new JSON array
 * of {"commit", "when", "author", "email", "message", "files" (the first
 * STORE_HISTORY_MAX_FILES changed file paths against the first parent, in
 * byte order), "nfiles" (how many changed)}. An empty array for a repo
 * without commits. ERR_GIT when the repo cannot be opened or read.
 */
int store_history_log(const char *repo_dir, size_t max, json_t **out, struct err *e);

#endif
