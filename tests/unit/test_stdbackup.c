/*
 * STD's backup format (store/stdbackup.h) and its restore
 * (store_ops_std_restore), on a real store in a temporary directory: key
 * order, value shapes, round trips, parse errors with their line, both of
 * STD's variants (tests/fixtures/std-backup), the restore rules, and the
 * mirror's "restore from <file>" commit subject.
 * Tests run from the repository root. Run one case: ./test_stdbackup.t <name-glob>.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "../../common/buf.h"
#include "../../common/err.h"
#include "../../common/fileio.h"
#include "../../common/xalloc.h"
#include "../../store/db.h"
#include "../../store/health.h"
#include "../../store/history.h"
#include "../../store/merge.h"
#include "../../store/mirror.h"
#include "../../store/ops.h"
#include "../../store/record.h"
#include "../../store/stdbackup.h"
#include "../../store/yaml.h"

#define FIX "tests/fixtures/std-backup/"
#define T0  1700000000 /* 2023-11-14 22:13:20 UTC */

struct fx {
	char tmp[64];
	struct store_db *db, *db2;
	struct err e;
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	snprintf(f->tmp, sizeof(f->tmp), "/tmp/portolan-test-stdbackup-XXXXXX");
	if (!mkdtemp(f->tmp))
		return -1;
	char *a = xasprintf("%s/a.lmdb", f->tmp), *b = xasprintf("%s/b.lmdb", f->tmp);
	int rc = store_db_open(&f->db, a, &f->e) || store_db_open(&f->db2, b, &f->e);
	free(a);
	free(b);
	/* STD's datetimes are local time: pin the zone */
	setenv("TZ", "UTC", 1);
	tzset();
	*state = f;
	return rc ? -1 : 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	store_db_close(f->db);
	store_db_close(f->db2);
	fileio_remove_tree(f->tmp, NULL);
	free(f);
	return 0;
}

