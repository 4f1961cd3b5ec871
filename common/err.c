#include "err.h"

#include <stdarg.h>
#include <stdio.h>

#include "banned.h"

int err_set(struct err *e, int code, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
		e->code = code;
	}
	return code;
}

void err_clear(struct err *e)
{
	if (e) {
		e->code = 0;
		e->msg[0] = '\0';
	}
}

const char *err_name(int code)
{
	switch (code) {
	case ERR_OK:
		return "ok";
	case ERR_INVAL:
		return "invalid";
	case ERR_NOTFOUND:
		return "not found";
	case ERR_EXISTS:
		return "exists";
	case ERR_IO:
		return "i/o error";
	case ERR_STORE:
		return "store error";
	case ERR_GIT:
		return "git error";
	case ERR_TOOBIG:
		return "too big";
	case ERR_VERSION:
		return "version";
	case ERR_BUSY:
		return "busy";
	case ERR_AUTH:
		return "unauthorized";
	}
	return "unknown";
}
