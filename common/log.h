/*
 * Logging to stderr (and, once log_open_file() is called, a file). One
 * process-wide sink set up by main(); messages are lowercase, what failed
 * first, subject in quotes. Never pass secrets to these functions.
 */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Only messages at or above level are written. */
void log_set_level(enum log_level level);
/* Write a message at the given level. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
