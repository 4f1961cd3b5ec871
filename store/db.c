#include "db.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/buf.h"
#include "../common/fileio.h"
#include "../common/xalloc.h"
#include "../common/banned.h"

/* Sparse on disk; bounds what 10,000 services plus a journal backlog can use. */
#define MAP_SIZE ((size_t)4 << 30)

struct store_db {
	MDB_env *env;
	MDB_dbi services, names, groups, settings, journal, cursors, meta, live, users, sessions;
	MDB_dbi widgetkeys, widgetvals;
	char *dir;
	/* Parsed exposure settings, keyed by their stored bytes. */
	pthread_mutex_t exposure_lock;
	char *exposure_bytes;
	size_t exposure_len;
	json_t *exposure;
};

struct store_txn {
	struct store_db *db;
	MDB_txn *txn;
	json_t *exposure; /* reference held for the txn's lifetime */
	json_t *retired;  /* older exposure references handed out in this txn */
};

static int mdb_fail(struct err *e, int rc, const char *what)
{
	return err_set(e, ERR_STORE, "cannot %s: %s", what, mdb_strerror(rc));
}

static void u64_be(uint64_t v, unsigned char out[8])
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = (unsigned char)(v & 0xff);
}

static uint64_t be_u64(const void *p)
{
	const unsigned char *b = p;
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

static int meta_get_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t *out)
{
	MDB_val k = {strlen(key), (void *)key}, v;
	if (mdb_get(txn, dbi, &k, &v) || v.mv_size != 8)
		return -1;
	*out = be_u64(v.mv_data);
	return 0;
}

static int meta_put_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t value)
{
	unsigned char b[8];
	u64_be(value, b);
	MDB_val k = {strlen(key), (void *)key}, v = {8, b};
	return mdb_put(txn, dbi, &k, &v, 0);
}

/*
 * Schema versions: refuse a newer store; migrate an older one in the same
 * transaction that opens it (there is nothing older than 1 yet).
 */
static int check_schema(struct store_db *db, MDB_txn *txn, struct err *e)
{
	uint64_t version;
	if (meta_get_u64(txn, db->meta, "schema_version", &version) < 0)
		return meta_put_u64(txn, db->meta, "schema_version", STORE_SCHEMA_VERSION)
		           ? mdb_fail(e, EIO, "write schema version")
		           : 0;
	if (version > STORE_SCHEMA_VERSION)
		return err_set(e, ERR_VERSION,
		               "store '%s' has schema version %llu, newer than this portolan (%d)",
		               db->dir, (unsigned long long)version, STORE_SCHEMA_VERSION);
	return 0;
}

static int open_dbis(struct store_db *db, struct err *e)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(db->env, NULL, 0, &txn);
	if (rc)
		return mdb_fail(e, rc, "begin transaction");
	struct {
		const char *name;
		MDB_dbi *dbi;
	} dbs[] = {{"services", &db->services},
	           {"names", &db->names},
	           {"groups", &db->groups},
	           {"settings", &db->settings},
	           {"journal", &db->journal},
	           {"cursors", &db->cursors},
	           {"meta", &db->meta},
	           {"live", &db->live},
	           {"users", &db->users},
	           {"sessions", &db->sessions},
	           {"widgetkeys", &db->widgetkeys},
	           {"widgetvals", &db->widgetvals}};
	for (size_t i = 0; i < sizeof(dbs) / sizeof(*dbs); i++) {
		rc = mdb_dbi_open(txn, dbs[i].name, MDB_CREATE, dbs[i].dbi);
		if (rc) {
			mdb_txn_abort(txn);
			return mdb_fail(e, rc, "open database");
		}
	}
	int err = check_schema(db, txn, e);
	if (err) {
		mdb_txn_abort(txn);
		return err;
	}
	rc = mdb_txn_commit(txn);
	return rc ? mdb_fail(e, rc, "commit schema") : 0;
}

