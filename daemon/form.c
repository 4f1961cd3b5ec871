#include "form.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/buf.h"
#include "../common/xalloc.h"
#include "../common/banned.h"

static int hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode one urlencoded component into out; -1 on a bad escape or a NUL. */
static int decode(const char *s, size_t n, struct buf *out)
{
	buf_reset(out);
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (i + 2 >= n || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0)
				return -1;
			c = hex(s[i + 1]) * 16 + hex(s[i + 2]);
			i += 2;
		}
		if (c == 0)
			return -1;
		buf_addc(out, (char)c);
	}
	return 0;
}

int form_parse(const char *body, size_t len, json_t **out, struct err *e)
{
	json_t *form = json_object();
	struct buf key, val;
	buf_init(&key, 0);
	buf_init(&val, 0);
	size_t fields = 0;
	int rc = 0;
	for (size_t i = 0; i < len;) {
		size_t end = i;
		while (end < len && body[end] != '&')
			end++;
		if (end > i) {
			const char *eq = memchr(body + i, '=', end - i);
			size_t klen = eq ? (size_t)(eq - (body + i)) : end - i;
			if (++fields > FORM_MAX_FIELDS) {
				rc = err_set(e, ERR_INVAL, "form: more than %d fields",
				             FORM_MAX_FIELDS);
				break;
			}
			if (decode(body + i, klen, &key) ||
			    decode(eq ? eq + 1 : body + end, eq ? (size_t)(body + end - eq - 1) : 0,
			           &val)) {
				rc = err_set(e, ERR_INVAL, "form: malformed encoding");
				break;
			}
			/* invalid UTF-8 in the value (json_stringn) or the name (set fails) */
			json_t *v = json_stringn(val.data, val.len);
			if (!v || json_object_set_new(form, key.data, v)) {
				rc = err_set(e, ERR_INVAL, "form: a field is not valid UTF-8");
				break;
			}
		}
		i = end + 1;
	}
	buf_release(&key);
	buf_release(&val);
	if (rc) {
		json_decref(form);
		return rc;
	}
	*out = form;
	return 0;
}

const char *form_get(const json_t *form, const char *name)
{
	const char *v = json_string_value(json_object_get(form, name));
	return v ? v : "";
}

int form_cookie(const char *header, const char *name, char *out, size_t size)
{
	size_t n = strlen(name);
	for (const char *p = header; p && *p;) {
		while (*p == ' ' || *p == ';')
			p++;
		const char *end = strchr(p, ';');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > n && !strncmp(p, name, n) && p[n] == '=') {
			size_t vlen = len - n - 1;
			if (vlen >= size)
				return -1;
			memcpy(out, p + n + 1, vlen);
			out[vlen] = '\0';
			return 0;
		}
		p = end;
	}
	return -1;
}

int form_local_path(const char *target)
{
	if (!target || target[0] != '/' || target[1] == '/' || target[1] == '\\')
		return 0;
	for (const unsigned char *p = (const unsigned char *)target; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '\\')
			return 0;
	return strlen(target) <= 2048;
}

void form_url_encode(struct buf *out, const char *s)
{
	static const char digits[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '~' ||
		    *p == '/') {
			buf_addc(out, (char)*p);
		} else {
			buf_addc(out, '%');
			buf_addc(out, digits[*p >> 4]);
			buf_addc(out, digits[*p & 15]);
		}
	}
}

/* --- multipart/form-data --------------------------------------------------- */

/* RFC 2046 bchars: what a boundary may hold (a space, but not as the last one). */
static int bchar(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("'()+_,-./:=? ", c));
}

/*
 * The value of parameter name (case-insensitive) in a header value like
 * `form-data; name="x"; filename="a.yml"`: a token or a quoted string
 * (backslash escapes the next character). *out is malloc'd; 0 when
 * found, 1 when absent, -1 when malformed.
 */
static int header_param(const char *v, const char *name, char **out)
{
	size_t nlen = strlen(name);
	const char *p = strchr(v, ';');
	while (p) {
		p++;
		p += strspn(p, " \t");
		const char *eq = strchr(p, '=');
		if (!eq)
			return -1;
		int match = (size_t)(eq - p) == nlen && !strncasecmp(p, name, nlen);
		struct buf val;
		buf_init(&val, 0);
		p = eq + 1;
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				buf_addc(&val, *p);
			}
			if (*p != '"') {
				buf_release(&val);
				return -1;
			}
			p++;
		} else {
			size_t n = strcspn(p, "; \t");
			buf_add(&val, p, n);
			p += n;
		}
		p += strspn(p, " \t");
		if (*p && *p != ';') {
			buf_release(&val);
			return -1;
		}
		if (match) {
			*out = buf_detach(&val, NULL);
			return 0;
		}
		buf_release(&val);
		p = *p ? p : NULL;
	}
	return 1;
}

/* The boundary of a multipart/form-data Content-Type, or NULL (malloc'd). */
static char *boundary_of(const char *content_type)
{
	char *b = NULL;
	if (!content_type || strncasecmp(content_type, "multipart/form-data", 19) ||
	    (content_type[19] && content_type[19] != ';' && content_type[19] != ' '))
		return NULL;
	if (header_param(content_type, "boundary", &b))
		return NULL;
	size_t n = strlen(b);
	int ok = n >= 1 && n <= 70 && b[n - 1] != ' ';
	for (size_t i = 0; ok && i < n; i++)
		ok = bchar((unsigned char)b[i]);
	if (!ok) {
		free(b);
		return NULL;
	}
	return b;
}

