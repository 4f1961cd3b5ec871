#include "validate.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/buf.h"
#include "../common/xalloc.h"
#include "../common/banned.h"

void store_verr_init(struct store_verr *v)
{
	v->details = NULL;
	v->unknown_keys = NULL;
}

void store_verr_release(struct store_verr *v)
{
	json_decref(v->details);
	json_decref(v->unknown_keys);
	store_verr_init(v);
}

int store_verr_any(const struct store_verr *v)
{
	return v->details && json_array_size(v->details) > 0;
}

void store_verr_add(struct store_verr *v, const json_t *loc, const char *type, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!v->details)
		v->details = json_array();
	json_t *l = loc ? json_deep_copy(loc) : json_array();
	json_array_append_new(v->details,
	                      json_pack("{s:o,s:s,s:s}", "loc", l, "type", type, "msg", msg));
}

void store_verr_unknown(struct store_verr *v, const json_t *loc)
{
	char *dotted = store_loc_dotted(loc);
	if (!v->unknown_keys)
		v->unknown_keys = json_array();
	json_array_append_new(v->unknown_keys, json_string(dotted));
	store_verr_add(v, loc, "extra_forbidden", "unknown key '%s'", dotted);
	free(dotted);
}

char *store_loc_dotted(const json_t *loc)
{
	struct buf b;
	buf_init(&b, 0);
	size_t i;
	json_t *el;
	json_array_foreach (loc, i, el) {
		if (json_is_integer(el))
			buf_addf(&b, "[%lld]", (long long)json_integer_value(el));
		else
			buf_addf(&b, "%s%s", b.len ? "." : "", json_string_value(el));
	}
	return buf_detach(&b, NULL);
}

json_t *store_loc_key(const json_t *loc, const char *key)
{
	json_t *l = loc ? json_copy((json_t *)loc) : json_array();
	json_array_append_new(l, json_string(key));
	return l;
}

json_t *store_loc_index(const json_t *loc, size_t index)
{
	json_t *l = loc ? json_copy((json_t *)loc) : json_array();
	json_array_append_new(l, json_integer((json_int_t)index));
	return l;
}

int store_coerce_bool(const json_t *v, int *out)
{
	static const char *const truthy[] = {"true", "yes", "on", "1", "t", "y"};
	static const char *const falsy[] = {"false", "no", "off", "0", "f", "n"};
	if (json_is_boolean(v)) {
		*out = json_is_true(v);
		return 0;
	}
	if (json_is_integer(v) || json_is_real(v)) {
		double d = json_number_value(v);
		if (d == 0 || d == 1) {
			*out = d == 1;
			return 0;
		}
		return -1;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		for (size_t i = 0; i < sizeof(truthy) / sizeof(*truthy); i++) {
			if (!strcasecmp(s, truthy[i])) {
				*out = 1;
				return 0;
			}
			if (!strcasecmp(s, falsy[i])) {
				*out = 0;
				return 0;
			}
		}
	}
	return -1;
}

int store_coerce_int(const json_t *v, int64_t *out)
{
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (json_is_real(v)) {
		double d = json_real_value(v);
		if (isfinite(d) && d == floor(d) && fabs(d) < 9.0e15) {
			*out = (int64_t)d;
			return 0;
		}
		return -1;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			return -1;
		char *end;
		errno = 0;
		long long n = strtoll(s, &end, 10);
		while (isspace((unsigned char)*end))
			end++;
		if (errno || *end)
			return -1;
		*out = n;
		return 0;
	}
	return -1;
}

int store_check_string(const json_t *v, size_t min_len, size_t max, const json_t *loc,
                       struct store_verr *verr)
{
	if (!json_is_string(v)) {
		store_verr_add(verr, loc, "string_type", "Input should be a valid string");
		return -1;
	}
	size_t len = json_string_length(v);
	if (len < min_len) {
		store_verr_add(verr, loc, "string_too_short", "String should not be empty");
		return -1;
	}
	if (len > max) {
		store_verr_add(verr, loc, "string_too_long", "String should have at most %zu bytes",
		               max);
		return -1;
	}
	if (strlen(json_string_value(v)) != len) {
		store_verr_add(verr, loc, "string_type", "String must not contain NUL bytes");
		return -1;
	}
	return 0;
}

int store_url_is_http(const char *s)
{
	size_t skip;
	if (!strncasecmp(s, "http://", 7))
		skip = 7;
	else if (!strncasecmp(s, "https://", 8))
		skip = 8;
	else
		return 0;
	const char *host = s + skip;
	if (!*host || *host == '/' || *host == '?' || *host == '#')
		return 0;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return 0;
	return 1;
}
