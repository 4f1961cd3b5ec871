#include "form.h"

#include <string.h>

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