/* The text after the last '/' or '\' (browsers on Windows once sent whole paths). */
static char *base_name(const char *s)
{
	const char *b = s;
	for (const char *p = s; *p; p++)
		if (*p == '/' || *p == '\\')
			b = p + 1;
	return xstrdup(b);
}

/* One part's header lines (hdr..end, CRLF-separated) into part; -1 when malformed. */
static int part_headers(const char *hdr, size_t len, struct form_part *part)
{
	char *text = xstrndup(hdr, len);
	int rc = memchr(hdr, 0, len) ? -1 : 0, seen = 0;
	for (char *line = text; !rc && *line;) {
		char *end = strstr(line, "\r\n");
		if (end)
			*end = '\0';
		char *colon = strchr(line, ':');
		if (!colon || colon == line || strchr(line, '\n') || strchr(line, '\r')) {
			rc = -1;
			break;
		}
		*colon = '\0';
		if (!strcasecmp(line, "Content-Disposition")) {
			const char *v = colon + 1 + strspn(colon + 1, " \t");
			char *fn = NULL;
			int r;
			if (seen++ || strncasecmp(v, "form-data", 9) ||
			    (v[9] && v[9] != ';' && v[9] != ' ') ||
			    header_param(v, "name", &part->name) || !*part->name ||
			    (r = header_param(v, "filename", &fn)) < 0)
				rc = -1;
			else if (r == 0)
				part->filename = base_name(fn);
			free(fn);
		}
		line = end ? end + 2 : line + strlen(line);
	}
	free(text);
	return rc || !seen ? -1 : 0;
}

static void part_release(struct form_part *p)
{
	free(p->name);
	free(p->filename);
	free(p->data);
	memset(p, 0, sizeof(*p));
}

void form_multipart_release(struct form_multipart *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		part_release(&m->v[i]);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/*
 * Walk the parts after the first delimiter: p points just past a
 * "--boundary". Returns 0 when the closing delimiter was reached.
 */
static int walk_parts(struct form_multipart *m, const char *p, const char *end, const char *delim,
                      size_t dlen, struct err *e)
{
	for (;;) {
		if (end - p >= 2 && !memcmp(p, "--", 2))
			return 0; /* the close delimiter; the epilogue is ignored */
		while (p < end && (*p == ' ' || *p == '\t'))
			p++; /* transport padding */
		if (end - p < 2 || memcmp(p, "\r\n", 2))
			return err_set(e, ERR_INVAL, "form: malformed multipart delimiter");
		p += 2;
		const char *hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
		if (!hend || hend - p > FORM_MAX_PART_HEADERS)
			return err_set(e, ERR_INVAL, "form: multipart part without headers");
		if (m->n == FORM_MAX_PARTS)
			return err_set(e, ERR_INVAL, "form: more than %d parts", FORM_MAX_PARTS);
		struct form_part part;
		memset(&part, 0, sizeof(part));
		if (part_headers(p, (size_t)(hend - p), &part)) {
			part_release(&part);
			return err_set(e, ERR_INVAL, "form: malformed multipart part headers");
		}
		const char *data = hend + 4;
		const char *next = memmem(data, (size_t)(end - data), delim, dlen);
		if (!next) {
			part_release(&part);
			return err_set(e, ERR_INVAL, "form: multipart body is not closed");
		}
		part.len = (size_t)(next - data);
		part.data = xmalloc(part.len + 1);
		memcpy(part.data, data, part.len);
		part.data[part.len] = '\0';
		m->v = xrealloc(m->v, (m->n + 1) * sizeof(*m->v));
		m->v[m->n++] = part;
		p = next + dlen;
	}
}

int form_parse_multipart(struct form_multipart *out, const char *content_type, const char *body,
                         size_t len, struct err *e)
{
	char *boundary = boundary_of(content_type);
	if (!boundary)
		return err_set(e, ERR_INVAL, "form: not multipart/form-data with a valid boundary");
	/* every delimiter but the first follows a CRLF that belongs to it */
	char *delim = xasprintf("\r\n--%s", boundary);
	size_t dlen = strlen(delim);
	struct form_multipart m = {NULL, 0};
	int rc;
	if (len < dlen - 2 || memcmp(body, delim + 2, dlen - 2))
		rc = err_set(e, ERR_INVAL, "form: multipart body does not start with its boundary");
	else
		rc = walk_parts(&m, body + dlen - 2, body + len, delim, dlen, e);
	free(delim);
	free(boundary);
	if (rc) {
		form_multipart_release(&m);
		return rc;
	}
	*out = m;
	return 0;
}

const struct form_part *form_multipart_get(const struct form_multipart *m, const char *name)
{
	for (size_t i = m->n; i > 0; i--)
		if (!strcmp(m->v[i - 1].name, name))
			return &m->v[i - 1];
	return NULL;
}

int form_multipart_fields(const struct form_multipart *m, json_t **out, struct err *e)
{
	json_t *form = json_object();
	for (size_t i = 0; i < m->n; i++) {
		if (m->v[i].filename)
			continue;
		json_t *v = memchr(m->v[i].data, 0, m->v[i].len)
		                ? NULL
		                : json_stringn(m->v[i].data, m->v[i].len);
		if (!v || json_object_set_new(form, m->v[i].name, v)) {
			json_decref(form);
			return err_set(e, ERR_INVAL, "form: a field is not valid UTF-8");
		}
	}
	*out = form;
	return 0;
}