int store_db_open(struct store_db **out, const char *dir, struct err *e)
{
	int rc = fileio_mkdirs(dir, e);
	if (rc)
		return rc;
	struct store_db *db = xcalloc(1, sizeof(*db));
	db->dir = xstrdup(dir);
	pthread_mutex_init(&db->exposure_lock, NULL);
	if ((rc = mdb_env_create(&db->env)) || (rc = mdb_env_set_maxdbs(db->env, 16)) ||
	    (rc = mdb_env_set_mapsize(db->env, MAP_SIZE)) ||
	    (rc = mdb_env_set_maxreaders(db->env, 256)) ||
	    (rc = mdb_env_open(db->env, dir, MDB_NOTLS | MDB_NORDAHEAD, 0600))) {
		err_set(e, ERR_STORE, "cannot open store '%s': %s", dir, mdb_strerror(rc));
		store_db_close(db);
		return ERR_STORE;
	}
	rc = open_dbis(db, e);
	if (rc) {
		store_db_close(db);
		return rc;
	}
	*out = db;
	return 0;
}

void store_db_close(struct store_db *db)
{
	if (!db)
		return;
	if (db->env)
		mdb_env_close(db->env);
	json_decref(db->exposure);
	free(db->exposure_bytes);
	pthread_mutex_destroy(&db->exposure_lock);
	free(db->dir);
	free(db);
}

const char *store_db_dir(const struct store_db *db)
{
	return db->dir;
}

int store_txn_begin(struct store_db *db, int write, struct store_txn **out, struct err *e)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(db->env, NULL, write ? 0 : MDB_RDONLY, &txn);
	if (rc)
		return mdb_fail(e, rc, "begin transaction");
	struct store_txn *t = xcalloc(1, sizeof(*t));
	t->db = db;
	t->txn = txn;
	*out = t;
	return 0;
}

int store_txn_commit(struct store_txn *t, struct err *e)
{
	int rc = mdb_txn_commit(t->txn);
	json_decref(t->exposure);
	json_decref(t->retired);
	free(t);
	return rc ? mdb_fail(e, rc, "commit transaction") : 0;
}

void store_txn_abort(struct store_txn *t)
{
	if (!t)
		return;
	mdb_txn_abort(t->txn);
	json_decref(t->exposure);
	json_decref(t->retired);
	free(t);
}

/* names key: host \0 container_name (both bounded by validation). */
static void name_key(struct buf *b, const char *host, const char *container_name)
{
	buf_adds(b, host);
	buf_addc(b, '\0');
	buf_adds(b, container_name);
}

int store_db_get(struct store_txn *t, uint64_t id, struct store_record *out, struct err *e)
{
	unsigned char kb[8];
	u64_be(id, kb);
	MDB_val k = {8, kb}, v;
	int rc = mdb_get(t->txn, t->db->services, &k, &v);
	if (rc == MDB_NOTFOUND)
		return err_set(e, ERR_NOTFOUND, "no service with id %llu", (unsigned long long)id);
	if (rc)
		return mdb_fail(e, rc, "read service");
	return store_record_decode(out, v.mv_data, v.mv_size, e);
}

int store_db_find(struct store_txn *t, const char *host, const char *container_name, uint64_t *id,
                  struct err *e)
{
	struct buf b;
	buf_init(&b, 0);
	name_key(&b, host, container_name);
	MDB_val k = {b.len, b.data}, v;
	int rc = mdb_get(t->txn, t->db->names, &k, &v);
	buf_release(&b);
	if (rc == MDB_NOTFOUND)
		return err_set(e, ERR_NOTFOUND, "no service '%s/%s'", host, container_name);
	if (rc || v.mv_size != 8)
		return mdb_fail(e, rc ? rc : MDB_CORRUPTED, "read name index");
	*id = be_u64(v.mv_data);
	return 0;
}

/* Remove the index entry of the record currently stored under id, if any. */
static int unindex_current(struct store_txn *t, uint64_t id, struct err *e)
{
	struct store_record old;
	int rc = store_db_get(t, id, &old, NULL);
	if (rc == ERR_NOTFOUND)
		return 0;
	if (rc)
		return err_set(e, rc, "cannot read service %llu", (unsigned long long)id);
	struct buf b;
	buf_init(&b, 0);
	name_key(&b, old.host, old.container_name);
	MDB_val k = {b.len, b.data};
	rc = mdb_del(t->txn, t->db->names, &k, NULL);
	buf_release(&b);
	store_record_release(&old);
	return rc && rc != MDB_NOTFOUND ? mdb_fail(e, rc, "update name index") : 0;
}

