#include "fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xalloc.h"
#include "banned.h"

int fileio_mkdirs(const char *dir, struct err *e)
{
	char *p = xstrdup(dir);
	int rc = 0;
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST) {
			rc = err_set(e, ERR_IO, "cannot create directory '%s': %s", p,
			             strerror(errno));
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

static int same_content(const char *path, const void *data, size_t len)
{
	struct stat st;
	if (stat(path, &st) < 0 || (size_t)st.st_size != len)
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	char chunk[8192];
	size_t off = 0;
	int same = 1;
	while (off < len) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n <= 0 || (size_t)n > len - off ||
		    memcmp(chunk, (const char *)data + off, (size_t)n)) {
			same = 0;
			break;
		}
		off += (size_t)n;
	}
	close(fd);
	return same;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fileio_write_atomic(const char *path, const void *data, size_t len, int *changed, struct err *e)
{
	return fileio_write_atomic_flags(path, NULL, data, len, 0, changed, e);
}

int fileio_syncfs(const char *path, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, ERR_IO, "cannot open '%s': %s", path, strerror(errno));
	int rc = syncfs(fd);
	close(fd);
	return rc < 0 ? err_set(e, ERR_IO, "cannot sync '%s': %s", path, strerror(errno)) : 0;
}

static int mkdir_parent(const char *path, struct err *e)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	int rc = 0;
	if (slash && slash != dir) {
		*slash = '\0';
		rc = fileio_mkdirs(dir, e);
	}
	free(dir);
	return rc;
}

int fileio_same_content(const char *path, const void *data, size_t len)
{
	return same_content(path, data, len);
}

int fileio_write_atomic_flags(const char *path, const char *tmp_dir, const void *data, size_t len,
                              int flags, int *changed, struct err *e)
{
	if (changed)
		*changed = 0;
	if (!(flags & FILEIO_NOCOMPARE) && same_content(path, data, len))
		return 0;
	/* Shared by every writing thread (mirror, renderer): temp names must not collide. */
	static atomic_ulong counter;
	char *tmp = tmp_dir ? xasprintf("%s/%ld.%lu.tmp", tmp_dir, (long)getpid(), ++counter)
	                    : xasprintf("%s.tmp.%ld", path, (long)getpid());
	int rc = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 && errno == ENOENT) {
		/* Parents are created only when missing: most writes replace a file. */
		if ((rc = mkdir_parent(path, e)))
			goto out;
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	}
	if (fd < 0) {
		rc = err_set(e, ERR_IO, "cannot create '%s': %s", tmp, strerror(errno));
		goto out;
	}
	if (write_all(fd, data, len) < 0 || (!(flags & FILEIO_NOSYNC) && fsync(fd) < 0)) {
		rc = err_set(e, ERR_IO, "cannot write '%s': %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (rename(tmp, path) < 0 &&
	    (errno != ENOENT || mkdir_parent(path, NULL) < 0 || rename(tmp, path) < 0)) {
		rc = err_set(e, ERR_IO, "cannot rename '%s': %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (changed)
		*changed = 1;
out:
	free(tmp);
	return rc;
}

int fileio_read(const char *path, struct buf *out, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, "cannot open '%s': %s",
		               path, strerror(errno));
	char chunk[16384];
	int rc = 0;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = err_set(e, ERR_IO, "cannot read '%s': %s", path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (buf_add(out, chunk, (size_t)n)) {
			rc = err_set(e, ERR_TOOBIG, "file '%s' is larger than %zu bytes", path,
			             out->max);
			break;
		}
	}
	close(fd);
	return rc;
}

int fileio_remove_pruning(const char *path, const char *stop_dir, struct err *e)
{
	if (unlink(path) < 0 && errno != ENOENT)
		return err_set(e, ERR_IO, "cannot remove '%s': %s", path, strerror(errno));
	char *dir = xstrdup(path);
	size_t stop_len = strlen(stop_dir);
	for (;;) {
		char *slash = strrchr(dir, '/');
		if (!slash)
			break;
		*slash = '\0';
		if (strlen(dir) <= stop_len || rmdir(dir) < 0)
			break;
	}
	free(dir);
	return 0;
}

int fileio_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

int fileio_remove_tree(const char *path, struct err *e)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : err_set(e, ERR_IO, "cannot stat '%s'", path);
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) < 0)
			return err_set(e, ERR_IO, "cannot remove '%s': %s", path, strerror(errno));
		return 0;
	}
	DIR *d = opendir(path);
	if (!d)
		return err_set(e, ERR_IO, "cannot open '%s': %s", path, strerror(errno));
	struct dirent *de;
	int rc = 0;
	while (!rc && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *child = xasprintf("%s/%s", path, de->d_name);
		rc = fileio_remove_tree(child, e);
		free(child);
	}
	closedir(d);
	if (!rc && rmdir(path) < 0)
		rc = err_set(e, ERR_IO, "cannot remove '%s': %s", path, strerror(errno));
	return rc;
}
