/*
 * A multipart/form-data upload (daemon/form.h): the input's first line is
 * the Content-Type header, the rest the body. Whatever parses must have
 * parts with non-empty names whose bytes lie inside the body, and at most
 * FORM_MAX_PARTS of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../common/err.h"
#include "../../common/xalloc.h"
#include "../../daemon/form.h"
#include "fuzz.h"
#include "../../common/banned.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	if (!nl)
		return 0;
	char *type = xstrndup((const char *)data, (size_t)(nl - (const char *)data));
	const char *body = nl + 1;
	size_t len = size - (size_t)(body - (const char *)data);
	struct form_multipart m;
	struct err e = {0};
	if (form_parse_multipart(&m, type, body, len, &e)) {
		CHECK(e.code == ERR_INVAL);
		free(type);
		return 0;
	}
	CHECK(m.n <= FORM_MAX_PARTS);
	size_t total = 0;
	for (size_t i = 0; i < m.n; i++) {
		CHECK(m.v[i].name && m.v[i].name[0]);
		CHECK(m.v[i].data && m.v[i].data[m.v[i].len] == '\0');
		CHECK(form_multipart_get(&m, m.v[i].name) != NULL);
		total += m.v[i].len;
	}
	CHECK(total <= len);
	json_t *fields = NULL;
	if (!form_multipart_fields(&m, &fields, &e))
		CHECK(json_is_object(fields));
	json_decref(fields);
	form_multipart_release(&m);
	free(type);
	return 0;
}
