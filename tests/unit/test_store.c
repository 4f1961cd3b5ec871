/*
 * The LMDB store (db.h) and its write functions (ops.h) on a real
 * environment in a temporary directory: records, the identity index, ids,
 * the journal and its cursors, schema versions, the record encoding, and
 * the journal entries each kind of change appends.
 * Run one case: ./test_store.t <name-glob>.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>
#include <lmdb.h>

#include "../../common/buf.h"
#include "../../common/err.h"
#include "../../common/fileio.h"
#include "../../store/db.h"
#include "../../store/merge.h"
#include "../../store/ops.h"
#include "../../store/payload.h"
#include "../../store/record.h"
#include "../../store/validate.h"

#define T0 1700000000
#define T1 1700000100
#define T2 1700000200

#define ID "'host':'docker01','container_name':'nginx'"

struct entries {
	size_t n;
	struct store_journal_entry en[32];
	int stop_after; /* callback returns 1 after this many (0 = never) */
};

struct fx {
	char tmp[64];
	char dir[128];
	struct store_db *db;
	struct store_txn *t; /* open write txn, aborted by teardown if left */
	struct err e;
	struct entries es; /* journal entries read by the test */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->tmp, sizeof(f->tmp), "/tmp/portolan-test-store-XXXXXX");
	if (!mkdtemp(f->tmp))
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/config/services.lmdb", f->tmp);
	if (store_db_open(&f->db, f->dir, &f->e))
		return -1;
	*state = f;
	return 0;
}

static void entries_release(struct entries *es);

static int teardown(void **state)
{
	struct fx *f = *state;
	entries_release(&f->es);
	store_txn_abort(f->t);
	store_db_close(f->db);
	fileio_remove_tree(f->tmp, NULL);
	free(f);
	return 0;
}

/* JSON text with ' for ", parsed; new reference. */
static json_t *q(const char *text)
{
	char *s = strdup(text);
	for (char *c = s; *c; c++)
		if (*c == '\'')
			*c = '"';
	json_error_t je;
	json_t *j = json_loads(s, JSON_DECODE_ANY, &je);
	if (!j)
		fail_msg("bad JSON in test: %s: %s", s, je.text);
	free(s);
	return j;
}

static void begin(struct fx *f, int write)
{
	assert_null(f->t);
	if (store_txn_begin(f->db, write, &f->t, &f->e))
		fail_msg("begin: %s", f->e.msg);
}

static void commit(struct fx *f)
{
	struct store_txn *t = f->t;
	f->t = NULL;
	if (store_txn_commit(t, &f->e))
		fail_msg("commit: %s", f->e.msg);
}

static void abort_txn(struct fx *f)
{
	store_txn_abort(f->t);
	f->t = NULL;
}

