/*
 * A register body (untrusted, straight from the network) through the
 * validator, then what the store does with a valid one, without LMDB:
 * merge into a fresh record, register the same body again (unchanged),
 * and round-trip the record through its LMDB encoding and its YAML file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../common/buf.h"
#include "../../common/err.h"
#include "../../store/merge.h"
#include "../../store/payload.h"
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

/* Encode, decode, compare; the second encoding must be the same bytes. */
static void check_encoding(const struct store_record *r)
{
	struct buf a, b;
	struct store_record q;
	struct err e = {0};
	buf_init(&a, 0);
	buf_init(&b, 0);
	store_record_encode(r, &a);
	CHECK(!store_record_decode(&q, a.data, a.len, &e));
	CHECK(q.id == r->id);
	CHECK(store_record_equal(r, &q, STORE_FIELD_INVENTORY | STORE_FIELD_LIVE));
	CHECK(q.last_api_update == r->last_api_update && q.last_updated == r->last_updated);
	store_record_encode(&q, &b);
	CHECK(a.len == b.len && !memcmp(a.data, b.data, a.len));
	store_record_release(&q);
	buf_release(&a);
	buf_release(&b);
}

/* A merged record is what the mirror writes: yaml.h's invariant must hold. */
static void check_yaml(const struct store_record *r)
{
	struct buf a, b;
	struct store_record q;
	struct err e = {0};
	buf_init(&a, 0);
	buf_init(&b, 0);
	CHECK(!store_yaml_emit_record(r, &a));
	if (store_yaml_parse_record(&q, a.data, a.len, "fuzz.yml", &e)) {
		fprintf(stderr, "emitted YAML does not read back: %s\n%s", e.msg, a.data);
		abort();
	}
	CHECK(q.id == r->id && store_record_equal(r, &q, STORE_FIELD_INVENTORY));
	CHECK(!store_yaml_emit_record(&q, &b));
	CHECK(a.len == b.len && !memcmp(a.data, b.data, a.len));
	store_record_release(&q);
	buf_release(&a);
	buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static json_t *exposure;
	struct store_payload p;
	struct store_verr v;
	struct store_record rec;

	/* Both layers the seeds use are mapped, so the synthesizer writes URLs. */
	if (!exposure)
		exposure =
		    json_pack("{s:{s:s,s:s},s:{s:{s:s}}}", "layers", "traefik", "external",
		              "dockflare", "internal", "hosts", "docker01", "traefik", "internal");
	/* Exactly what daemon/api.c does with a body. */
	json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(body)) {
		json_decref(body);
		return 0;
	}
	store_verr_init(&v);
	int rc = store_payload_from_json(&p, body, &v);
	CHECK(!rc == !store_verr_any(&v));
	store_verr_release(&v);
	json_decref(body);
	if (rc)
		return 0;

	struct store_merge_ctx ctx = {exposure, STORE_USER_WINS, 1700000000};
	store_record_init(&rec);
	rec.id = 1;
	CHECK(store_merge_register(&rec, 0, &p, &ctx) == STORE_MERGE_CREATED);
	CHECK(rec.host && rec.container_name);
	ctx.now++;
	CHECK(store_merge_register(&rec, 1, &p, &ctx) == STORE_MERGE_UNCHANGED);
	check_encoding(&rec);
	check_yaml(&rec);
	store_record_release(&rec);
	store_payload_release(&p);
	return 0;
}