int store_db_put(struct store_txn *t, const struct store_record *r, struct err *e)
{
	uint64_t other;
	if (!store_db_find(t, r->host, r->container_name, &other, NULL) && other != r->id)
		return err_set(e, ERR_EXISTS, "service '%s/%s' already exists (id %llu)", r->host,
		               r->container_name, (unsigned long long)other);
	int rc = unindex_current(t, r->id, e);
	if (rc)
		return rc;
	unsigned char kb[8], idb[8];
	u64_be(r->id, kb);
	u64_be(r->id, idb);
	struct buf val, name;
	buf_init(&val, 0);
	buf_init(&name, 0);
	store_record_encode(r, &val);
	name_key(&name, r->host, r->container_name);
	MDB_val k = {8, kb}, v = {val.len, val.data};
	MDB_val nk = {name.len, name.data}, nv = {8, idb};
	rc = mdb_put(t->txn, t->db->services, &k, &v, 0);
	if (!rc)
		rc = mdb_put(t->txn, t->db->names, &nk, &nv, 0);
	buf_release(&val);
	buf_release(&name);
	return rc ? mdb_fail(e, rc, "write service") : 0;
}

int store_db_del(struct store_txn *t, uint64_t id, struct err *e)
{
	int rc = unindex_current(t, id, e);
	if (rc)
		return rc;
	unsigned char kb[8];
	u64_be(id, kb);
	MDB_val k = {8, kb};
	rc = mdb_del(t->txn, t->db->services, &k, NULL);
	if (rc == MDB_NOTFOUND)
		return err_set(e, ERR_NOTFOUND, "no service with id %llu", (unsigned long long)id);
	return rc ? mdb_fail(e, rc, "delete service") : 0;
}

int store_db_next_id(struct store_txn *t, uint64_t *id, struct err *e)
{
	uint64_t next = 1;
	meta_get_u64(t->txn, t->db->meta, "next_id", &next);
	int rc = meta_put_u64(t->txn, t->db->meta, "next_id", next + 1);
	if (rc)
		return mdb_fail(e, rc, "allocate id");
	*id = next;
	return 0;
}

int store_db_clear_inventory(struct store_txn *t, struct err *e)
{
	int rc = mdb_drop(t->txn, t->db->services, 0);
	if (!rc)
		rc = mdb_drop(t->txn, t->db->names, 0);
	if (!rc)
		rc = mdb_drop(t->txn, t->db->groups, 0);
	return rc ? mdb_fail(e, rc, "clear inventory") : 0;
}

int store_db_reserve_id(struct store_txn *t, uint64_t id, struct err *e)
{
	uint64_t next = 1;
	meta_get_u64(t->txn, t->db->meta, "next_id", &next);
	if (next > id)
		return 0;
	int rc = meta_put_u64(t->txn, t->db->meta, "next_id", id + 1);
	return rc ? mdb_fail(e, rc, "reserve id") : 0;
}

size_t store_db_count(struct store_txn *t)
{
	MDB_stat st;
	return mdb_stat(t->txn, t->db->services, &st) ? 0 : st.ms_entries;
}

int store_db_foreach(struct store_txn *t, int (*cb)(const struct store_record *r, void *arg),
                     void *arg, struct err *e)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(t->txn, t->db->services, &cur);
	if (rc)
		return mdb_fail(e, rc, "open cursor");
	MDB_val k, v;
	int ret = 0;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc && !ret;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct store_record r;
		ret = store_record_decode(&r, v.mv_data, v.mv_size, e);
		if (ret)
			break;
		ret = cb(&r, arg);
		store_record_release(&r);
	}
	mdb_cursor_close(cur);
	if (!ret && rc != MDB_NOTFOUND)
		return mdb_fail(e, rc, "iterate services");
	return ret;
}