#define OK(f, call)                                                                                \
	do {                                                                                       \
		if ((call) != 0)                                                                   \
			fail_msg("%s: %s", #call, (f)->e.msg);                                     \
	} while (0)

/* A service with every field STD's format carries set, plus live state. */
static void full(struct store_record *r, uint64_t id, const char *host, const char *name)
{
	store_record_init(r);
	r->id = id;
	r->host = xstrdup(host);
	r->container_name = xstrdup(name);
	r->stack_name = xstrdup("media");
	r->image_registry = xstrdup("ghcr.io");
	r->image_owner = xstrdup("linuxserver");
	r->image_name = xstrdup("sonarr");
	r->image_tag = xstrdup("4.0");
	r->image_digest = xstrdup("sha256:0123abcd");
	r->image_icon = xstrdup("sonarr.svg");
	r->image_icon_source = STORE_ICON_NOTIFIER;
	r->group_name = xstrdup("Media: TV");
	r->sort_priority.set = 1;
	r->sort_priority.value = -3;
	r->internalurl = xstrdup("http://docker01:8989/");
	r->internalurl_source = STORE_SRC_EXPLICIT_LABEL;
	r->externalurl = xstrdup("https://sonarr.example.com/");
	r->externalurl_source = STORE_SRC_SYNTHESIZED;
	r->internal_health_check_enabled = 1;
	r->external_health_check_enabled = 1;
	r->is_static = 1;
	r->networks = xstrdup("[{\"name\":\"media\",\"aliases\":[\"sonarr\",\"tv\"]}]");
	r->exposed_ports = xstrdup("[\"8989/tcp\"]");
	r->published_ports = xstrdup("[{\"container_port\":8989,\"protocol\":\"tcp\",\"host_ip\":"
	                             "\"0.0.0.0\",\"host_port\":8989}]");
	r->container_id = xstrdup("abc123");
	r->docker_status = xstrdup("running");
	r->started_at = xstrdup("2023-11-14T20:00:00Z");
	r->last_api_update = T0;
	r->last_updated = T0 + 60;
}

static void put(struct fx *f, struct store_db *db, struct store_record *r)
{
	struct store_txn *t;
	OK(f, store_txn_begin(db, 1, &t, &f->e));
	OK(f, store_db_put(t, r, &f->e));
	OK(f, store_db_reserve_id(t, r->id, &f->e));
	OK(f, store_txn_commit(t, &f->e));
	store_record_release(r);
}

static void emit(struct fx *f, struct store_db *db, struct buf *out)
{
	struct store_txn *t;
	OK(f, store_txn_begin(db, 0, &t, &f->e));
	OK(f, store_std_emit(t, out, NULL, &f->e));
	store_txn_abort(t);
}

static const char *const std_order[] = {
    "stack_name",
    "host",
    "container_name",
    "container_id",
    "internalurl",
    "externalurl",
    "last_updated",
    "last_api_update",
    "docker_status",
    "internal_health_check_enabled",
    "internal_health_check_status",
    "internal_health_check_update",
    "external_health_check_enabled",
    "external_health_check_status",
    "external_health_check_update",
    "image_registry",
    "image_owner",
    "image_name",
    "image_tag",
    "started_at",
    "image_icon",
    "is_static",
    "sort_priority",
    "networks",
    "exposed_ports",
    "published_ports",
    "internalurl_source",
    "externalurl_source",
    "group_name",
};

static void emit_key_order_and_shapes(void **state)
{
	struct fx *f = *state;
	struct store_record r;
	full(&r, 3, "docker01", "sonarr");
	put(f, f->db, &r);
	struct store_txn *t;
	struct store_health_result ok = {T0 + 120, 200, 15, STORE_HEALTH_OK, ""};
	struct store_health_result tls = {T0 + 180, 0, 30, STORE_HEALTH_TLS, "bad cert"};
	OK(f, store_txn_begin(f->db, 1, &t, &f->e));
	OK(f, store_health_record(t, 3, STORE_HEALTH_INTERNAL, "http://docker01:8989/", &ok, NULL,
	                          &f->e));
	OK(f, store_health_record(t, 3, STORE_HEALTH_EXTERNAL, "https://sonarr.example.com/", &tls,
	                          NULL, &f->e));
	OK(f, store_txn_commit(t, &f->e));
	struct buf out;
	buf_init(&out, 0);
	emit(f, f->db, &out);
	json_t *doc = NULL;
	OK(f, store_yaml_parse_json(&doc, out.data, out.len, "out.yml", &f->e));
	assert_int_equal(json_array_size(doc), 1);
	json_t *rec = json_array_get(doc, 0);
	const char *key;
	json_t *v;
	size_t i = 0;
	json_object_foreach (rec, key, v) {
		assert_true(i < sizeof(std_order) / sizeof(*std_order));
		assert_string_equal(key, std_order[i]);
		i++;
	}
	assert_int_equal(i, sizeof(std_order) / sizeof(*std_order));
	assert_string_equal(json_string_value(json_object_get(rec, "last_updated")),
	                    "2023-11-14 22:14:20");
	assert_string_equal(json_string_value(json_object_get(rec, "last_api_update")),
	                    "2023-11-14 22:13:20");
	assert_string_equal(json_string_value(json_object_get(rec, "internal_health_check_status")),
	                    "200");
	assert_string_equal(json_string_value(json_object_get(rec, "internal_health_check_update")),
	                    "2023-11-14 22:15:20");
	assert_string_equal(json_string_value(json_object_get(rec, "external_health_check_status")),
	                    "Error: SSLError");
	assert_string_equal(json_string_value(json_object_get(rec, "image_tag")),
	                    "4.0@sha256:0123abcd");
	assert_true(json_is_integer(json_object_get(
	    json_array_get(json_object_get(rec, "published_ports"), 0), "host_port")));
	assert_true(json_is_true(json_object_get(rec, "is_static")));
	/* the status is a string, not a number, for any YAML reader */
	assert_non_null(strstr(out.data, "  internal_health_check_status: \"200\"\n"));
	assert_null(strstr(out.data, "widget"));
	json_decref(doc);
	buf_release(&out);
}

static void empty_inventory_is_an_empty_list(void **state)
{
	struct fx *f = *state;
	struct buf out;
	buf_init(&out, 0);
	emit(f, f->db, &out);
	assert_string_equal(out.data, "[]\n");
	struct store_std_backup b;
	OK(f, store_std_parse(&b, out.data, out.len, "empty.yml", &f->e));
	assert_int_equal(b.n, 0);
	store_std_backup_release(&b);
	buf_release(&out);
}

static void restore(struct fx *f, struct store_db *db, const struct store_std_backup *b, int scope,
                    struct store_std_report *rep)
{
	struct store_txn *t;
	OK(f, store_txn_begin(db, 1, &t, &f->e));
	OK(f, store_ops_std_restore(t, b, scope, "alice", T0, rep, &f->e));
	OK(f, store_txn_commit(t, &f->e));
}

static void get(struct fx *f, struct store_db *db, const char *host, const char *name,
                struct store_record *out)
{
	struct store_txn *t;
	uint64_t id;
	OK(f, store_txn_begin(db, 0, &t, &f->e));
	OK(f, store_db_find(t, host, name, &id, &f->e));
	OK(f, store_db_get(t, id, out, &f->e));
	store_txn_abort(t);
}

static void round_trip_keeps_the_inventory(void **state)
{
	struct fx *f = *state;
	struct store_record r, back, orig;
	full(&r, 3, "docker01", "sonarr");
	put(f, f->db, &r);
	full(&r, 4, "nas", "plain");
	store_set_str(&r.image_digest, NULL);
	store_set_str(&r.group_name, NULL);
	store_set_str(&r.networks, NULL);
	store_set_str(&r.internalurl, NULL);
	r.internalurl_source = STORE_SRC_NONE;
	r.sort_priority.set = 0;
	r.is_static = 0;
	put(f, f->db, &r);
	struct buf out;
	buf_init(&out, 0);
	emit(f, f->db, &out);
	struct store_std_backup b;
	OK(f, store_std_parse(&b, out.data, out.len, "dir/own.yml", &f->e));
	assert_string_equal(b.source, "own.yml");
	assert_int_equal(b.nwarnings, 0);
	struct store_std_report rep;
	restore(f, f->db2, &b, STORE_STD_SCOPE_ALL, &rep);
	assert_int_equal(rep.count[STORE_STD_CREATED], 2);
	const char *names[][2] = {{"docker01", "sonarr"}, {"nas", "plain"}};
	for (int i = 0; i < 2; i++) {
		get(f, f->db, names[i][0], names[i][1], &orig);
		get(f, f->db2, names[i][0], names[i][1], &back);
		back.id = orig.id;
		if (!store_record_equal(&orig, &back, STORE_FIELD_INVENTORY))
			fail_msg("%s/%s differs after the round trip", names[i][0], names[i][1]);
		assert_null(back.container_id); /* live state is not restored */
		store_record_release(&orig);
		store_record_release(&back);
	}
	/* and it emits the same bytes but for live state */
	struct buf again;
	buf_init(&again, 0);
	emit(f, f->db2, &again);
	assert_non_null(strstr(again.data, "  image_tag: 4.0@sha256:0123abcd\n"));
	assert_non_null(strstr(again.data, "  group_name: \"Media: TV\"\n"));
	buf_release(&again);
	store_std_report_release(&rep);
	store_std_backup_release(&b);
	buf_release(&out);
}

static void parse_errors_name_file_and_line(void **state)
{
	(void)state;
	static const struct {
		const char *yaml, *want;
	} cases[] = {
	    {"- host: a\n  container_name: [x\n", "b.yml:3:1: invalid YAML"},
	    {"host: a\ncontainer_name: b\n", "b.yml:1:1: expected a list of service records"},
	    {"", "b.yml:1:1: expected a list"},
	    {"- host: a\n  container_name: b\n- just a string\n",
	     "b.yml:3:3: record 2: expected a mapping"},
	    {"- host: a\n  container_name: b\n  internalurl: ftp://x/\n",
	     "b.yml:3:16: internalurl: URL should be an absolute http"},
	    {"- host: a\n  container_name: b\n  internalurl_source: label\n",
	     "b.yml:3:23: internalurl_source: unknown source 'label'"},
	    {"- host: a\n  container_name: b\n  is_static: maybe\n", "b.yml:3:14: is_static: "},
	    {"- host: a\n  container_name: b\n  sort_priority: high\n",
	     "b.yml:3:18: sort_priority: "},
	    {"- host: a\n  container_name: b\n  published_ports: 8080\n",
	     "b.yml:3:20: published_ports: "},
	    {"- host: a\n  container_name: b\n  networks:\n  - aliases: [x]\n",
	     "b.yml:4:5: networks[0].name: "},
	    {"- host: a\n  container_name: b\n  stack_name: {a: 1}\n", "b.yml:3:15: stack_name: "},
	    {"- host: a\n  container_name: b\n  image_icon: ../etc/passwd\n",
	     "b.yml:3:15: image_icon: "},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct store_std_backup b;
		memset(&b, 0, sizeof(b));
		struct err e = {0};
		int rc = store_std_parse(&b, cases[i].yaml, strlen(cases[i].yaml), "b.yml", &e);
		if (rc != ERR_INVAL || strncmp(e.msg, cases[i].want, strlen(cases[i].want)))
			fail_msg("case %zu: rc %d, '%s', wanted '%s'", i, rc, e.msg, cases[i].want);
		assert_null(b.v);
	}
	/* a host longer than a register accepts */
	struct buf y;
	buf_init(&y, 0);
	buf_adds(&y, "- container_name: b\n  host: ");
	for (int i = 0; i < 256; i++)
		buf_addc(&y, 'h');
	buf_adds(&y, "\n");
	struct store_std_backup b;
	struct err e = {0};
	assert_int_equal(store_std_parse(&b, y.data, y.len, "b.yml", &e), ERR_INVAL);
	assert_non_null(strstr(e.msg, "b.yml:2:9: host: "));
	buf_release(&y);
}

static void parse_file(struct fx *f, const char *name, struct store_std_backup *b)
{
	struct buf data;
	buf_init(&data, 0);
	char *path = xasprintf(FIX "%s", name);
	OK(f, fileio_read(path, &data, &f->e));
	OK(f, store_std_parse(b, data.data, data.len, path, &f->e));
	free(path);
	buf_release(&data);
}

static int has(const struct store_std_record *r, const char *field)
{
	return (r->present >> (store_field_find(field) - store_fields)) & 1;
}

static void std_nightly_and_manual_variants(void **state)
{
	struct fx *f = *state;
	struct store_std_backup n, m;
	parse_file(f, "nightly.yml", &n);
	parse_file(f, "manual.yml", &m);
	assert_int_equal(n.n, 7);
	assert_int_equal(m.n, 5);
	assert_string_equal(n.source, "nightly.yml");
	for (size_t i = 0; i < n.n; i++)
		assert_false(has(&n.v[i], "group_name")); /* the nightly file forgot it */
	for (size_t i = 0; i < m.n; i++)
		assert_true(has(&m.v[i], "group_name"));
	assert_int_equal(n.nwarnings, 1);
	assert_non_null(
	    strstr(n.warnings[0], "nightly.yml:191:21: unknown key 'favourite_colour'"));
	assert_int_equal(m.nwarnings, 0); /* widget blocks are known, and ignored */
	assert_int_equal(n.v[0].line, 1);
	assert_string_equal(n.v[0].rec.image_tag, "10.10.3");
	assert_int_equal(n.v[0].rec.internalurl_source, STORE_SRC_EXPLICIT_LABEL);
	assert_null(n.v[0].rec.container_id); /* live keys are not read */
	assert_null(n.v[3].rec.host);
	assert_null(n.v[4].rec.container_name);
	assert_int_equal(n.v[2].rec.sort_priority.value, 10); /* '10', coerced as a register does */
	assert_true(n.v[2].rec.internal_health_check_enabled); /* yes */
	assert_string_equal(m.v[3].rec.group_name, "Databases");
	assert_null(m.v[4].rec.group_name);
	assert_true(has(&m.v[4], "group_name"));
	store_std_backup_release(&n);
	store_std_backup_release(&m);
}

static const char *outcome(const struct store_std_report *r, size_t i)
{
	static char buf[128];
	snprintf(buf, sizeof(buf), "%s%s%s", store_std_outcome_name(r->v[i].outcome),
	         r->v[i].reason ? ": " : "", r->v[i].reason ? r->v[i].reason : "");
	return buf;
}

static void restore_rules(void **state)
{
	struct fx *f = *state;
	struct store_std_backup n, m;
	struct store_std_report rep;
	parse_file(f, "nightly.yml", &n);
	parse_file(f, "manual.yml", &m);
	restore(f, f->db, &m, STORE_STD_SCOPE_STATIC, &rep);
	assert_string_equal(outcome(&rep, 0), "skipped: not static (scope static)");
	assert_string_equal(outcome(&rep, 2), "created");
	store_std_report_release(&rep);
	restore(f, f->db, &n, STORE_STD_SCOPE_ALL, &rep);
	assert_string_equal(outcome(&rep, 1), "created");
	assert_string_equal(outcome(&rep, 3), "skipped: no host");
	assert_string_equal(outcome(&rep, 4), "skipped: no container_name");
	store_std_report_release(&rep);
	/* an edit in between: the manual file's group comes back, a static entry stays */
	restore(f, f->db, &m, STORE_STD_SCOPE_ALL, &rep);
	assert_string_equal(outcome(&rep, 0), "updated");
	assert_string_equal(outcome(&rep, 1), "skipped: locked");
	assert_string_equal(outcome(&rep, 2), "unchanged");
	assert_int_equal(rep.count[STORE_STD_SKIPPED], 1);
	store_std_report_release(&rep);
	struct store_record r;
	get(f, f->db, "docker01", "jellyfin", &r);
	assert_string_equal(r.group_name, "Media");
	store_record_release(&r);
	/* the nightly file has no group_name: the stored group stays */
	restore(f, f->db, &n, STORE_STD_SCOPE_ALL, &rep);
	get(f, f->db, "docker01", "jellyfin", &r);
	assert_string_equal(r.group_name, "Media");
	assert_string_equal(r.externalurl, "https://jellyfin.example.com/");
	assert_int_equal(r.image_icon_source, STORE_ICON_NOTIFIER);
	store_record_release(&r);
	store_std_report_release(&rep);
	/* duplicates: the first record of an identity wins */
	const char *dup = "- host: a\n  container_name: b\n  stack_name: one\n"
	                  "- host: a\n  container_name: b\n  stack_name: two\n";
	struct store_std_backup d;
	OK(f, store_std_parse(&d, dup, strlen(dup), "dup.yml", &f->e));
	restore(f, f->db, &d, STORE_STD_SCOPE_ALL, &rep);
	assert_string_equal(outcome(&rep, 1), "skipped: duplicate of an earlier record");
	get(f, f->db, "a", "b", &r);
	assert_string_equal(r.stack_name, "one");
	store_record_release(&r);
	struct buf text;
	buf_init(&text, 0);
	store_std_report_text(&rep, &d, &text);
	assert_string_equal(text.data,
	                    "restore from dup.yml: 1 restored (1 created, 0 updated, 0 unchanged), "
	                    "1 skipped\n"
	                    "dup.yml:1: a/b: created\n"
	                    "dup.yml:4: a/b: skipped: duplicate of an earlier record\n");
	buf_release(&text);
	store_std_report_release(&rep);
	store_std_backup_release(&d);
	store_std_backup_release(&n);
	store_std_backup_release(&m);
}

/* The newest commit's summary line and author. */
static void head_commit(const char *repo, char *subject, size_t size, char *author, size_t asize)
{
	json_t *log = NULL;
	struct err e = {0};
	if (store_history_log(repo, 1, &log, &e))
		fail_msg("log: %s", e.msg);
	json_t *c = json_array_get(log, 0);
	snprintf(subject, size, "%s", json_string_value(json_object_get(c, "message")));
	snprintf(author, asize, "%s", json_string_value(json_object_get(c, "author")));
	json_decref(log);
}

static void mirror_titles_a_restore_commit(void **state)
{
	struct fx *f = *state;
	char *repo = xasprintf("%s/inventory", f->tmp), *lock = xasprintf("%s/lock", f->tmp);
	struct store_mirror *m;
	OK(f, store_mirror_open(&m, repo, lock, &f->e));
	struct store_std_backup n;
	struct store_std_report rep;
	parse_file(f, "nightly.yml", &n);
	restore(f, f->db, &n, STORE_STD_SCOPE_ALL, &rep);
	int commits = 0;
	OK(f, store_mirror_drain(m, f->db, &commits, &f->e));
	assert_int_equal(commits, 1);
	char subject[256], author[64];
	head_commit(repo, subject, sizeof(subject), author, sizeof(author));
	assert_string_equal(subject, "restore from nightly.yml");
	assert_string_equal(author, "alice");
	store_std_report_release(&rep);
	/* a batch mixing a restore and a delete by the same user: counted, as before */
	struct store_txn *t;
	uint64_t id;
	const char *one = "- host: docker01\n  container_name: jellyfin\n  stack_name: other\n";
	struct store_std_backup b;
	OK(f, store_std_parse(&b, one, strlen(one), "one.yml", &f->e));
	OK(f, store_txn_begin(f->db, 1, &t, &f->e));
	OK(f, store_ops_std_restore(t, &b, STORE_STD_SCOPE_ALL, "alice", T0, &rep, &f->e));
	OK(f, store_db_find(t, "docker02", "redis", &id, &f->e));
	OK(f, store_ops_delete(t, id, "alice", &f->e));
	OK(f, store_txn_commit(t, &f->e));
	OK(f, store_mirror_drain(m, f->db, &commits, &f->e));
	head_commit(repo, subject, sizeof(subject), author, sizeof(author));
	assert_string_equal(subject, "2 changes by alice");
	store_std_report_release(&rep);
	/* one change: its own line, as for any other single change */
	store_std_backup_release(&b);
	one = "- host: docker01\n  container_name: jellyfin\n  stack_name: third\n";
	OK(f, store_std_parse(&b, one, strlen(one), "one.yml", &f->e));
	restore(f, f->db, &b, STORE_STD_SCOPE_ALL, &rep);
	OK(f, store_mirror_drain(m, f->db, &commits, &f->e));
	head_commit(repo, subject, sizeof(subject), author, sizeof(author));
	assert_string_equal(subject,
	                    "restore from one.yml: docker01/jellyfin: stack_name other -> third");
	store_std_report_release(&rep);
	store_std_backup_release(&b);
	store_std_backup_release(&n);
	store_mirror_free(m);
	free(repo);
	free(lock);
}

static void health_error_names(void **state)
{
	(void)state;
	assert_string_equal(store_std_health_error(STORE_HEALTH_TIMEOUT), "ConnectTimeout");
	assert_string_equal(store_std_health_error(STORE_HEALTH_TLS), "SSLError");
	assert_string_equal(store_std_health_error(STORE_HEALTH_REFUSED), "ConnectionError");
	assert_string_equal(store_std_health_error(STORE_HEALTH_DNS), "ConnectionError");
	assert_string_equal(store_std_health_error(STORE_HEALTH_TOO_MANY_REDIRECTS),
	                    "TooManyRedirects");
	assert_string_equal(store_std_health_error(STORE_HEALTH_OTHER), "RequestException");
	assert_int_equal(store_std_scope_parse("static"), STORE_STD_SCOPE_STATIC);
	assert_int_equal(store_std_scope_parse("all"), STORE_STD_SCOPE_ALL);
	assert_int_equal(store_std_scope_parse("ALL"), -1);
	assert_int_equal(store_std_scope_parse(NULL), -1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    T(emit_key_order_and_shapes),       T(empty_inventory_is_an_empty_list),
	    T(round_trip_keeps_the_inventory),  T(parse_errors_name_file_and_line),
	    T(std_nightly_and_manual_variants), T(restore_rules),
	    T(mirror_titles_a_restore_commit),  T(health_error_names),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
