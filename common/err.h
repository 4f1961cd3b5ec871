/*
 * Error reporting: functions return 0 or a negative ERR_* code and describe
 * the failure in a caller-owned struct err. err_set() fills it and returns
 * the code, so `return err_set(e, ERR_INVAL, "bad port '%s'", s);` reports
 * and propagates in one line. A NULL struct err is allowed (message dropped).
 */
#ifndef COMMON_ERR_H
#define COMMON_ERR_H

enum err_code {
	ERR_OK = 0,
	ERR_INVAL = -1,    /* bad input: the caller's fault */
	ERR_NOTFOUND = -2, /* no such thing */
	ERR_EXISTS = -3,   /* conflicts with something already there */
	ERR_IO = -4,       /* filesystem or OS failure */
	ERR_STORE = -5,    /* LMDB failure */
	ERR_GIT = -6,      /* libgit2 failure */
	ERR_TOOBIG = -7,   /* input over a limit */
	ERR_VERSION = -8,  /* data written by a newer portolan */
	ERR_BUSY = -9,     /* locked by someone else */
	ERR_AUTH = -10,    /* not allowed */
};

struct err {
	int code;
	char msg[512];
};

/* Record a formatted message in e (if non-NULL); returns code. */
int err_set(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Reset e to "no error". */
void err_clear(struct err *e);
/* Short name of an error code, e.g. "invalid". */
const char *err_name(int code);

#endif