/* Journal encoding: kind, flags, id, then three length-prefixed strings. */
static void put_str(struct buf *b, const char *s)
{
	uint32_t n = s ? (uint32_t)strlen(s) : UINT32_MAX;
	buf_add(b, &n, sizeof(n));
	if (s)
		buf_add(b, s, n);
}

static int get_str(const unsigned char **p, size_t *left, char **out)
{
	uint32_t n;
	if (*left < sizeof(n))
		return -1;
	memcpy(&n, *p, sizeof(n));
	*p += sizeof(n);
	*left -= sizeof(n);
	if (n == UINT32_MAX) {
		*out = NULL;
		return 0;
	}
	if (*left < n)
		return -1;
	*out = xstrndup((const char *)*p, n);
	*p += n;
	*left -= n;
	return 0;
}

int store_journal_append(struct store_txn *t, struct store_journal_entry *en, struct err *e)
{
	uint64_t seq = 0;
	meta_get_u64(t->txn, t->db->meta, "next_seq", &seq);
	seq++;
	int rc = meta_put_u64(t->txn, t->db->meta, "next_seq", seq);
	if (rc)
		return mdb_fail(e, rc, "append to journal");
	struct buf b;
	buf_init(&b, 0);
	buf_addc(&b, (char)en->kind);
	buf_addc(&b, (char)en->flags);
	buf_add(&b, &en->id, sizeof(en->id));
	put_str(&b, en->path_before);
	put_str(&b, en->author);
	put_str(&b, en->message);
	unsigned char kb[8];
	u64_be(seq, kb);
	MDB_val k = {8, kb}, v = {b.len, b.data};
	rc = mdb_put(t->txn, t->db->journal, &k, &v, MDB_APPEND);
	buf_release(&b);
	if (rc)
		return mdb_fail(e, rc, "append to journal");
	en->seq = seq;
	return 0;
}

static int decode_entry(struct store_journal_entry *en, const MDB_val *k, const MDB_val *v)
{
	memset(en, 0, sizeof(*en));
	const unsigned char *p = v->mv_data;
	size_t left = v->mv_size;
	if (k->mv_size != 8 || left < 2 + sizeof(en->id))
		return -1;
	en->seq = be_u64(k->mv_data);
	en->kind = p[0];
	en->flags = p[1];
	memcpy(&en->id, p + 2, sizeof(en->id));
	p += 2 + sizeof(en->id);
	left -= 2 + sizeof(en->id);
	if (get_str(&p, &left, &en->path_before) || get_str(&p, &left, &en->author) ||
	    get_str(&p, &left, &en->message)) {
		store_journal_entry_release(en);
		return -1;
	}
	return 0;
}

void store_journal_entry_release(struct store_journal_entry *en)
{
	free(en->path_before);
	free(en->author);
	free(en->message);
	en->path_before = en->author = en->message = NULL;
}

int store_journal_read(struct store_txn *t, uint64_t after, size_t max,
                       int (*cb)(const struct store_journal_entry *en, void *arg), void *arg,
                       struct err *e)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(t->txn, t->db->journal, &cur);
	if (rc)
		return mdb_fail(e, rc, "open journal");
	unsigned char kb[8];
	u64_be(after + 1, kb);
	MDB_val k = {8, kb}, v;
	int ret = 0;
	size_t n = 0;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !rc && !ret && n < max;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT), n++) {
		struct store_journal_entry en;
		if (decode_entry(&en, &k, &v)) {
			ret = err_set(e, ERR_STORE, "malformed journal entry");
			break;
		}
		ret = cb(&en, arg);
		store_journal_entry_release(&en);
	}
	mdb_cursor_close(cur);
	return ret;
}

uint64_t store_journal_last(struct store_txn *t)
{
	uint64_t seq = 0;
	meta_get_u64(t->txn, t->db->meta, "next_seq", &seq);
	return seq;
}

