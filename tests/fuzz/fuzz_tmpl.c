/*
 * A template (site-templates/ are operator-editable) through the parser
 * and the renderer. The input is split at its first NUL bytes into up to
 * four templates, "main", "p1", "p2", "p3" (the last takes the rest), next
 * to two fixed ones ("item", and "self" which recurses over the data), and
 * "main" is rendered against a fixed context. Errors must carry their
 * message, a failed render must leave the output as it was, a render must
 * be repeatable byte for byte, and escaping must leave no special byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../common/buf.h"
#include "../../common/err.h"
#include "../../render/tmpl.h"
#include "fuzz.h"
#include "../../common/banned.h"

/* Say which invariant broke (replay and libFuzzer both show stderr), then crash. */
#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define OUT_MAX (1024 * 1024)
#define PREFIX  "prefix"

static const char context[] =
    "{\"name\": \"a<b>&\\\"c'd`e=f\", \"n\": 42, \"big\": -9007199254740993, \"r\": 1.5, "
    "\"tiny\": 1e-300, \"t\": true, \"f\": false, \"z\": null, \"empty\": \"\", \"zero\": 0, "
    "\"xs\": [1, \"two\", {\"name\": \"x\"}, [3, 4], null, false], \"none\": [], \"obj\": {}, "
    "\"o\": {\"a\": {\"b\": \"deep\", \"c\": [\"c1\", \"c2\"]}}, "
    "\"kids\": [{\"name\": \"k1\", \"kids\": []}, {\"name\": \"k2\", \"kids\": [{\"name\": "
    "\"k3\", \"kids\": []}]}], "
    "\"items\": [{\"name\": \"i1\", \"notes_html\": \"<b>i1</b>\"}, {\"name\": \"i2\"}], "
    "\"notes_html\": \"<p>ok</p>\", \"a-b_1\": \"dash\", \"utf\": \"\\u00e9\\u65e5\\u0000x\"}";

static const char *const names[] = {"main", "p1", "p2", "p3"};

static void check_escape(const uint8_t *data, size_t size)
{
	struct buf b;
	buf_init(&b, 0);
	CHECK(!tmpl_escape_html(&b, (const char *)data, size));
	CHECK(b.len >= size);
	for (size_t i = 0; i < b.len; i++)
		CHECK(!memchr("<>\"'`=", b.data[i], 6));
	buf_release(&b);
}

/* Add the NUL-separated templates of data; 0 if all parsed. */
static int add_parts(struct tmpl_set *s, const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	struct err e = {0};
	for (size_t i = 0; i < sizeof(names) / sizeof(*names) && p <= end; i++) {
		const char *nul = i + 1 < sizeof(names) / sizeof(*names)
		                      ? memchr(p, '\0', (size_t)(end - p))
		                      : NULL;
		size_t len = nul ? (size_t)(nul - p) : (size_t)(end - p);
		int rc = tmpl_set_add_string(s, names[i], p, len, &e);
		if (rc) {
			size_t n = strlen(names[i]);
			CHECK(rc == ERR_INVAL && e.code == ERR_INVAL);
			CHECK(!strncmp(e.msg, names[i], n) && !strncmp(e.msg + n, ".html:", 6));
			CHECK(!tmpl_set_has(s, names[i]));
			return rc;
		}
		CHECK(tmpl_set_has(s, names[i]));
		if (!nul)
			break;
		p = nul + 1;
	}
	return 0;
}

static void check_render(const struct tmpl_set *s, const json_t *ctx)
{
	struct err e = {0};
	struct buf a, b;
	buf_init(&a, OUT_MAX);
	buf_init(&b, OUT_MAX);
	CHECK(!buf_adds(&a, PREFIX));
	int rc = tmpl_render(s, "main", ctx, &a, &e);
	if (rc) {
		CHECK(rc == ERR_INVAL || rc == ERR_TOOBIG);
		CHECK(e.code == rc && e.msg[0]);
		CHECK(a.len == strlen(PREFIX) && !strcmp(a.data, PREFIX));
	} else {
		CHECK(!buf_adds(&b, PREFIX));
		CHECK(!tmpl_render(s, "main", ctx, &b, &e));
		CHECK(a.len == b.len && !memcmp(a.data, b.data, a.len));
	}
	buf_release(&a);
	buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tmpl_set *s = tmpl_set_new();
	struct err e = {0};
	json_t *ctx = json_loads(context, JSON_ALLOW_NUL, NULL);
	CHECK(ctx);
	check_escape(data, size);
	CHECK(!tmpl_set_add_string(s, "item", "<li>{{name}}</li>\n", 18, &e));
	CHECK(!tmpl_set_add_string(s, "self", "{{name}}({{#kids}}{{> self}}{{/kids}})", 38, &e));
	if (!add_parts(s, data, size)) {
		int rc = tmpl_set_finish(s, &e);
		if (rc)
			CHECK(rc == ERR_INVAL && strstr(e.msg, "unknown partial"));
		else
			check_render(s, ctx);
	}
	tmpl_set_free(s);
	json_decref(ctx);
	return 0;
}
