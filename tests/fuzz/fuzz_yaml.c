/*
 * A YAML file from the inventory repository (anyone with push access
 * writes them) through both readers: as a service file, and as generic
 * JSON (groups.yml, exposure.yml). Whatever parses must survive a write
 * and a re-read unchanged, and the second write must give the same bytes
 * (the invariants yaml.h states).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../common/buf.h"
#include "../../common/err.h"
#include "../../store/record.h"
#include "../../store/yaml.h"
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

static void check_record(const char *data, size_t size)
{
	struct store_record r, q;
	struct err e = {0};
	struct buf a, b;
	if (store_yaml_parse_record(&r, data, size, "fuzz.yml", &e)) {
		CHECK(e.code == ERR_INVAL && e.msg[0]);
		return;
	}
	buf_init(&a, 0);
	buf_init(&b, 0);
	CHECK(!store_yaml_emit_record(&r, &a));
	if (store_yaml_parse_record(&q, a.data, a.len, "fuzz.yml", &e)) {
		fprintf(stderr, "emitted YAML does not read back: %s\n%s", e.msg, a.data);
		abort();
	}
	CHECK(q.id == r.id && store_record_equal(&r, &q, STORE_FIELD_INVENTORY));
	CHECK(!store_yaml_emit_record(&q, &b));
	CHECK(a.len == b.len && !memcmp(a.data, b.data, a.len));
	store_record_release(&r);
	store_record_release(&q);
	buf_release(&a);
	buf_release(&b);
}

static void check_json(const char *data, size_t size)
{
	json_t *v = NULL, *w = NULL;
	struct err e = {0};
	struct buf a, b;
	if (store_yaml_parse_json(&v, data, size, "fuzz.yml", &e)) {
		CHECK(e.code == ERR_INVAL && e.msg[0]);
		return;
	}
	buf_init(&a, 0);
	buf_init(&b, 0);
	CHECK(!store_yaml_emit_json(v, &a));
	CHECK(!store_yaml_parse_json(&w, a.data, a.len, "fuzz.yml", &e));
	CHECK(json_equal(v, w));
	CHECK(!store_yaml_emit_json(w, &b));
	CHECK(a.len == b.len && !memcmp(a.data, b.data, a.len));
	json_decref(v);
	json_decref(w);
	buf_release(&a);
	buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_record((const char *)data, size);
	check_json((const char *)data, size);
	return 0;
}