uint64_t store_cursor_get(struct store_txn *t, const char *consumer)
{
	uint64_t seq = 0;
	meta_get_u64(t->txn, t->db->cursors, consumer, &seq);
	return seq;
}

int store_cursor_set(struct store_txn *t, const char *consumer, uint64_t seq, struct err *e)
{
	int rc = meta_put_u64(t->txn, t->db->cursors, consumer, seq);
	return rc ? mdb_fail(e, rc, "store cursor") : 0;
}

int store_journal_prune(struct store_txn *t, struct err *e)
{
	/* The slowest consumer decides; with none registered keep everything. */
	MDB_cursor *cur;
	int rc = mdb_cursor_open(t->txn, t->db->cursors, &cur);
	if (rc)
		return mdb_fail(e, rc, "open cursors");
	uint64_t min = UINT64_MAX;
	MDB_val k, v;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		if (v.mv_size == 8 && be_u64(v.mv_data) < min)
			min = be_u64(v.mv_data);
	mdb_cursor_close(cur);
	if (min == UINT64_MAX)
		return 0;
	rc = mdb_cursor_open(t->txn, t->db->journal, &cur);
	if (rc)
		return mdb_fail(e, rc, "open journal");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc && be_u64(k.mv_data) <= min;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		if ((rc = mdb_cursor_del(cur, 0)))
			break;
	mdb_cursor_close(cur);
	return rc && rc != MDB_NOTFOUND ? mdb_fail(e, rc, "prune journal") : 0;
}

int store_setting_get(struct store_txn *t, const char *key, json_t **out, struct err *e)
{
	MDB_val k = {strlen(key), (void *)key}, v;
	int rc = mdb_get(t->txn, t->db->settings, &k, &v);
	if (rc == MDB_NOTFOUND)
		return err_set(e, ERR_NOTFOUND, "no setting '%s'", key);
	if (rc)
		return mdb_fail(e, rc, "read setting");
	json_t *j = json_loadb(v.mv_data, v.mv_size, 0, NULL);
	if (!j)
		return err_set(e, ERR_STORE, "malformed setting '%s'", key);
	*out = j;
	return 0;
}

int store_setting_put(struct store_txn *t, const char *key, const json_t *value, struct err *e)
{
	char *s = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
	MDB_val k = {strlen(key), (void *)key}, v = {strlen(s), s};
	int rc = mdb_put(t->txn, t->db->settings, &k, &v, 0);
	free(s);
	if (rc)
		return mdb_fail(e, rc, "write setting");
	if (!strcmp(key, "exposure") && t->exposure) {
		/* Reload on next use; earlier borrowers keep theirs until the txn ends. */
		if (!t->retired)
			t->retired = json_array();
		json_array_append_new(t->retired, t->exposure);
		t->exposure = NULL;
	}
	return 0;
}

const json_t *store_db_exposure(struct store_txn *t)
{
	if (t->exposure)
		return t->exposure;
	struct store_db *db = t->db;
	MDB_val k = {8, (void *)"exposure"}, v = {0, NULL};
	if (mdb_get(t->txn, db->settings, &k, &v))
		v.mv_size = 0;
	pthread_mutex_lock(&db->exposure_lock);
	if (!db->exposure || v.mv_size != db->exposure_len ||
	    (v.mv_size && memcmp(v.mv_data, db->exposure_bytes, v.mv_size))) {
		json_decref(db->exposure);
		free(db->exposure_bytes);
		db->exposure_bytes = xstrndup(v.mv_size ? v.mv_data : "", v.mv_size);
		db->exposure_len = v.mv_size;
		db->exposure = v.mv_size ? json_loadb(v.mv_data, v.mv_size, 0, NULL) : NULL;
		if (!db->exposure)
			db->exposure = json_pack("{s:{},s:{}}", "layers", "hosts");
	}
	t->exposure = json_incref(db->exposure);
	pthread_mutex_unlock(&db->exposure_lock);
	return t->exposure;
}

