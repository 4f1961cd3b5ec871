#include "naming.h"

#include <sodium.h>

#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"
#include "../common/xalloc.h"
#include "../common/banned.h"

#define PREFIX     "services/"
#define SUFFIX     ".yml"
#define EMPTY_NAME "%00"

static const char hex[] = "0123456789ABCDEF";

/* Whether byte c at position pos is written as itself. */
static int kept(unsigned char c, size_t pos)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return 1;
	if (c == '_' || c == '-')
		return 1;
	return c == '.' && pos > 0;
}

char *store_naming_encode(const char *s)
{
	if (!*s)
		return xstrdup(EMPTY_NAME);
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (kept(c, i)) {
			buf_addc(&b, (char)c);
		} else {
			char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
			buf_add(&b, esc, sizeof(esc));
		}
	}
	return buf_detach(&b, NULL);
}

static int hex_value(char c)
{
	const char *p = c ? strchr(hex, c) : NULL;
	return p ? (int)(p - hex) : -1;
}

int store_naming_decode(const char *enc, char **out)
{
	if (!strcmp(enc, EMPTY_NAME)) {
		*out = xstrdup("");
		return 0;
	}
	if (!*enc)
		return -1;
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; enc[i];) {
		unsigned char c = (unsigned char)enc[i];
		if (c != '%') {
			if (!kept(c, b.len))
				goto bad;
			buf_addc(&b, (char)c);
			i++;
			continue;
		}
		int hi = hex_value(enc[i + 1]);
		int lo = hi < 0 ? -1 : hex_value(enc[i + 2]);
		unsigned char d = (unsigned char)(hi * 16 + lo);
		/* Only the escapes encode() writes: no NUL, nothing it keeps. */
		if (lo < 0 || d == 0 || kept(d, b.len))
			goto bad;
		buf_addc(&b, (char)d);
		i += 3;
	}
	*out = buf_detach(&b, NULL);
	return 0;
bad:
	buf_release(&b);
	return -1;
}

/*
 * A component too long for the file system keeps a readable prefix of its
 * encoding and ends in "~" plus 32 hex digits of a hash of the whole name.
 * enc() never writes '~', so a shortened name cannot meet a plain one, and
 * two long names collide only if their 128-bit hashes do.
 */
static char *fit_component(char *enc, const char *raw, size_t suffix_len)
{
	if (strlen(enc) + suffix_len <= STORE_NAMING_MAX_COMPONENT)
		return enc;
	unsigned char hash[16];
	crypto_generichash(hash, sizeof(hash), (const unsigned char *)raw, strlen(raw), NULL, 0);
	size_t keep = STORE_NAMING_MAX_COMPONENT - suffix_len - 1 - 2 * sizeof(hash);
	/* Do not cut a %XX escape in half. */
	if (keep >= 1 && enc[keep - 1] == '%')
		keep -= 1;
	else if (keep >= 2 && enc[keep - 2] == '%')
		keep -= 2;
	char digest[2 * sizeof(hash) + 1];
	sodium_bin2hex(digest, sizeof(digest), hash, sizeof(hash));
	char *out = xasprintf("%.*s~%s", (int)keep, enc, digest);
	free(enc);
	return out;
}

char *store_naming_service_path(const char *host, const char *container_name)
{
	char *h = fit_component(store_naming_encode(host), host, 0);
	char *c =
	    fit_component(store_naming_encode(container_name), container_name, strlen(SUFFIX));
	char *path = xasprintf(PREFIX "%s/%s" SUFFIX, h, c);
	free(h);
	free(c);
	return path;
}

int store_naming_parse_path(const char *path, char **host, char **container_name)
{
	size_t plen = strlen(PREFIX), slen = strlen(SUFFIX);
	if (strncmp(path, PREFIX, plen))
		return -1;
	const char *h = path + plen;
	const char *slash = strchr(h, '/');
	if (!slash || strchr(slash + 1, '/'))
		return -1;
	const char *c = slash + 1;
	size_t clen = strlen(c);
	if (clen <= slen || strcmp(c + clen - slen, SUFFIX))
		return -1;
	char *hs = xstrndup(h, (size_t)(slash - h));
	char *cs = xstrndup(c, clen - slen);
	char *hd = NULL, *cd = NULL;
	int rc = -1;
	if (store_naming_decode(hs, &hd) || store_naming_decode(cs, &cd))
		goto out;
	rc = 0;
	if (host) {
		*host = hd;
		hd = NULL;
	}
	if (container_name) {
		*container_name = cd;
		cd = NULL;
	}
out:
	free(hs);
	free(cs);
	free(hd);
	free(cd);
	return rc;
}
