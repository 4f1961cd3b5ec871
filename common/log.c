#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "fileio.h"
#include "xalloc.h"
#include "banned.h"

static const char *const level_names[] = {"debug", "info", "warn", "error"};

/* Read on every call from any thread, set rarely: an atomic, not the mutex. */
static atomic_int min_level = LOG_INFO;

/* The file sink; every field is guarded by lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int file_fd = -1;
static char *file_path;
static size_t file_max;
static int file_keep;
static size_t file_size;

void log_set_level(enum log_level level)
{
	atomic_store(&min_level, (int)level);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load(&min_level);
}

int log_level_parse(const char *s)
{
	if (!s)
		return -1;
	for (int i = LOG_DEBUG; i <= LOG_ERROR; i++)
		if (!strcasecmp(s, level_names[i]))
			return i;
	if (!strcasecmp(s, "warning"))
		return LOG_WARN;
	return -1;
}

const char *log_level_name(int level)
{
	return level >= LOG_DEBUG && level <= LOG_ERROR ? level_names[level] : "?";
}

static void write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

/* A problem with the log file itself: straight to stderr, never through log_msg. */
static void sink_problem(const char *what, const char *path)
{
	char line[1024];
	int n =
	    snprintf(line, sizeof(line), "portolan: %s '%s': %s\n", what, path, strerror(errno));
	if (n > 0)
		write_all(2, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static int open_append(const char *path, int trunc)
{
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (trunc ? O_TRUNC : 0), 0640);
}

/* path → path.1 → … → path.keep, then a fresh path. Called with lock held. */
static void rotate(void)
{
	size_t n = strlen(file_path) + 16;
	char *from = xmalloc(n), *to = xmalloc(n);
	for (int k = file_keep - 1; k >= 1; k--) {
		snprintf(from, n, "%s.%d", file_path, k);
		snprintf(to, n, "%s.%d", file_path, k + 1);
		if (rename(from, to) < 0 && errno != ENOENT)
			sink_problem("cannot rotate log file", from);
	}
	snprintf(to, n, "%s.1", file_path);
	if (file_keep > 0 && rename(file_path, to) < 0) {
		/* Keep appending rather than lose lines; try again a file's worth later. */
		sink_problem("cannot rotate log file", file_path);
		file_size = 0;
		goto out;
	}
	int fd = open_append(file_path, file_keep == 0);
	if (fd < 0) {
		sink_problem("cannot reopen log file", file_path);
		if (file_keep > 0) {
			/* The old descriptor names path.1 now: stop writing there. */
			close(file_fd);
			file_fd = -1;
		}
		file_size = 0;
		goto out;
	}
	close(file_fd);
	file_fd = fd;
	file_size = 0;
out:
	free(from);
	free(to);
}

static void file_write(const char *line, size_t len)
{
	if (file_fd < 0)
		return;
	if (file_size > 0 && file_size + len > file_max)
		rotate();
	if (file_fd < 0)
		return;
	write_all(file_fd, line, len);
	file_size += len;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if ((int)level < atomic_load(&min_level))
		return;
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One event, one line: an embedded newline must not forge another entry. */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			*p = ' ';
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	char ts[32];
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	char line[2200];
	int n = snprintf(line, sizeof(line), "%s %s %s\n", ts, log_level_name((int)level), msg);
	if (n < 0)
		return;
	size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
	line[len - 1] = '\n';
	pthread_mutex_lock(&lock);
	write_all(2, line, len);
	file_write(line, len);
	pthread_mutex_unlock(&lock);
}

int log_open_file(const char *path, size_t max_bytes, int keep)
{
	if (!max_bytes || keep < 0) {
		errno = EINVAL;
		return ERR_INVAL;
	}
	int fd = open_append(path, 0);
	if (fd < 0 && errno == ENOENT) {
		char *dir = xstrdup(path);
		char *slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			fileio_mkdirs(dir, NULL);
		}
		free(dir);
		fd = open_append(path, 0);
	}
	if (fd < 0)
		return ERR_IO;
	struct stat st;
	size_t size = fstat(fd, &st) == 0 && st.st_size > 0 ? (size_t)st.st_size : 0;
	pthread_mutex_lock(&lock);
	if (file_fd >= 0)
		close(file_fd);
	free(file_path);
	file_fd = fd;
	file_path = xstrdup(path);
	file_max = max_bytes;
	file_keep = keep;
	file_size = size;
	pthread_mutex_unlock(&lock);
	return 0;
}

void log_close_file(void)
{
	pthread_mutex_lock(&lock);
	if (file_fd >= 0)
		close(file_fd);
	file_fd = -1;
	free(file_path);
	file_path = NULL;
	pthread_mutex_unlock(&lock);
}