json_t *store_group_list(struct store_txn *t)
{
	json_t *list = json_array();
	MDB_cursor *cur;
	if (mdb_cursor_open(t->txn, t->db->groups, &cur))
		return list;
	MDB_val k, v;
	for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		json_t *g = json_loadb(v.mv_data, v.mv_size, 0, NULL);
		if (g)
			json_array_append_new(list, g);
	}
	mdb_cursor_close(cur);
	return list;
}

int store_group_put(struct store_txn *t, const json_t *group, struct err *e)
{
	const char *name = json_string_value(json_object_get(group, "name"));
	if (!name || !*name)
		return err_set(e, ERR_INVAL, "group has no name");
	char *s = json_dumps(group, JSON_COMPACT);
	MDB_val k = {strlen(name), (void *)name}, v = {strlen(s), s};
	int rc = mdb_put(t->txn, t->db->groups, &k, &v, 0);
	free(s);
	return rc ? mdb_fail(e, rc, "write group") : 0;
}

int store_group_del(struct store_txn *t, const char *name, struct err *e)
{
	MDB_val k = {strlen(name), (void *)name};
	int rc = mdb_del(t->txn, t->db->groups, &k, NULL);
	if (rc == MDB_NOTFOUND)
		return err_set(e, ERR_NOTFOUND, "no group '%s'", name);
	return rc ? mdb_fail(e, rc, "delete group") : 0;
}

char *store_meta_get(struct store_txn *t, const char *key)
{
	MDB_val k = {strlen(key), (void *)key}, v;
	if (mdb_get(t->txn, t->db->meta, &k, &v))
		return NULL;
	return xstrndup(v.mv_data, v.mv_size);
}

int store_meta_put(struct store_txn *t, const char *key, const char *value, struct err *e)
{
	MDB_val k = {strlen(key), (void *)key}, v = {strlen(value), (void *)value};
	int rc = mdb_put(t->txn, t->db->meta, &k, &v, 0);
	return rc ? mdb_fail(e, rc, "write meta") : 0;
}

int store_live_get(struct store_txn *t, const void *key, size_t klen, struct buf *out,
                   struct err *e)
{
	MDB_val k = {klen, (void *)key}, v;
	int rc = mdb_get(t->txn, t->db->live, &k, &v);
	if (rc == MDB_NOTFOUND)
		return err_set(e, ERR_NOTFOUND, "no live value for that key");
	if (rc)
		return mdb_fail(e, rc, "read live state");
	buf_reset(out);
	if (buf_add(out, v.mv_data, v.mv_size))
		return err_set(e, ERR_TOOBIG, "live value of %zu bytes is over the limit",
		               v.mv_size);
	return 0;
}

int store_live_put(struct store_txn *t, const void *key, size_t klen, const void *val, size_t vlen,
                   struct err *e)
{
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
	int rc = mdb_put(t->txn, t->db->live, &k, &v, 0);
	return rc ? mdb_fail(e, rc, "write live state") : 0;
}

int store_live_del(struct store_txn *t, const void *key, size_t klen, struct err *e)
{
	MDB_val k = {klen, (void *)key};
	int rc = mdb_del(t->txn, t->db->live, &k, NULL);
	if (rc == MDB_NOTFOUND)
		return err_set(e, ERR_NOTFOUND, "no live value for that key");
	return rc ? mdb_fail(e, rc, "delete live state") : 0;
}

static MDB_dbi kv_dbi(const struct store_txn *t, enum store_kv db)
{
	switch (db) {
	case STORE_KV_USERS:
		return t->db->users;
	case STORE_KV_SESSIONS:
		return t->db->sessions;
	case STORE_KV_WIDGETKEYS:
		return t->db->widgetkeys;
	case STORE_KV_WIDGETVALS:
		return t->db->widgetvals;
	}
	return t->db->sessions;
}

int store_kv_get(struct store_txn *t, enum store_kv db, const void *key, size_t klen,
                 struct buf *out, struct err *e)
{
	MDB_val k = {klen, (void *)key}, v;
	int rc = mdb_get(t->txn, kv_dbi(t, db), &k, &v);
	if (rc == MDB_NOTFOUND)
		return err_set(e, ERR_NOTFOUND, "no value for that key");
	if (rc)
		return mdb_fail(e, rc, "read account data");
	buf_reset(out);
	if (buf_add(out, v.mv_data, v.mv_size))
		return err_set(e, ERR_TOOBIG, "value of %zu bytes is over the limit", v.mv_size);
	return 0;
}

