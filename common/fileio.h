/*
 * File helpers. Every file portolan generates goes through
 * fileio_write_atomic(): temp file in the same directory, fsync, rename, so
 * a reader (a web server, git, a crash) never sees half a file.
 */
#ifndef COMMON_FILEIO_H
#define COMMON_FILEIO_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

/* Create dir and its parents (mode 0755); ERR_IO on failure. */
int fileio_mkdirs(const char *dir, struct err *e);
/*
 * Write data to path atomically (temp + fsync + rename), creating parent
 * dirs. When the file already holds exactly these bytes it is left alone
 * and *changed (if non-NULL) is 0. ERR_IO on failure.
 */
int fileio_write_atomic(const char *path, const void *data, size_t len, int *changed,
                        struct err *e);
/* Skip the per-file fsync: the caller syncs the filesystem once for a batch. */
#define FILEIO_NOSYNC 1
/* Write even when the file already holds these bytes (the caller knows it does not). */
#define FILEIO_NOCOMPARE 2
/* 1 when the file at path holds exactly these bytes, else 0. */
int fileio_same_content(const char *path, const void *data, size_t len);
/*
 * fileio_write_atomic with FILEIO_* flags and the temp file in tmp_dir
 * (same filesystem; NULL = beside the file), so that a writer killed
 * mid-write leaves its litter where the caller can sweep it.
 */
int fileio_write_atomic_flags(const char *path, const char *tmp_dir, const void *data, size_t len,
                              int flags, int *changed, struct err *e);
/* Flush the whole filesystem holding path (one call for a batch of NOSYNC writes). */
int fileio_syncfs(const char *path, struct err *e);
/* Read a whole file into out (bounded by out's max); ERR_NOTFOUND, ERR_IO, ERR_TOOBIG. */
int fileio_read(const char *path, struct buf *out, struct err *e);
/*
 * Remove path and then each parent directory that became empty, up to (not
 * including) stop_dir. A missing file is not an error.
 */
int fileio_remove_pruning(const char *path, const char *stop_dir, struct err *e);
/* 1 if path exists (any type), else 0. */
int fileio_exists(const char *path);
/* Recursively delete a directory tree; missing is fine. */
int fileio_remove_tree(const char *path, struct err *e);

#endif
