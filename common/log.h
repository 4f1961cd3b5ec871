/*
 * Logging to stderr and, once log_open_file() is called, a size-rotated
 * file. One process-wide sink set up by main(); every function is safe to
 * call from any thread (one mutex keeps lines whole and rotation atomic).
 * A line is "<UTC time> <level> <message>", e.g.
 * "2026-11-23T14:19:43Z info message". Messages are lowercase, what failed
 * first, subject in quotes. Never pass tokens or secrets to these functions.
 */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Only messages at or above level are written. */
void log_set_level(enum log_level level);
/* The current minimum level. */
enum log_level log_get_level(void);
/* "debug", "info", "warn", "error" (case-insensitive; "warning" too) to a level; -1 if unknown. */
int log_level_parse(const char *s);
/* The name of a level ("info"); "?" when out of range. */
const char *log_level_name(int level);
/* Write a message at the given level. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/*
 * Also append every line to path (created mode 0640, parents too). Before
 * a line would take the file past max_bytes it is rotated: path.keep is
 * dropped, path.N becomes path.N+1, path becomes path.1 (keep 0: the file
 * is truncated instead). A line longer than max_bytes still goes out
 * whole, so a file exceeds the limit only by that one line. Replaces a
 * file opened earlier. Returns 0, ERR_INVAL for max_bytes 0 or keep < 0,
 * or ERR_IO with errno set when the file cannot be opened (stderr logging
 * carries on either way).
 */
int log_open_file(const char *path, size_t max_bytes, int keep);
/* Stop writing to the file (stderr only from now on); fine when none is open. */
void log_close_file(void);

#endif
