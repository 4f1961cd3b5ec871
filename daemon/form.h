/*
 * HTML form bodies (application/x-www-form-urlencoded, and
 * multipart/form-data for file uploads) and the few bits of HTTP the UI
 * needs around them: cookies and safe redirect targets.
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

/* Parts in one multipart body, and bytes of one part's headers. */
#define FORM_MAX_PARTS        64
#define FORM_MAX_PART_HEADERS 8192

/* One part of a multipart/form-data body. */
struct form_part {
	char *name;     /* the form field's name (valid UTF-8, no NUL) */
	char *filename; /* the uploaded file's name without any directory; NULL for a plain field */
	char *data;     /* the content, len bytes plus a NUL (which the content may also hold) */
	size_t len;
};

struct form_multipart {
	struct form_part *v;
	size_t n;
};

/*
 * Parse a multipart/form-data body (RFC 7578) whose Content-Type header is
 * content_type (it names the boundary). Strict: CRLF line ends, the body
 * starts with the first delimiter and has the closing one, every part has
 * a Content-Disposition "form-data" with a name, at most FORM_MAX_PARTS
 * parts. ERR_INVAL (out untouched) for anything else.
 */
int form_parse_multipart(struct form_multipart *out, const char *content_type, const char *body,
                         size_t len, struct err *e);
/* The last part named name, or NULL. */
const struct form_part *form_multipart_get(const struct form_multipart *m, const char *name);
/*
 * The plain (non-file) fields as a JSON object of strings, like
 * form_parse's; ERR_INVAL when one is not valid UTF-8 or holds a NUL.
 */
int form_multipart_fields(const struct form_multipart *m, json_t **out, struct err *e);
/* Free the parts. NULL is fine. */
void form_multipart_release(struct form_multipart *m);

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