#define OK(f, call)                                                                                \
	do {                                                                                       \
		int rc_ = (call);                                                                  \
		if (rc_)                                                                           \
			fail_msg("%s: %d %s", #call, rc_, (f)->e.msg);                             \
	} while (0)

#define assert_str(got, want)                                                                      \
	do {                                                                                       \
		const char *g_ = (got), *w_ = (want);                                              \
		if (!w_)                                                                           \
			assert_null(g_);                                                           \
		else if (!g_)                                                                      \
			fail_msg("%s is NULL, want '%s'", #got, w_);                               \
		else                                                                               \
			assert_string_equal(g_, w_);                                               \
	} while (0)

/* A record with every field set. */
static void full_record(struct store_record *r, uint64_t id, const char *host, const char *name)
{
	store_record_init(r);
	r->id = id;
	r->host = strdup(host);
	r->container_name = strdup(name);
	r->stack_name = strdup("web");
	r->image_registry = strdup("ghcr.io");
	r->image_owner = strdup("a/b");
	r->image_name = strdup("nginx");
	r->image_tag = strdup("1.27.3");
	r->image_digest =
	    strdup("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	r->image_icon = strdup("nginx");
	r->image_icon_source = STORE_ICON_NOTIFIER;
	r->group_name = strdup("Web");
	r->sort_priority.set = 1;
	r->sort_priority.value = -5;
	r->internalurl = strdup("http://nginx.lan/");
	r->internalurl_source = STORE_SRC_SYNTHESIZED;
	r->externalurl = strdup("https://nginx.example/");
	r->externalurl_source = STORE_SRC_UI_EDIT;
	r->internal_health_check_enabled = 1;
	r->external_health_check_enabled = 1;
	r->is_static = 1;
	r->notes = strdup("# Notes\n\nline two\n");
	r->networks = strdup("[{\"name\":\"proxy\",\"aliases\":[\"web\"]}]");
	r->exposed_ports = strdup("[\"80/tcp\"]");
	r->published_ports = strdup(
	    "[{\"container_port\":80,\"protocol\":\"tcp\",\"host_ip\":\"\",\"host_port\":8080}]");
	r->exposure_observations = strdup("[{\"layer\":\"traefik\",\"hostname\":\"nginx.lan\","
	                                  "\"tls\":false,\"path_prefix\":null,\"auth\":null,"
	                                  "\"details\":null}]");
	r->notifier_reported_group_name = strdup("Reported");
	r->notifier_reported_sort_priority.set = 1;
	r->notifier_reported_sort_priority.value = 1LL << 40;
	r->container_id = strdup("0123abcd");
	r->docker_status = strdup("running");
	r->started_at = strdup("2025-01-02T03:04:05Z");
	r->last_api_update = T0;
	r->last_updated = T1;
}

/* A minimal record. */
static void small_record(struct store_record *r, uint64_t id, const char *host, const char *name)
{
	store_record_init(r);
	r->id = id;
	r->host = strdup(host);
	r->container_name = strdup(name);
}

static void put_record(struct fx *f, uint64_t id, const char *host, const char *name)
{
	struct store_record r;
	small_record(&r, id, host, name);
	int rc = store_db_put(f->t, &r, &f->e);
	store_record_release(&r);
	if (rc)
		fail_msg("put: %s", f->e.msg);
}

/* ------------------------------------------------------------------ */
/* Journal collection                                                  */
/* ------------------------------------------------------------------ */

static int collect(const struct store_journal_entry *en, void *arg)
{
	struct entries *es = arg;
	assert_true(es->n < 32);
	struct store_journal_entry *c = &es->en[es->n++];
	*c = *en;
	c->path_before = en->path_before ? strdup(en->path_before) : NULL;
	c->author = en->author ? strdup(en->author) : NULL;
	c->message = en->message ? strdup(en->message) : NULL;
	return es->stop_after && es->n == (size_t)es->stop_after ? 1 : 0;
}

static void entries_release(struct entries *es)
{
	for (size_t i = 0; i < es->n; i++)
		store_journal_entry_release(&es->en[i]);
	es->n = 0;
}

/* Every journal entry with seq > after, in a read txn of its own. */
static void read_journal(struct fx *f, uint64_t after, struct entries *es)
{
	entries_release(es);
	memset(es, 0, sizeof(*es));
	begin(f, 0);
	OK(f, store_journal_read(f->t, after, 1000, collect, es, &f->e));
	abort_txn(f);
}

static uint64_t journal_last(struct fx *f)
{
	begin(f, 0);
	uint64_t last = store_journal_last(f->t);
	abort_txn(f);
	return last;
}

static void append(struct fx *f, int kind, const char *message)
{
	struct store_journal_entry en = {0};
	en.kind = kind;
	en.flags = STORE_JOURNAL_INVENTORY;
	en.id = 1;
	en.author = (char *)"tester";
	en.message = (char *)message;
	OK(f, store_journal_append(f->t, &en, &f->e));
}

/* ------------------------------------------------------------------ */
/* Opening and schema versions                                         */
/* ------------------------------------------------------------------ */

static void open_creates_store(void **state)
{
	struct fx *f = *state;
	char path[256];
	struct stat st;
	snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_string_equal(store_db_dir(f->db), f->dir);
	begin(f, 0);
	assert_int_equal(store_db_count(f->t), 0);
	assert_int_equal(store_journal_last(f->t), 0);
	abort_txn(f);
}

static void reopen_keeps_records(void **state)
{
	struct fx *f = *state;
	begin(f, 1);
	put_record(f, 1, "docker01", "nginx");
	commit(f);
	store_db_close(f->db);
	f->db = NULL;
	OK(f, store_db_open(&f->db, f->dir, &f->e));
	begin(f, 0);
	uint64_t id = 0;
	OK(f, store_db_find(f->t, "docker01", "nginx", &id, &f->e));
	abort_txn(f);
	assert_int_equal(id, 1);
}

/* Write meta "schema_version" with liblmdb directly, as a newer portolan would. */
static void write_schema_version(const char *dir, uint64_t version)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	unsigned char b[8];
	for (int i = 7; i >= 0; i--, version >>= 8)
		b[i] = (unsigned char)(version & 0xff);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_set_mapsize(env, (size_t)4 << 30), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	MDB_val k = {strlen("schema_version"), (void *)"schema_version"}, v = {8, b};
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static uint64_t read_schema_version(const char *dir)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_set_mapsize(env, (size_t)4 << 30), 0);
	assert_int_equal(mdb_env_open(env, dir, MDB_RDONLY, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	MDB_val k = {strlen("schema_version"), (void *)"schema_version"}, v;
	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	assert_int_equal(v.mv_size, 8);
	uint64_t version = 0;
	for (int i = 0; i < 8; i++)
		version = version << 8 | ((const unsigned char *)v.mv_data)[i];
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return version;
}

static void open_records_current_schema_version(void **state)
{
	struct fx *f = *state;
	store_db_close(f->db);
	f->db = NULL;
	assert_int_equal(read_schema_version(f->dir), STORE_SCHEMA_VERSION);
}

static void open_refuses_newer_schema_version(void **state)
{
	struct fx *f = *state;
	store_db_close(f->db);
	f->db = NULL;
	write_schema_version(f->dir, STORE_SCHEMA_VERSION + 1);
	struct store_db *db = (struct store_db *)(uintptr_t)0x1;
	struct err e;
	err_clear(&e);
	int rc = store_db_open(&db, f->dir, &e);
	if (!rc)
		f->db = db;
	assert_int_equal(rc, ERR_VERSION);
	assert_ptr_equal(db, (struct store_db *)(uintptr_t)0x1);
	char want[64];
	snprintf(want, sizeof(want), "schema version %d", STORE_SCHEMA_VERSION + 1);
	if (!strstr(e.msg, want))
		fail_msg("message '%s' does not name '%s'", e.msg, want);
}

static void open_accepts_current_schema_version(void **state)
{
	struct fx *f = *state;
	store_db_close(f->db);
	f->db = NULL;
	write_schema_version(f->dir, STORE_SCHEMA_VERSION);
	OK(f, store_db_open(&f->db, f->dir, &f->e));
}

/* ------------------------------------------------------------------ */
/* Records                                                             */
/* ------------------------------------------------------------------ */

static void put_get_round_trips_full_record(void **state)
{
	struct fx *f = *state;
	struct store_record r, got;
	full_record(&r, 42, "docker01", "nginx");
	begin(f, 1);
	int rc = store_db_put(f->t, &r, &f->e);
	if (!rc)
		commit(f);
	begin(f, 0);
	store_record_init(&got);
	int rc2 = rc ? rc : store_db_get(f->t, 42, &got, &f->e);
	abort_txn(f);
	int equal = !rc2 && store_record_equal(&r, &got, STORE_FIELD_INVENTORY | STORE_FIELD_LIVE);
	store_record_release(&r);
	store_record_release(&got);
	assert_int_equal(rc, 0);
	assert_int_equal(rc2, 0);
	assert_true(equal);
}

static void find_returns_id_by_identity(void **state)
{
	struct fx *f = *state;
	begin(f, 1);
	put_record(f, 3, "docker01", "nginx");
	put_record(f, 4, "docker02", "nginx");
	uint64_t a = 0, b = 0;
	OK(f, store_db_find(f->t, "docker01", "nginx", &a, &f->e));
	OK(f, store_db_find(f->t, "docker02", "nginx", &b, &f->e));
	assert_int_equal(a, 3);
	assert_int_equal(b, 4);
}

static void identity_is_not_a_prefix_match(void **state)
{
	struct fx *f = *state;
	/* "a" + "bc" and "ab" + "c" must be different identities. */
	begin(f, 1);
	put_record(f, 1, "a", "bc");
	uint64_t id;
	assert_int_equal(store_db_find(f->t, "ab", "c", &id, NULL), ERR_NOTFOUND);
	put_record(f, 2, "ab", "c");
	OK(f, store_db_find(f->t, "a", "bc", &id, &f->e));
	assert_int_equal(id, 1);
}

static void get_and_find_missing_are_notfound(void **state)
{
	struct fx *f = *state;
	struct store_record r;
	uint64_t id;
	begin(f, 0);
	assert_int_equal(store_db_get(f->t, 99, &r, NULL), ERR_NOTFOUND);
	assert_int_equal(store_db_find(f->t, "h", "c", &id, NULL), ERR_NOTFOUND);
}

static void rename_via_put_updates_index(void **state)
{
	struct fx *f = *state;
	begin(f, 1);
	put_record(f, 5, "docker01", "nginx");
	put_record(f, 5, "docker01", "web");
	commit(f);
	begin(f, 0);
	uint64_t id = 0;
	assert_int_equal(store_db_find(f->t, "docker01", "nginx", &id, NULL), ERR_NOTFOUND);
	OK(f, store_db_find(f->t, "docker01", "web", &id, &f->e));
	assert_int_equal(id, 5);
	assert_int_equal(store_db_count(f->t), 1);
}

static void second_id_with_same_identity_is_exists(void **state)
{
	struct fx *f = *state;
	begin(f, 1);
	put_record(f, 1, "docker01", "nginx");
	struct store_record r;
	small_record(&r, 2, "docker01", "nginx");
	int rc = store_db_put(f->t, &r, &f->e);
	store_record_release(&r);
	assert_int_equal(rc, ERR_EXISTS);
	uint64_t id = 0;
	OK(f, store_db_find(f->t, "docker01", "nginx", &id, &f->e));
	assert_int_equal(id, 1);
	assert_int_equal(store_db_get(f->t, 2, &r, NULL), ERR_NOTFOUND);
}

static void rename_onto_another_identity_is_exists(void **state)
{
	struct fx *f = *state;
	begin(f, 1);
	put_record(f, 1, "docker01", "nginx");
	put_record(f, 2, "docker01", "web");
	struct store_record r;
	small_record(&r, 2, "docker01", "nginx");
	int rc = store_db_put(f->t, &r, &f->e);
	store_record_release(&r);
	assert_int_equal(rc, ERR_EXISTS);
	uint64_t id = 0;
	OK(f, store_db_find(f->t, "docker01", "web", &id, &f->e));
	assert_int_equal(id, 2);
}

static void delete_removes_record_and_index(void **state)
{
	struct fx *f = *state;
	begin(f, 1);
	put_record(f, 1, "docker01", "nginx");
	OK(f, store_db_del(f->t, 1, &f->e));
	commit(f);
	begin(f, 0);
	struct store_record r;
	uint64_t id;
	assert_int_equal(store_db_get(f->t, 1, &r, NULL), ERR_NOTFOUND);
	assert_int_equal(store_db_find(f->t, "docker01", "nginx", &id, NULL), ERR_NOTFOUND);
	assert_int_equal(store_db_count(f->t), 0);
}

static void delete_missing_is_notfound(void **state)
{
	struct fx *f = *state;
	begin(f, 1);
	assert_int_equal(store_db_del(f->t, 77, NULL), ERR_NOTFOUND);
}

static void aborted_txn_writes_nothing(void **state)
{
	struct fx *f = *state;
	begin(f, 1);
	put_record(f, 1, "docker01", "nginx");
	abort_txn(f);
	begin(f, 0);
	assert_int_equal(store_db_count(f->t), 0);
}

static void next_id_is_monotonic(void **state)
{
	struct fx *f = *state;
	uint64_t a, b, c, d;
	begin(f, 1);
	OK(f, store_db_next_id(f->t, &a, &f->e));
	OK(f, store_db_next_id(f->t, &b, &f->e));
	commit(f);
	begin(f, 1);
	OK(f, store_db_next_id(f->t, &c, &f->e));
	abort_txn(f);
	begin(f, 1);
	OK(f, store_db_next_id(f->t, &d, &f->e));
	assert_int_equal(a, 1);
	assert_int_equal(b, 2);
	assert_int_equal(c, 3);
	assert_int_equal(d, 3); /* the aborted allocation was not kept */
}

static void reserve_id_moves_next_id_past_it(void **state)
{
	struct fx *f = *state;
	uint64_t a, b;
	begin(f, 1);
	OK(f, store_db_reserve_id(f->t, 10, &f->e));
	OK(f, store_db_next_id(f->t, &a, &f->e));
	OK(f, store_db_reserve_id(f->t, 3, &f->e));
	OK(f, store_db_next_id(f->t, &b, &f->e));
	assert_int_equal(a, 11);
	assert_int_equal(b, 12);
}

static int count_cb(const struct store_record *r, void *arg)
{
	uint64_t *ids = arg;
	ids[++ids[0]] = r->id;
	return 0;
}

static void foreach_visits_services_in_id_order(void **state)
{
	struct fx *f = *state;
	begin(f, 1);
	put_record(f, 300, "h", "c");
	put_record(f, 2, "h", "a");
	put_record(f, 256, "h", "b");
	uint64_t ids[8] = {0};
	OK(f, store_db_foreach(f->t, count_cb, ids, &f->e));
	assert_int_equal(ids[0], 3);
	assert_int_equal(ids[1], 2);
	assert_int_equal(ids[2], 256);
	assert_int_equal(ids[3], 300);
}

/* ------------------------------------------------------------------ */
/* Record encoding                                                     */
/* ------------------------------------------------------------------ */

static void record_encode_decode_round_trip(void **state)
{
	(void)state;
	struct store_record r, got;
	struct buf b;
	full_record(&r, 9, "docker01", "nginx");
	buf_init(&b, 0);
	store_record_encode(&r, &b);
	int rc = store_record_decode(&got, b.data, b.len, NULL);
	int equal = !rc && store_record_equal(&r, &got, STORE_FIELD_INVENTORY | STORE_FIELD_LIVE);
	if (!rc)
		store_record_release(&got);
	store_record_release(&r);
	buf_release(&b);
	assert_int_equal(rc, 0);
	assert_true(equal);
}

static void record_encoding_keeps_empty_apart_from_null(void **state)
{
	(void)state;
	struct store_record r, got;
	struct buf b;
	small_record(&r, 9, "h", "c");
	r.stack_name = strdup("");
	buf_init(&b, 0);
	store_record_encode(&r, &b);
	int rc = store_record_decode(&got, b.data, b.len, NULL);
	buf_release(&b);
	store_record_release(&r);
	assert_int_equal(rc, 0);
	int ok = got.stack_name && !got.stack_name[0] && !got.group_name;
	store_record_release(&got);
	assert_true(ok);
}

static void check_decode_fails(const void *data, size_t len)
{
	struct store_record got;
	memset(&got, 0x5a, sizeof(got));
	struct err e;
	err_clear(&e);
	assert_int_equal(store_record_decode(&got, data, len, &e), ERR_INVAL);
	assert_int_equal(e.code, ERR_INVAL);
	assert_true(e.msg[0] != '\0');
}

static void record_decode_rejects_truncated(void **state)
{
	(void)state;
	struct store_record r;
	struct buf b;
	full_record(&r, 9, "docker01", "nginx");
	buf_init(&b, 0);
	store_record_encode(&r, &b);
	store_record_release(&r);
	/* Every proper prefix is malformed. */
	for (size_t n = 0; n < b.len; n++)
		check_decode_fails(b.data, n);
	buf_release(&b);
}

static void record_decode_rejects_trailing_bytes(void **state)
{
	(void)state;
	struct store_record r;
	struct buf b;
	small_record(&r, 9, "h", "c");
	buf_init(&b, 0);
	store_record_encode(&r, &b);
	store_record_release(&r);
	buf_addc(&b, 'x');
	check_decode_fails(b.data, b.len);
	buf_release(&b);
}

static void record_decode_rejects_unknown_format(void **state)
{
	(void)state;
	struct store_record r;
	struct buf b;
	small_record(&r, 9, "h", "c");
	buf_init(&b, 0);
	store_record_encode(&r, &b);
	store_record_release(&r);
	b.data[0] = (char)0x7f;
	check_decode_fails(b.data, b.len);
	buf_release(&b);
}

static void record_decode_rejects_oversized_string_length(void **state)
{
	(void)state;
	struct store_record r;
	struct buf b;
	small_record(&r, 9, "h", "c");
	buf_init(&b, 0);
	store_record_encode(&r, &b);
	store_record_release(&r);
	/* The host's length follows the format byte and the id. */
	uint32_t huge = 0x7fffffff;
	memcpy(b.data + 1 + sizeof(uint64_t), &huge, sizeof(huge));
	check_decode_fails(b.data, b.len);
	buf_release(&b);
}

/* ------------------------------------------------------------------ */
/* Journal and cursors                                                 */
/* ------------------------------------------------------------------ */

static void journal_append_numbers_entries(void **state)
{
	struct fx *f = *state;
	struct store_journal_entry en = {0};
	en.kind = STORE_CHANGE_GROUP;
	en.author = (char *)"tester";
	en.message = (char *)"m";
	begin(f, 1);
	OK(f, store_journal_append(f->t, &en, &f->e));
	assert_int_equal(en.seq, 1);
	OK(f, store_journal_append(f->t, &en, &f->e));
	assert_int_equal(en.seq, 2);
	assert_int_equal(store_journal_last(f->t), 2);
	commit(f);
	assert_int_equal(journal_last(f), 2);
}

static void journal_entry_round_trips(void **state)
{
	struct fx *f = *state;
	struct store_journal_entry en = {0};
	en.kind = STORE_CHANGE_EDIT;
	en.flags = STORE_JOURNAL_INVENTORY;
	en.id = 0x0102030405060708ULL;
	en.path_before = (char *)"services/docker01/nginx.yml";
	en.author = (char *)"alice";
	en.message = (char *)"edit docker01/web: container_name nginx -> web";
	begin(f, 1);
	OK(f, store_journal_append(f->t, &en, &f->e));
	en.path_before = NULL;
	en.author = NULL;
	en.kind = STORE_CHANGE_IMPORT;
	en.flags = 0;
	OK(f, store_journal_append(f->t, &en, &f->e));
	commit(f);
	struct entries *es = &f->es;
	read_journal(f, 0, es);
	assert_int_equal(es->n, 2);
	assert_int_equal(es->en[0].seq, 1);
	assert_int_equal(es->en[0].kind, STORE_CHANGE_EDIT);
	assert_int_equal(es->en[0].flags, STORE_JOURNAL_INVENTORY);
	assert_int_equal(es->en[0].id, 0x0102030405060708ULL);
	assert_str(es->en[0].path_before, "services/docker01/nginx.yml");
	assert_str(es->en[0].author, "alice");
	assert_str(es->en[0].message, "edit docker01/web: container_name nginx -> web");
	assert_int_equal(es->en[1].seq, 2);
	assert_int_equal(es->en[1].kind, STORE_CHANGE_IMPORT);
	assert_int_equal(es->en[1].flags, 0);
	assert_null(es->en[1].path_before);
	assert_null(es->en[1].author);
	entries_release(es);
}

static void journal_read_starts_after_cursor(void **state)
{
	struct fx *f = *state;
	begin(f, 1);
	for (int i = 0; i < 5; i++)
		append(f, STORE_CHANGE_GROUP, "m");
	commit(f);
	struct entries *es = &f->es;
	read_journal(f, 2, es);
	assert_int_equal(es->n, 3);
	assert_int_equal(es->en[0].seq, 3);
	assert_int_equal(es->en[2].seq, 5);
	entries_release(es);
	read_journal(f, 5, es);
	assert_int_equal(es->n, 0);
}

static void journal_read_honours_max(void **state)
{
	struct fx *f = *state;
	begin(f, 1);
	for (int i = 0; i < 5; i++)
		append(f, STORE_CHANGE_GROUP, "m");
	commit(f);
	struct entries *es = &f->es;
	memset(es, 0, sizeof(*es));
	begin(f, 0);
	OK(f, store_journal_read(f->t, 1, 2, collect, es, &f->e));
	abort_txn(f);
	assert_int_equal(es->n, 2);
	assert_int_equal(es->en[0].seq, 2);
	assert_int_equal(es->en[1].seq, 3);
	entries_release(es);
}

static void journal_read_stops_when_callback_says_so(void **state)
{
	struct fx *f = *state;
	begin(f, 1);
	for (int i = 0; i < 5; i++)
		append(f, STORE_CHANGE_GROUP, "m");
	commit(f);
	struct entries *es = &f->es;
	memset(es, 0, sizeof(*es));
	es->stop_after = 2;
	begin(f, 0);
	int rc = store_journal_read(f->t, 0, 100, collect, es, &f->e);
	abort_txn(f);
	assert_int_equal(rc, 1);
	assert_int_equal(es->n, 2);
	entries_release(es);
}

static void cursor_defaults_to_zero_and_persists(void **state)
{
	struct fx *f = *state;
	begin(f, 1);
	assert_int_equal(store_cursor_get(f->t, "mirror"), 0);
	OK(f, store_cursor_set(f->t, "mirror", 7, &f->e));
	commit(f);
	begin(f, 0);
	assert_int_equal(store_cursor_get(f->t, "mirror"), 7);
	assert_int_equal(store_cursor_get(f->t, "render"), 0);
}

static void journal_prune_without_consumers_keeps_all(void **state)
{
	struct fx *f = *state;
	begin(f, 1);
	for (int i = 0; i < 3; i++)
		append(f, STORE_CHANGE_GROUP, "m");
	OK(f, store_journal_prune(f->t, &f->e));
	commit(f);
	struct entries *es = &f->es;
	read_journal(f, 0, es);
	assert_int_equal(es->n, 3);
	entries_release(es);
}

static void journal_prune_drops_what_every_consumer_processed(void **state)
{
	struct fx *f = *state;
	begin(f, 1);
	for (int i = 0; i < 6; i++)
		append(f, STORE_CHANGE_GROUP, "m");
	OK(f, store_cursor_set(f->t, "mirror", 4, &f->e));
	OK(f, store_cursor_set(f->t, "render", 2, &f->e));
	OK(f, store_journal_prune(f->t, &f->e));
	commit(f);
	struct entries *es = &f->es;
	read_journal(f, 0, es);
	assert_int_equal(es->n, 4);
	assert_int_equal(es->en[0].seq, 3);
	assert_int_equal(es->en[3].seq, 6);
	entries_release(es);
	assert_int_equal(journal_last(f), 6);
}

static void journal_seq_continues_after_prune(void **state)
{
	struct fx *f = *state;
	begin(f, 1);
	for (int i = 0; i < 3; i++)
		append(f, STORE_CHANGE_GROUP, "m");
	OK(f, store_cursor_set(f->t, "mirror", 3, &f->e));
	OK(f, store_journal_prune(f->t, &f->e));
	commit(f);
	struct entries *es = &f->es;
	read_journal(f, 0, es);
	assert_int_equal(es->n, 0);
	begin(f, 1);
	append(f, STORE_CHANGE_GROUP, "m");
	commit(f);
	read_journal(f, 3, es);
	assert_int_equal(es->n, 1);
	assert_int_equal(es->en[0].seq, 4);
	entries_release(es);
}

/* ------------------------------------------------------------------ */
/* Settings                                                            */
/* ------------------------------------------------------------------ */

static void setting_round_trips(void **state)
{
	struct fx *f = *state;
	json_t *in = q("{'layers':{'traefik':'internal'},'hosts':{}}"), *out = NULL;
	begin(f, 1);
	assert_int_equal(store_setting_get(f->t, "exposure", &out, NULL), ERR_NOTFOUND);
	OK(f, store_setting_put(f->t, "exposure", in, &f->e));
	commit(f);
	begin(f, 0);
	OK(f, store_setting_get(f->t, "exposure", &out, &f->e));
	int equal = json_equal(in, out);
	const json_t *cached = store_db_exposure(f->t);
	int equal_cached = json_equal(in, (json_t *)cached);
	json_decref(in);
	json_decref(out);
	assert_true(equal);
	assert_true(equal_cached);
}

static void exposure_defaults_to_empty_maps(void **state)
{
	struct fx *f = *state;
	begin(f, 0);
	const json_t *x = store_db_exposure(f->t);
	json_t *want = q("{'layers':{},'hosts':{}}");
	int equal = json_equal((json_t *)x, want);
	json_decref(want);
	assert_true(equal);
}

/* ------------------------------------------------------------------ */
/* Write operations and their journal entries                         */
/* ------------------------------------------------------------------ */

/* Register a payload in its own committed txn; returns the status. */
static int ops_reg(struct fx *f, const char *text, int64_t now, struct store_record *out)
{
	struct store_payload p;
	struct store_verr v;
	store_verr_init(&v);
	json_t *body = q(text);
	int rc = store_payload_from_json(&p, body, &v);
	json_decref(body);
	if (rc)
		fail_msg("payload rejected");
	store_verr_release(&v);
	int status = -1;
	begin(f, 1);
	rc = store_ops_register(f->t, &p, STORE_USER_WINS, now, out, &status, &f->e);
	store_payload_release(&p);
	if (rc)
		fail_msg("register: %s", f->e.msg);
	commit(f);
	return status;
}

/* Apply an operator edit in its own committed txn; returns the rc. */
static int ops_edit(struct fx *f, uint64_t id, const char *text, const char *author,
                    struct store_record *out)
{
	struct store_edit ed;
	struct store_verr v;
	store_verr_init(&v);
	json_t *body = q(text);
	int rc = store_edit_from_json(&ed, body, &v);
	json_decref(body);
	if (rc)
		fail_msg("edit rejected");
	store_verr_release(&v);
	begin(f, 1);
	rc = store_ops_edit(f->t, id, &ed, author, T2, out, &f->e);
	store_edit_release(&ed);
	if (rc)
		abort_txn(f);
	else
		commit(f);
	return rc;
}

static void put_exposure(struct fx *f, const char *text)
{
	json_t *x = q(text);
	begin(f, 1);
	int rc = store_ops_exposure_put(f->t, x, "alice", T1, &f->e);
	json_decref(x);
	if (rc)
		fail_msg("exposure: %s", f->e.msg);
	commit(f);
}

static void get_by_identity(struct fx *f, const char *host, const char *name,
                            struct store_record *out)
{
	uint64_t id;
	begin(f, 0);
	OK(f, store_db_find(f->t, host, name, &id, &f->e));
	OK(f, store_db_get(f->t, id, out, &f->e));
	abort_txn(f);
}

static void register_new_journals_created(void **state)
{
	struct fx *f = *state;
	struct store_record out;
	assert_int_equal(ops_reg(f, "{" ID ",'image_name':'nginx:1.27.3'}", T0, &out),
	                 STORE_MERGE_CREATED);
	uint64_t id = out.id;
	store_record_release(&out);
	struct entries *es = &f->es;
	read_journal(f, 0, es);
	assert_int_equal(es->n, 1);
	assert_int_equal(es->en[0].kind, STORE_CHANGE_REGISTER);
	assert_int_equal(es->en[0].flags, STORE_JOURNAL_INVENTORY);
	assert_int_equal(es->en[0].id, id);
	assert_null(es->en[0].path_before);
	assert_str(es->en[0].author, "notifier@docker01");
	assert_str(es->en[0].message, "register docker01/nginx: created");
	entries_release(es);
}

static void register_stores_the_merged_record(void **state)
{
	struct fx *f = *state;
	struct store_record out, got;
	ops_reg(f, "{" ID ",'image_name':'nginx:1.27.3','docker_status':'running'}", T0, &out);
	get_by_identity(f, "docker01", "nginx", &got);
	int equal = store_record_equal(&out, &got, STORE_FIELD_INVENTORY | STORE_FIELD_LIVE);
	store_record_release(&out);
	store_record_release(&got);
	assert_true(equal);
}

static void register_image_change_message(void **state)
{
	struct fx *f = *state;
	ops_reg(f, "{" ID ",'image_name':'nginx:1.27.3','container_id':'a'}", T0, NULL);
	assert_int_equal(
	    ops_reg(f, "{" ID ",'image_name':'nginx:1.27.4','container_id':'b'}", T1, NULL),
	    STORE_MERGE_UPDATED);
	struct entries *es = &f->es;
	read_journal(f, 1, es);
	assert_int_equal(es->n, 1);
	assert_int_equal(es->en[0].kind, STORE_CHANGE_REGISTER);
	assert_int_equal(es->en[0].flags, STORE_JOURNAL_INVENTORY);
	assert_null(es->en[0].path_before);
	assert_str(es->en[0].author, "notifier@docker01");
	assert_str(es->en[0].message, "register docker01/nginx: image 1.27.3 -> 1.27.4");
	entries_release(es);
}

static void register_live_only_change_is_not_an_inventory_change(void **state)
{
	struct fx *f = *state;
	ops_reg(f, "{" ID ",'docker_status':'running'}", T0, NULL);
	assert_int_equal(ops_reg(f, "{" ID ",'docker_status':'exited'}", T1, NULL),
	                 STORE_MERGE_UPDATED);
	struct entries *es = &f->es;
	read_journal(f, 1, es);
	assert_int_equal(es->n, 1);
	assert_int_equal(es->en[0].flags & STORE_JOURNAL_INVENTORY, 0);
	assert_str(es->en[0].message, "register docker01/nginx: live state");
	entries_release(es);
}

static void register_unchanged_appends_no_journal_entry(void **state)
{
	struct fx *f = *state;
	const char *payload = "{" ID ",'image_name':'nginx:1.27.3','docker_status':'running'}";
	ops_reg(f, payload, T0, NULL);
	uint64_t last = journal_last(f);
	assert_int_equal(ops_reg(f, payload, T1, NULL), STORE_MERGE_UNCHANGED);
	assert_int_equal(journal_last(f), last);
	struct store_record got;
	get_by_identity(f, "docker01", "nginx", &got);
	int64_t api = got.last_api_update, upd = got.last_updated;
	store_record_release(&got);
	assert_int_equal(api, T1); /* the heartbeat is still stored */
	assert_int_equal(upd, T0);
}

static void register_static_entry_writes_nothing(void **state)
{
	struct fx *f = *state;
	struct store_record out;
	ops_reg(f, "{" ID ",'docker_status':'running'}", T0, &out);
	uint64_t id = out.id;
	store_record_release(&out);
	assert_int_equal(ops_edit(f, id, "{'is_static':true}", "alice", NULL), 0);
	uint64_t last = journal_last(f);
	assert_int_equal(ops_reg(f, "{" ID ",'docker_status':'exited'}", T2 + 50, NULL),
	                 STORE_MERGE_SKIPPED);
	assert_int_equal(journal_last(f), last);
	struct store_record got;
	get_by_identity(f, "docker01", "nginx", &got);
	int ok = !strcmp(got.docker_status, "running") && got.last_api_update == T0;
	store_record_release(&got);
	assert_true(ok);
}

static void edit_url_sets_ui_edit(void **state)
{
	struct fx *f = *state;
	struct store_record out;
	ops_reg(f, "{" ID ",'internalurl':'http://label/'}", T0, &out);
	uint64_t id = out.id;
	store_record_release(&out);
	assert_int_equal(ops_edit(f, id, "{'internalurl':'http://mine/'}", "alice", &out), 0);
	int src = out.internalurl_source;
	char *url = out.internalurl ? strdup(out.internalurl) : NULL;
	int64_t upd = out.last_updated;
	store_record_release(&out);
	assert_str(url, "http://mine/");
	free(url);
	assert_int_equal(src, STORE_SRC_UI_EDIT);
	assert_int_equal(upd, T2);
	struct entries *es = &f->es;
	read_journal(f, 1, es);
	assert_int_equal(es->n, 1);
	assert_int_equal(es->en[0].kind, STORE_CHANGE_EDIT);
	assert_int_equal(es->en[0].flags, STORE_JOURNAL_INVENTORY);
	assert_int_equal(es->en[0].id, id);
	assert_null(es->en[0].path_before);
	assert_str(es->en[0].author, "alice");
	assert_non_null(strstr(es->en[0].message, "edit docker01/nginx: "));
	assert_non_null(strstr(es->en[0].message, "internalurl"));
	entries_release(es);
}

static void ui_edit_url_survives_register(void **state)
{
	struct fx *f = *state;
	struct store_record out;
	ops_reg(f, "{" ID "}", T0, &out);
	uint64_t id = out.id;
	store_record_release(&out);
	ops_edit(f, id, "{'externalurl':'https://mine/'}", "alice", NULL);
	ops_reg(f, "{" ID ",'externalurl':'https://label/'}", T1, &out);
	int ok = out.externalurl && !strcmp(out.externalurl, "https://mine/") &&
	         out.externalurl_source == STORE_SRC_UI_EDIT;
	store_record_release(&out);
	assert_true(ok);
}

static void edit_clearing_url_resumes_synthesis(void **state)
{
	struct fx *f = *state;
	put_exposure(f, "{'layers':{'traefik':'internal'},'hosts':{}}");
	struct store_record out;
	ops_reg(f, "{" ID ",'exposure_observations':[{'layer':'traefik','hostname':'n.lan'}]}", T0,
	        &out);
	uint64_t id = out.id;
	assert_str(out.internalurl, "http://n.lan/");
	assert_int_equal(out.internalurl_source, STORE_SRC_SYNTHESIZED);
	store_record_release(&out);

	ops_edit(f, id, "{'internalurl':'http://mine/'}", "alice", &out);
	assert_int_equal(out.internalurl_source, STORE_SRC_UI_EDIT);
	store_record_release(&out);

	assert_int_equal(ops_edit(f, id, "{'internalurl':null}", "alice", &out), 0);
	int src = out.internalurl_source;
	char *url = out.internalurl ? strdup(out.internalurl) : NULL;
	store_record_release(&out);
	assert_str(url, "http://n.lan/");
	free(url);
	assert_int_equal(src, STORE_SRC_SYNTHESIZED);
}

static void edit_clearing_url_without_observations_resets_source(void **state)
{
	struct fx *f = *state;
	struct store_record out;
	ops_reg(f, "{" ID ",'externalurl':'https://label/'}", T0, &out);
	uint64_t id = out.id;
	store_record_release(&out);
	assert_int_equal(ops_edit(f, id, "{'externalurl':''}", "alice", &out), 0);
	int ok = !out.externalurl && out.externalurl_source == STORE_SRC_NONE;
	store_record_release(&out);
	assert_true(ok);
}

static void edit_rename_records_path_before(void **state)
{
	struct fx *f = *state;
	struct store_record out;
	ops_reg(f, "{" ID "}", T0, &out);
	uint64_t id = out.id;
	store_record_release(&out);
	assert_int_equal(ops_edit(f, id, "{'container_name':'web'}", "alice", NULL), 0);
	struct entries *es = &f->es;
	read_journal(f, 1, es);
	assert_int_equal(es->n, 1);
	assert_int_equal(es->en[0].kind, STORE_CHANGE_EDIT);
	assert_int_equal(es->en[0].id, id);
	assert_str(es->en[0].path_before, "services/docker01/nginx.yml");
	assert_str(es->en[0].message, "edit docker01/web: container_name nginx -> web");
	entries_release(es);
	begin(f, 0);
	uint64_t found = 0;
	assert_int_equal(store_db_find(f->t, "docker01", "nginx", &found, NULL), ERR_NOTFOUND);
	OK(f, store_db_find(f->t, "docker01", "web", &found, &f->e));
	assert_int_equal(found, id);
}

static void edit_rename_onto_another_service_is_exists(void **state)
{
	struct fx *f = *state;
	struct store_record out;
	ops_reg(f, "{" ID "}", T0, NULL);
	ops_reg(f, "{'host':'docker01','container_name':'web'}", T0, &out);
	uint64_t id = out.id;
	store_record_release(&out);
	uint64_t last = journal_last(f);
	assert_int_equal(ops_edit(f, id, "{'container_name':'nginx'}", "alice", NULL), ERR_EXISTS);
	assert_int_equal(journal_last(f), last);
}

static void edit_missing_service_is_notfound(void **state)
{
	struct fx *f = *state;
	assert_int_equal(ops_edit(f, 12345, "{'notes':'x'}", "alice", NULL), ERR_NOTFOUND);
}

static void edit_without_change_appends_nothing(void **state)
{
	struct fx *f = *state;
	struct store_record out;
	ops_reg(f, "{" ID ",'group_name':'Web'}", T0, &out);
	uint64_t id = out.id;
	store_record_release(&out);
	uint64_t last = journal_last(f);
	assert_int_equal(ops_edit(f, id, "{'group_name':'Web'}", "alice", NULL), 0);
	assert_int_equal(journal_last(f), last);
}

static struct store_edit parse_edit(const char *text)
{
	struct store_edit ed;
	struct store_verr v;
	store_verr_init(&v);
	json_t *body = q(text);
	if (store_edit_from_json(&ed, body, &v))
		fail_msg("edit rejected");
	json_decref(body);
	store_verr_release(&v);
	return ed;
}

static void add_journals_add(void **state)
{
	struct fx *f = *state;
	struct store_edit ed = parse_edit("{'host':'nas','container_name':'Home Assistant',"
	                                  "'internalurl':'http://ha.lan/'}");
	struct store_record out;
	begin(f, 1);
	int rc = store_ops_add(f->t, &ed, "alice", T0, &out, &f->e);
	store_edit_release(&ed);
	if (rc)
		fail_msg("add: %s", f->e.msg);
	commit(f);
	uint64_t id = out.id;
	int ok = out.internalurl_source == STORE_SRC_UI_EDIT && !out.is_static && out.image_icon &&
	         !strcmp(out.image_icon, "home-assistant");
	store_record_release(&out);
	assert_true(ok);
	struct entries *es = &f->es;
	read_journal(f, 0, es);
	assert_int_equal(es->n, 1);
	assert_int_equal(es->en[0].kind, STORE_CHANGE_ADD);
	assert_int_equal(es->en[0].flags, STORE_JOURNAL_INVENTORY);
	assert_int_equal(es->en[0].id, id);
	assert_null(es->en[0].path_before);
	assert_str(es->en[0].author, "alice");
	assert_str(es->en[0].message, "add nas/Home Assistant: created");
	entries_release(es);
}

static void add_existing_identity_is_exists(void **state)
{
	struct fx *f = *state;
	ops_reg(f, "{" ID "}", T0, NULL);
	struct store_edit ed = parse_edit("{" ID "}");
	begin(f, 1);
	int rc = store_ops_add(f->t, &ed, "alice", T0, NULL, &f->e);
	store_edit_release(&ed);
	assert_int_equal(rc, ERR_EXISTS);
}

static void add_without_identity_is_inval(void **state)
{
	struct fx *f = *state;
	struct store_edit ed = parse_edit("{'host':'nas'}");
	begin(f, 1);
	int rc = store_ops_add(f->t, &ed, "alice", T0, NULL, &f->e);
	store_edit_release(&ed);
	assert_int_equal(rc, ERR_INVAL);
}

static void delete_journals_delete_with_path(void **state)
{
	struct fx *f = *state;
	struct store_record out;
	ops_reg(f, "{" ID "}", T0, &out);
	uint64_t id = out.id;
	store_record_release(&out);
	begin(f, 1);
	OK(f, store_ops_delete(f->t, id, "alice", &f->e));
	commit(f);
	struct entries *es = &f->es;
	read_journal(f, 1, es);
	assert_int_equal(es->n, 1);
	assert_int_equal(es->en[0].kind, STORE_CHANGE_DELETE);
	assert_int_equal(es->en[0].flags, STORE_JOURNAL_INVENTORY);
	assert_int_equal(es->en[0].id, id);
	assert_str(es->en[0].path_before, "services/docker01/nginx.yml");
	assert_str(es->en[0].author, "alice");
	assert_str(es->en[0].message, "delete docker01/nginx: deleted");
	entries_release(es);
	begin(f, 0);
	assert_int_equal(store_db_count(f->t), 0);
}

static void delete_missing_service_is_notfound(void **state)
{
	struct fx *f = *state;
	begin(f, 1);
	assert_int_equal(store_ops_delete(f->t, 4242, "alice", NULL), ERR_NOTFOUND);
}

static void exposure_put_resynthesizes_every_service(void **state)
{
	struct fx *f = *state;
	ops_reg(f,
	        "{'host':'docker01','container_name':'a','exposure_observations':"
	        "[{'layer':'traefik','hostname':'a.lan'}]}",
	        T0, NULL);
	ops_reg(f,
	        "{'host':'edge','container_name':'b','exposure_observations':"
	        "[{'layer':'traefik','hostname':'b.example','tls':true}]}",
	        T0, NULL);
	ops_reg(f,
	        "{'host':'docker01','container_name':'c','internalurl':'http://label/',"
	        "'exposure_observations':[{'layer':'traefik','hostname':'c.lan'}]}",
	        T0, NULL);
	uint64_t last = journal_last(f);
	put_exposure(f, "{'layers':{'traefik':'internal'},"
	                "'hosts':{'edge':{'traefik':'external'}}}");

	struct store_record a, b, c;
	get_by_identity(f, "docker01", "a", &a);
	get_by_identity(f, "edge", "b", &b);
	get_by_identity(f, "docker01", "c", &c);
	int ok_a = a.internalurl && !strcmp(a.internalurl, "http://a.lan/") &&
	           a.internalurl_source == STORE_SRC_SYNTHESIZED && a.last_updated == T1;
	int ok_b = b.externalurl && !strcmp(b.externalurl, "https://b.example/") &&
	           b.externalurl_source == STORE_SRC_SYNTHESIZED && !b.internalurl;
	int ok_c = c.internalurl && !strcmp(c.internalurl, "http://label/") &&
	           c.internalurl_source == STORE_SRC_EXPLICIT_LABEL && c.last_updated == T0;
	store_record_release(&a);
	store_record_release(&b);
	store_record_release(&c);
	assert_true(ok_a);
	assert_true(ok_b);
	assert_true(ok_c);

	/* One settings entry, then one per service whose URLs changed (a and b). */
	struct entries *es = &f->es;
	read_journal(f, last, es);
	assert_int_equal(es->n, 3);
	for (size_t i = 0; i < es->n; i++) {
		assert_int_equal(es->en[i].kind, STORE_CHANGE_SETTINGS);
		assert_str(es->en[i].author, "alice");
	}
	assert_int_equal(es->en[0].id, 0);
	assert_true(es->en[1].id != 0 && es->en[2].id != 0);
	entries_release(es);
}

static void exposure_put_stores_the_settings(void **state)
{
	struct fx *f = *state;
	put_exposure(f, "{'layers':{'traefik':'internal'},'hosts':{}}");
	json_t *got = NULL, *want = q("{'layers':{'traefik':'internal'},'hosts':{}}");
	begin(f, 0);
	OK(f, store_setting_get(f->t, "exposure", &got, &f->e));
	int equal = json_equal(got, want) && json_equal((json_t *)store_db_exposure(f->t), want);
	json_decref(got);
	json_decref(want);
	assert_true(equal);
}

static void register_after_exposure_put_uses_new_settings(void **state)
{
	struct fx *f = *state;
	put_exposure(f, "{'layers':{'traefik':'internal'},'hosts':{}}");
	struct store_record out;
	ops_reg(f, "{" ID ",'exposure_observations':[{'layer':'traefik','hostname':'n.lan'}]}", T1,
	        &out);
	int ok = out.internalurl && !strcmp(out.internalurl, "http://n.lan/");
	store_record_release(&out);
	assert_true(ok);
}

/*
 * Writes are batched into one txn: a register after an exposure change in
 * the same txn must see the new settings ("it runs after every register").
 */
static void register_in_same_txn_after_exposure_put_uses_new_settings(void **state)
{
	struct fx *f = *state;
	struct store_payload p1, p2;
	struct store_verr v;
	store_verr_init(&v);
	json_t *b1 = q("{'host':'docker01','container_name':'first'}");
	json_t *b2 = q("{" ID ",'exposure_observations':[{'layer':'traefik','hostname':'n.lan'}]}");
	assert_int_equal(store_payload_from_json(&p1, b1, &v), 0);
	assert_int_equal(store_payload_from_json(&p2, b2, &v), 0);
	json_decref(b1);
	json_decref(b2);
	json_t *x = q("{'layers':{'traefik':'internal'},'hosts':{}}");
	struct store_record out;
	int status;
	begin(f, 1);
	OK(f, store_ops_register(f->t, &p1, STORE_USER_WINS, T0, NULL, &status, &f->e));
	OK(f, store_ops_exposure_put(f->t, x, "alice", T0, &f->e));
	OK(f, store_ops_register(f->t, &p2, STORE_USER_WINS, T0, &out, &status, &f->e));
	commit(f);
	json_decref(x);
	store_payload_release(&p1);
	store_payload_release(&p2);
	int ok = out.internalurl && !strcmp(out.internalurl, "http://n.lan/");
	store_record_release(&out);
	assert_true(ok);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

/* Records written before health_check_timeout existed (format 1) still decode, as unset. */
static void record_older_formats_decode(void **state)
{
	(void)state;
	struct store_record r, back;
	store_record_init(&r);
	store_record_init(&back);
	r.id = 42;
	r.host = strdup("docker01");
	r.container_name = strdup("sonarr");
	r.external_health_check_enabled = 1;
	r.health_check_timeout.set = 1;
	r.health_check_timeout.value = 0x1122334455667788;
	const char *widget = "{\"type\":\"zzqq\",\"url\":\"http://x\",\"fields\":[]}";
	r.widget = strdup(widget);
	struct buf b;
	buf_init(&b, 0);
	store_record_encode(&r, &b);
	assert_int_equal((unsigned char)b.data[0], 3);
	assert_int_equal(store_record_decode(&back, b.data, b.len, NULL), 0);
	assert_true(store_record_equal(&r, &back, STORE_FIELD_INVENTORY | STORE_FIELD_LIVE));
	store_record_release(&back);
	/* cut the widget (u32 length + bytes) out and call it format 2 */
	size_t wl = strlen(widget);
	char *w = memmem(b.data, b.len, widget, wl);
	assert_non_null(w);
	w -= 4;
	memmove(w, w + 4 + wl, b.len - (size_t)(w + 4 + wl - b.data));
	b.len -= 4 + wl;
	b.data[0] = 2;
	assert_int_equal(store_record_decode(&back, b.data, b.len, NULL), 0);
	assert_null(back.widget);
	assert_true(back.health_check_timeout.set);
	store_record_release(&back);
	/* cut the timeout out too and call it format 1 */
	const unsigned char field[9] = {1, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11};
	char *at = memmem(b.data, b.len, field, sizeof(field));
	assert_non_null(at);
	memmove(at, at + 9, b.len - (size_t)(at + 9 - b.data));
	b.data[0] = 1;
	assert_int_equal(store_record_decode(&back, b.data, b.len - 9, NULL), 0);
	assert_false(back.health_check_timeout.set);
	assert_null(back.widget);
	assert_string_equal(back.container_name, "sonarr");
	assert_true(back.external_health_check_enabled);
	store_record_release(&back);
	/* an unknown newer format is refused */
	b.data[0] = 4;
	assert_int_equal(store_record_decode(&back, b.data, b.len - 9, NULL), ERR_INVAL);
	buf_release(&b);
	store_record_release(&r);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(record_older_formats_decode),
	    T(open_creates_store),
	    T(reopen_keeps_records),
	    T(open_records_current_schema_version),
	    T(open_refuses_newer_schema_version),
	    T(open_accepts_current_schema_version),
	    T(put_get_round_trips_full_record),
	    T(find_returns_id_by_identity),
	    T(identity_is_not_a_prefix_match),
	    T(get_and_find_missing_are_notfound),
	    T(rename_via_put_updates_index),
	    T(second_id_with_same_identity_is_exists),
	    T(rename_onto_another_identity_is_exists),
	    T(delete_removes_record_and_index),
	    T(delete_missing_is_notfound),
	    T(aborted_txn_writes_nothing),
	    T(next_id_is_monotonic),
	    T(reserve_id_moves_next_id_past_it),
	    T(foreach_visits_services_in_id_order),
	    T(record_encode_decode_round_trip),
	    T(record_encoding_keeps_empty_apart_from_null),
	    T(record_decode_rejects_truncated),
	    T(record_decode_rejects_trailing_bytes),
	    T(record_decode_rejects_unknown_format),
	    T(record_decode_rejects_oversized_string_length),
	    T(journal_append_numbers_entries),
	    T(journal_entry_round_trips),
	    T(journal_read_starts_after_cursor),
	    T(journal_read_honours_max),
	    T(journal_read_stops_when_callback_says_so),
	    T(cursor_defaults_to_zero_and_persists),
	    T(journal_prune_without_consumers_keeps_all),
	    T(journal_prune_drops_what_every_consumer_processed),
	    T(journal_seq_continues_after_prune),
	    T(setting_round_trips),
	    T(exposure_defaults_to_empty_maps),
	    T(register_new_journals_created),
	    T(register_stores_the_merged_record),
	    T(register_image_change_message),
	    T(register_live_only_change_is_not_an_inventory_change),
	    T(register_unchanged_appends_no_journal_entry),
	    T(register_static_entry_writes_nothing),
	    T(edit_url_sets_ui_edit),
	    T(ui_edit_url_survives_register),
	    T(edit_clearing_url_resumes_synthesis),
	    T(edit_clearing_url_without_observations_resets_source),
	    T(edit_rename_records_path_before),
	    T(edit_rename_onto_another_service_is_exists),
	    T(edit_missing_service_is_notfound),
	    T(edit_without_change_appends_nothing),
	    T(add_journals_add),
	    T(add_existing_identity_is_exists),
	    T(add_without_identity_is_inval),
	    T(delete_journals_delete_with_path),
	    T(delete_missing_service_is_notfound),
	    T(exposure_put_resynthesizes_every_service),
	    T(exposure_put_stores_the_settings),
	    T(register_after_exposure_put_uses_new_settings),
	    T(register_in_same_txn_after_exposure_put_uses_new_settings),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
