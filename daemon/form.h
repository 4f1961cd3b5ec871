/*
 * HTML form bodies (application/x-www-form-urlencoded) and the few bits of
 * HTTP the UI needs around them: cookies and safe redirect targets.
 */
#ifndef DAEMON_FORM_H
#define DAEMON_FORM_H

#include <stddef.h>

#include <jansson.h>

#include "../common/err.h"

/* At most this many fields in one form. */
#define FORM_MAX_FIELDS 256

/*
 * Parse a urlencoded body into a JSON object of strings ("+" is a space,
 * %XX decoded). A name given twice keeps its last value. ERR_INVAL for a
 * malformed escape, a NUL or invalid UTF-8, or more than FORM_MAX_FIELDS
 * fields. New reference in *out.
 */
int form_parse(const char *body, size_t len, json_t **out, struct err *e);
/* The value of field name, or "" when absent. */
const char *form_get(const json_t *form, const char *name);

/*
 * The value of cookie name in a Cookie header (copied into out, at most
 * size - 1 bytes), 0; -1 when absent or too long.
 */
int form_cookie(const char *header, const char *name, char *out, size_t size);

/*
 * 1 when target is a local path to send a browser back to after a login:
 * starts with one '/', no "//" or backslash, printable ASCII only.
 */
int form_local_path(const char *target);

/* Append s percent-encoded for a query-string value. */
struct buf;
void form_url_encode(struct buf *out, const char *s);

#endif
