#include "icons.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/buf.h"
#include "../common/xalloc.h"
#include "../common/banned.h"

/* Live keys: this prefix + the name (health's keys are 9 binary bytes: no overlap). */
#define FAIL_PREFIX "icon-failed:"

static int name_chars_ok(const char *name, int lowercase_only)
{
	size_t n = strlen(name);
	if (!n || n > STORE_ICON_NAME_MAX || name[0] == '.' || name[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		int upper = c >= 'A' && c <= 'Z';
		if (!((c >= 'a' && c <= 'z') || (upper && !lowercase_only) ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int store_icon_name_ok(const char *name)
{
	return name && name_chars_ok(name, 0);
}

int store_icon_name_fetchable(const char *name)
{
	return name && name_chars_ok(name, 1);
}

const char *const store_icon_bare_exts[] = {".svg", ".png", ".webp", ".ico", NULL};

int store_icon_name_bare(const char *name)
{
	const char *dot = strrchr(name, '.');
	for (size_t i = 0; dot && store_icon_bare_exts[i]; i++)
		if (!strcasecmp(dot, store_icon_bare_exts[i]))
			return 0;
	return 1;
}

static const char *const kind_exts[] = {NULL, "svg", "png", "webp"};

enum store_icon_kind store_icon_kind_of_ext(const char *ext)
{
	for (int k = STORE_ICON_KIND_SVG; ext && k <= STORE_ICON_KIND_WEBP; k++)
		if (!strcmp(ext, kind_exts[k]))
			return (enum store_icon_kind)k;
	return STORE_ICON_KIND_UNKNOWN;
}

const char *store_icon_kind_ext(enum store_icon_kind kind)
{
	return kind > STORE_ICON_KIND_UNKNOWN && kind <= STORE_ICON_KIND_WEBP ? kind_exts[kind]
	                                                                      : NULL;
}

/* --- SVG ------------------------------------------------------------------ */

/* Skip what may precede the root element: BOM, space, XML declaration, comments, doctype. */
static const char *svg_prolog_end(const char *s, struct err *e)
{
	if (!strncmp(s, "\xef\xbb\xbf", 3))
		s += 3;
	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		const char *end = NULL;
		size_t skip = 1; /* the terminator's length */
		if (!strncmp(s, "<?", 2)) {
			end = strstr(s, "?>");
			skip = 2;
		} else if (!strncmp(s, "<!--", 4)) {
			end = strstr(s, "-->");
			skip = 3;
		} else if (!strncmp(s, "<!doctype", 9)) {
			end = strchr(s, '>');
			/*
			 * An internal subset is where entities live (billion laughs,
			 * XXE); a quoted external id (SYSTEM "http://…") loads a DTD.
			 */
			if (end && (memchr(s, '[', (size_t)(end - s)) ||
			            memchr(s, '"', (size_t)(end - s)) ||
			            memchr(s, '\'', (size_t)(end - s)))) {
				err_set(e, ERR_INVAL, "svg has a doctype with declarations");
				return NULL;
			}
		} else
			return s;
		if (!end) {
			err_set(e, ERR_INVAL, "not an svg: unterminated prolog");
			return NULL;
		}
		s = end + skip;
	}
}

/* An attribute named on<letters> (an event handler) starting at p. */
static int is_handler_at(const char *low, const char *p)
{
	if (p == low ||
	    !(isspace((unsigned char)p[-1]) || p[-1] == '/' || p[-1] == '"' || p[-1] == '\''))
		return 0;
	if (strncmp(p, "on", 2))
		return 0;
	p += 2;
	if (!islower((unsigned char)*p))
		return 0;
	while (islower((unsigned char)*p) || *p == '-')
		p++;
	while (isspace((unsigned char)*p))
		p++;
	return *p == '=';
}

/* Every href (and xlink:href) attribute must point inside the document ("#id"). */
static int external_href(const char *low)
{
	for (const char *p = strstr(low, "href"); p; p = strstr(p + 4, "href")) {
		const char *q = p + 4;
		while (isspace((unsigned char)*q))
			q++;
		if (*q != '=')
			continue;
		q++;
		while (isspace((unsigned char)*q))
			q++;
		if (*q == '"' || *q == '\'')
			q++;
		if (*q != '#')
			return 1;
	}
	return 0;
}

/*
 * Elements an icon has no use for, by local name: a prefix
 * (<s:script xmlns:s="…svg">) names the same element to a browser.
 */
static const char *banned_element(const char *low)
{
	static const char *const names[] = {"script", "foreignobject", "iframe",  "embed",
	                                    "object", "handler",       "listener"};
	for (const char *p = strchr(low, '<'); p; p = strchr(p + 1, '<')) {
		size_t n = strcspn(p + 1, " \t\r\n/>");
		const char *name = p + 1, *colon = memchr(name, ':', n);
		if (colon) {
			n -= (size_t)(colon + 1 - name);
			name = colon + 1;
		}
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (n == strlen(names[i]) && !strncmp(name, names[i], n))
				return names[i];
	}
	return NULL;
}

/* A CSS url() that leaves the document: only url(#id) is allowed. */
static int external_url(const char *low)
{
	for (const char *p = strstr(low, "url("); p; p = strstr(p + 4, "url(")) {
		const char *q = p + 4;
		while (isspace((unsigned char)*q) || *q == '"' || *q == '\'')
			q++;
		if (*q != '#')
			return 1;
	}
	return 0;
}

/* Bytes a text SVG has no business holding: NUL, C0 controls (an ESC shifts ISO-2022 states). */
static int control_bytes(const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];
		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
			return 1;
	}
	return 0;
}

/* Only UTF-8 (or its ASCII subset): another encoding can hide a tag from the checks. */
static int foreign_encoding(const char *low)
{
	const char *p = strstr(low, "encoding");
	if (!p || !strstr(low, "<?xml") || p > strstr(low, "?>"))
		return 0;
	p += 8;
	while (isspace((unsigned char)*p) || *p == '=' || *p == '"' || *p == '\'')
		p++;
	return strncmp(p, "utf-8", 5) && strncmp(p, "us-ascii", 8);
}

static int check_svg(const char *data, size_t len, struct err *e)
{
	if (control_bytes(data, len))
		return err_set(e, ERR_INVAL, "not an svg: control or binary bytes");
	/* Lowercase copy: every check below is case-insensitive, as browsers are. */
	char *low = xmalloc(len + 1);
	for (size_t i = 0; i < len; i++)
		low[i] = (char)tolower((unsigned char)data[i]);
	low[len] = '\0';
	/*
	 * Substrings, case-insensitively: script URLs, entity declarations,
	 * imports, XHTML (a namespace that runs scripts), character references
	 * (&#106;avascript: spells a URL past the checks), and animations of
	 * href (<set attributeName="href" to=…>).
	 */
	static const char *const banned[] = {
	    "javascript:",
	    "vbscript:",
	    "data:text/html",
	    "<!entity",
	    "@import",
	    "xhtml",
	    "&#",
	    "<!doctype",
	    "attributename=\"href",
	    "attributename=\"xlink:href",
	    "attributename='href",
	    "attributename='xlink:href",
	};
	int rc = 0;
	const char *root = svg_prolog_end(low, e);
	if (!root) {
		rc = e ? e->code : ERR_INVAL;
		goto out;
	}
	if (strncmp(root, "<svg", 4) ||
	    !(isspace((unsigned char)root[4]) || root[4] == '>' || root[4] == '/')) {
		rc = err_set(e, ERR_INVAL, "not an svg: the root element is not <svg>");
		goto out;
	}
	const char *element = banned_element(low);
	if (element) {
		rc = err_set(e, ERR_INVAL, "svg contains '<%s'", element);
		goto out;
	}
	if (foreign_encoding(low)) {
		rc = err_set(e, ERR_INVAL, "svg in an encoding other than UTF-8");
		goto out;
	}
	for (size_t i = 0; i < sizeof(banned) / sizeof(banned[0]); i++)
		if (strstr(root, banned[i])) {
			rc = err_set(e, ERR_INVAL, "svg contains '%s'", banned[i]);
			goto out;
		}
	if (external_url(low)) {
		rc = err_set(e, ERR_INVAL, "svg refers to something outside itself (url())");
		goto out;
	}
	for (const char *p = strstr(low, "on"); p; p = strstr(p + 2, "on"))
		if (is_handler_at(low, p)) {
			rc = err_set(e, ERR_INVAL, "svg has an event handler attribute");
			goto out;
		}
	if (external_href(low))
		rc = err_set(e, ERR_INVAL, "svg refers to something outside itself (href)");
out:
	free(low);
	return rc;
}

int store_icon_check(const void *data, size_t len, enum store_icon_kind *kind, struct err *e)
{
	const unsigned char *b = data;
	enum store_icon_kind k;
	if (len > STORE_ICON_MAX_BYTES)
		return err_set(e, ERR_TOOBIG, "icon is larger than %d bytes", STORE_ICON_MAX_BYTES);
	if (len >= 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8))
		k = STORE_ICON_KIND_PNG;
	else if (len >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WEBP", 4))
		k = STORE_ICON_KIND_WEBP;
	else {
		int rc = len ? check_svg(data, len, e) : err_set(e, ERR_INVAL, "icon is empty");
		if (rc)
			return rc;
		k = STORE_ICON_KIND_SVG;
	}
	if (kind)
		*kind = k;
	return 0;
}

/* --- failures (live state) ------------------------------------------------ */

static void fail_key(struct buf *k, const char *name)
{
	buf_adds(k, FAIL_PREFIX);
	buf_adds(k, name);
}

int store_icon_fail_put(struct store_txn *t, const char *name, int64_t at, const char *why,
                        struct err *e)
{
	if (!store_icon_name_ok(name))
		return err_set(e, ERR_INVAL, "bad icon name");
	struct buf k, v;
	buf_init(&k, 0);
	buf_init(&v, 0);
	fail_key(&k, name);
	buf_addf(&v, "%lld ", (long long)at);
	buf_add(&v, why ? why : "", why ? strnlen(why, 400) : 0);
	int rc = store_live_put(t, k.data, k.len, v.data, v.len, e);
	buf_release(&k);
	buf_release(&v);
	return rc;
}

int store_icon_fail_get(struct store_txn *t, const char *name, int64_t *at, char **why,
                        struct err *e)
{
	if (!store_icon_name_ok(name))
		return err_set(e, ERR_NOTFOUND, "no such icon");
	struct buf k, v;
	buf_init(&k, 0);
	buf_init(&v, 4096);
	fail_key(&k, name);
	int rc = store_live_get(t, k.data, k.len, &v, e);
	if (!rc) {
		char *end;
		long long when = strtoll(v.data, &end, 10);
		if (end == v.data || *end != ' ') {
			rc = err_set(e, ERR_STORE, "malformed icon failure for '%s'", name);
		} else {
			*at = when;
			if (why)
				*why = xstrdup(end + 1);
		}
	}
	buf_release(&k);
	buf_release(&v);
	return rc;
}

int store_icon_fail_del(struct store_txn *t, const char *name, struct err *e)
{
	if (!store_icon_name_ok(name))
		return 0;
	struct buf k;
	buf_init(&k, 0);
	fail_key(&k, name);
	int rc = store_live_del(t, k.data, k.len, e);
	buf_release(&k);
	return rc == ERR_NOTFOUND ? 0 : rc;
}