int store_kv_put(struct store_txn *t, enum store_kv db, const void *key, size_t klen,
                 const void *val, size_t vlen, struct err *e)
{
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
	int rc = mdb_put(t->txn, kv_dbi(t, db), &k, &v, 0);
	return rc ? mdb_fail(e, rc, "write account data") : 0;
}

int store_kv_del(struct store_txn *t, enum store_kv db, const void *key, size_t klen, struct err *e)
{
	MDB_val k = {klen, (void *)key};
	int rc = mdb_del(t->txn, kv_dbi(t, db), &k, NULL);
	if (rc == MDB_NOTFOUND)
		return err_set(e, ERR_NOTFOUND, "no value for that key");
	return rc ? mdb_fail(e, rc, "delete account data") : 0;
}

size_t store_kv_count(struct store_txn *t, enum store_kv db)
{
	MDB_stat st;
	return mdb_stat(t->txn, kv_dbi(t, db), &st) ? 0 : st.ms_entries;
}

int store_kv_foreach(struct store_txn *t, enum store_kv db,
                     int (*cb)(const void *key, size_t klen, const void *val, size_t vlen,
                               void *arg),
                     void *arg, struct err *e)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(t->txn, kv_dbi(t, db), &cur);
	if (rc)
		return mdb_fail(e, rc, "open cursor");
	MDB_val k, v;
	int ret = 0;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc && !ret;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		ret = cb(k.mv_data, k.mv_size, v.mv_data, v.mv_size, arg);
	mdb_cursor_close(cur);
	if (!ret && rc != MDB_NOTFOUND)
		return mdb_fail(e, rc, "iterate account data");
	return ret;
}

int store_kv_foreach_from(struct store_txn *t, enum store_kv db, const void *key, size_t klen,
                          int (*cb)(const void *key, size_t klen, const void *val, size_t vlen,
                                    void *arg),
                          void *arg, struct err *e)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(t->txn, kv_dbi(t, db), &cur);
	if (rc)
		return mdb_fail(e, rc, "open cursor");
	MDB_val k = {klen, (void *)key}, v;
	int ret = 0;
	for (rc = mdb_cursor_get(cur, &k, &v, klen ? MDB_SET_RANGE : MDB_FIRST); !rc && !ret;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		ret = cb(k.mv_data, k.mv_size, v.mv_data, v.mv_size, arg);
	mdb_cursor_close(cur);
	if (!ret && rc != MDB_NOTFOUND)
		return mdb_fail(e, rc, "iterate keys");
	return ret;
}

/* memcmp order on bytes, shorter first on a tie: LMDB's default key order. */
static int key_cmp(const MDB_val *a, const void *b, size_t blen)
{
	size_t n = a->mv_size < blen ? a->mv_size : blen;
	int c = n ? memcmp(a->mv_data, b, n) : 0;
	if (c)
		return c;
	return a->mv_size < blen ? -1 : a->mv_size > blen;
}

int store_kv_del_range(struct store_txn *t, enum store_kv db, const void *from, size_t flen,
                       const void *to, size_t tlen, size_t *removed, struct err *e)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(t->txn, kv_dbi(t, db), &cur);
	if (rc)
		return mdb_fail(e, rc, "open cursor");
	MDB_val k = {flen, (void *)from}, v;
	size_t n = 0;
	/* After mdb_cursor_del, MDB_NEXT yields the entry that followed (as in journal prune). */
	for (rc = mdb_cursor_get(cur, &k, &v, flen ? MDB_SET_RANGE : MDB_FIRST);
	     !rc && (!to || key_cmp(&k, to, tlen) < 0);
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if ((rc = mdb_cursor_del(cur, 0)))
			break;
		n++;
	}
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return mdb_fail(e, rc, "delete keys");
	if (removed)
		*removed = n;
	return 0;
}
