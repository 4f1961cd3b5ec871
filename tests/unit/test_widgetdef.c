/*
 * Widget definitions (daemon/widgetdef.h): every built-in parses; each
 * class of bad definition is reported as file:line:col; the sample
 * engine's requests (shared ones once, the key as a header or a query
 * parameter, computed values, foreach fan-out) and its values (each
 * reduction, each error class, failures kept to their own fields).
 * Run one case: ./test_widgetdef.t <name-glob>.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../daemon/widgetdef.h"

/* 2024-03-10T12:00:00Z */
#define NOW 1710072000

static struct widget_def *parse_ok(const char *yml)
{
	struct widget_def *d = NULL;
	struct buf problems;
	buf_init(&problems, 0);
	int rc = widget_def_parse(&d, yml, strlen(yml), "w.yml", &problems, NULL);
	if (rc)
		fprintf(stderr, "%s", problems.data);
	assert_int_equal(rc, 0);
	buf_release(&problems);
	return d;
}

static void builtins_parse(void **state)
{
	(void)state;
	struct widget_defs *r = NULL;
	struct buf problems;
	static const char *const names[] = {"bazarr", "json",   "overseerr", "prowlarr",
	                                    "radarr", "sonarr", "syncthing"};
	buf_init(&problems, 0);
	assert_int_equal(widget_defs_load(&r, NULL, &problems, NULL), 0);
	assert_string_equal(problems.data, "");
	assert_int_equal(widget_defs_count(r), 7);
	for (size_t i = 0; i < 7; i++) {
		const struct widget_def *d = widget_defs_at(r, i);
		assert_string_equal(d->name, names[i]);
		assert_true(strlen(widget_def_readme(d)) > 20);
		assert_ptr_equal(widget_defs_find(r, names[i]), d);
	}
	assert_null(widget_defs_find(r, "nope"));
	assert_int_equal(widget_defs_find(r, "syncthing")->nfields, 4);
	buf_release(&problems);
	widget_defs_free(r);
}

static const char HEAD[] = "name: w\ndescription: d\n";

/* Each bad definition (after HEAD) and the one problem it must give. */
static const struct {
	const char *yml, *want;
} bad[] = {
    {"colour: red\nrequests: {a: {path: /a}}\nfields: [{key: k, label: K, request: a}]\n",
     "w.yml:3:9: unknown key 'colour'"},
    {"requests: {a: {path: /a, verb: POST}}\nfields: [{key: k, label: K, request: a}]\n",
     "w.yml:3:32: unknown key 'verb'"},
    {"requests: {a: {path: /a}}\nfields: [{key: k, label: K, request: a, size: 1}]\n",
     "w.yml:4:47: unknown key 'size'"},
    {"requests: {a: {path: /a}}\n", "w.yml:1:1: missing required key 'fields'"},
    {"fields: []\n", "w.yml:1:1: missing required key 'requests'"},
    {"requests: {a: {path: /a}}\nfields: [{label: K, request: a}]\n",
     "w.yml:4:10: missing required key 'key'"},
    {"requests: {a: {}}\nfields: [{key: k, label: K, request: a}]\n",
     "w.yml:3:15: missing required key 'path'"},
    {"requests: {a: {path: /a}}\nfields: [{key: k, label: [x], request: a}]\n",
     "w.yml:4:26: label: expected a string"},
    {"requests: {a: {path: a}}\nfields: [{key: k, label: K, request: a}]\n",
     "w.yml:3:22: path: must start with '/'"},
    {"requests: {a: {path: /a}}\nfields: [{key: k, label: K, request: a, value: $x}]\n",
     "w.yml:4:48: value: bad JSON path '$x'"},
    {"requests: {a: {path: /a}}\nfields: [{key: k, label: K, request: a, value: \"$[-1]\"}]\n",
     "w.yml:4:48: value: bad JSON path '$[-1]'"},
    {"requests: {a: {path: /a}}\nfields: [{key: k, label: K, request: a, reduce: avg}]\n",
     "w.yml:4:49: unknown reduction 'avg'"},
    {"requests: {a: {path: /a}}\nfields: [{key: k, label: K, request: a, reduce: {count: {gt: "
     "0, lt: 3}}}]\n",
     "w.yml:4:57: count: needs exactly one of"},
    {"requests: {a: {path: /a}}\nfields: [{key: k, label: K, request: a, reduce: {count: {gt: "
     "x}}}]\n",
     "w.yml:4:62: gt: compares numbers only"},
    {"requests: {a: {path: \"/a/{yesterday}\"}}\nfields: [{key: k, label: K, request: a}]\n",
     "w.yml:3:22: path: unknown computed value"},
    {"requests: {a: {path: /a, query: {since: \"{now-7w}\"}}}\nfields: [{key: k, label: K, "
     "request: a}]\n",
     "w.yml:3:41: since: unknown computed value"},
    {"requests: {a: {path: \"/a/{item.id}\"}}\nfields: [{key: k, label: K, request: a}]\n",
     "w.yml:3:22: path: {item...} outside a foreach request"},
    {"requests: {a: {path: /a, foreach: b}}\nfields: [{key: k, label: K, request: a}]\n",
     "w.yml:3:35: foreach: no request called 'b'"},
    {"requests: {a: {path: /a}, b: {path: /b, foreach: a}, c: {path: /c, foreach: b}}\n"
     "fields: [{key: k, label: K, request: c}]\n",
     "w.yml:3:77: foreach: 'b' is itself a foreach request"},
    {"requests: {a: {path: /a}}\nfields: [{key: k, label: K, request: b}]\n",
     "w.yml:4:38: request: no request called 'b'"},
    {"requests: {a: {path: /a}}\nfields: [{key: k, label: K, request: a}, {key: k, label: L, "
     "request: a}]\n",
     "w.yml:4:48: duplicate field key 'k'"},
    {"requests: {a: {path: /a}, b: {path: /b}}\nfields: [{key: k, label: K, request: a}]\n",
     "w.yml:3:30: request 'b' is used by no field"},
    {"requests: {a: {path: /a}}\nfields: [{key: k, label: K, request: a, divide: -2}]\n",
     "w.yml:4:49: divide: expected a number greater than 0"},
    {"requests: {a: {path: /a}}\nfields: [{key: k, label: K, request: a, round: 9}]\n",
     "w.yml:4:48: round: expected a number of decimals"},
    {"api_key: {header: X, query: y}\nrequests: {a: {path: /a}}\nfields: [{key: k, label: K, "
     "request: a}]\n",
     "w.yml:3:10: api_key: expected {header: NAME} or {query: NAME}"},
    {"requests: {a: {path: /a}}\nfields: [{key: K-1, label: K, request: a}]\n",
     "w.yml:4:16: key 'K-1': use a-z"},
    {"requests: {a: {path: /a}}\nfields: [{key: k, label: K, request: a}\n",
     "w.yml:5:1: "}, /* YAML syntax: libyaml's message, positioned */
};

static void bad_definitions(void **state)
{
	(void)state;
	int failures = 0;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct widget_def *d = NULL;
		struct buf problems, yml;
		buf_init(&problems, 0);
		buf_init(&yml, 0);
		buf_adds(&yml, HEAD);
		buf_adds(&yml, bad[i].yml);
		int rc = widget_def_parse(&d, yml.data, yml.len, "w.yml", &problems, NULL);
		if (rc != ERR_INVAL || !strstr(problems.data, bad[i].want)) {
			fprintf(stderr, "case %zu: want '%s', got:\n%s", i, bad[i].want,
			        problems.data);
			failures++;
		}
		assert_null(d);
		buf_release(&problems);
		buf_release(&yml);
	}
	assert_int_equal(failures, 0);
}

static const char OVERSEERR[] = "name: o\ndescription: d\napi_key: {header: X-Api-Key}\n"
                                "requests:\n"
                                "  r: {path: /api/v1/request/count}\n"
                                "  r2: {path: /api/v1/request/count}\n"
                                "  i: {path: /api/v1/issue/count}\n"
                                "fields:\n"
                                "  - {key: pending, label: P, request: r, value: $.pending}\n"
                                "  - {key: tv, label: T, request: r2, value: $.tv}\n"
                                "  - {key: open, label: O, request: i, value: $.open}\n";

static const struct widget_value *run(struct widget_sample *s, size_t *n)
{
	const struct widget_value *v;
	*n = widget_sample_values(s, &v);
	return v;
}

static void dedup_and_header(void **state)
{
	(void)state;
	struct widget_def *d = parse_ok(OVERSEERR);
	struct widget_sample *s = widget_sample_new(d, "http://h:5055/", "k3y", NULL, NOW);
	const struct widget_request *rq;
	size_t n;
	assert_int_equal(widget_sample_requests(s, &rq), 2);
	assert_string_equal(rq[0].url, "http://h:5055/api/v1/request/count");
	assert_string_equal(rq[1].url, "http://h:5055/api/v1/issue/count");
	assert_string_equal(rq[0].headers[0], "Accept: application/json");
	assert_string_equal(rq[0].headers[1], "X-Api-Key: k3y");
	assert_null(rq[0].headers[2]);
	assert_int_equal(widget_sample_values(s, &(const struct widget_value *){NULL}), 0);
	const char *b0 = "{\"pending\": 2, \"tv\": 3}", *b1 = "{\"open\": 4}";
	widget_sample_answer(s, 0, 200, b0, strlen(b0), NULL);
	widget_sample_answer(s, 0, 200, "x", 1, NULL); /* a second answer is ignored */
	widget_sample_answer(s, 1, 200, b1, strlen(b1), NULL);
	assert_int_equal(widget_sample_requests(s, &rq), 0);
	const struct widget_value *v = run(s, &n);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].key, "pending");
	assert_true(v[0].has_value && v[0].value == 2);
	assert_true(v[1].has_value && v[1].value == 3);
	assert_true(v[2].has_value && v[2].value == 4);
	assert_null(v[2].error_class);
	widget_sample_free(s);
	widget_def_free(d);
}

static void key_as_query_and_now(void **state)
{
	(void)state;
	struct widget_def *d = parse_ok(
	    "name: p\ndescription: d\napi_key: {query: apikey}\n"
	    "requests:\n  s: {path: /api/v1/indexerstats, query: {startDate: \"{now-7d}\", "
	    "to: \"{now}\", lit: \"{{x}} a&b\"}}\n"
	    "fields:\n  - {key: g, label: G, request: s, value: $.indexers, reduce: {sum: n}}\n");
	struct widget_sample *s = widget_sample_new(d, "https://h/prowlarr", "a b&c", NULL, NOW);
	const struct widget_request *rq;
	assert_int_equal(widget_sample_requests(s, &rq), 1);
	assert_string_equal(rq[0].url, "https://h/prowlarr/api/v1/indexerstats"
	                               "?startDate=2024-03-03T12%3A00%3A00Z"
	                               "&to=2024-03-10T12%3A00%3A00Z&lit=%7Bx%7D%20a%26b"
	                               "&apikey=a%20b%26c");
	assert_null(rq[0].headers[1]); /* no key header */
	widget_sample_free(s);
	/* No key: nothing sent. */
	s = widget_sample_new(d, "https://h", NULL, NULL, NOW);
	assert_int_equal(widget_sample_requests(s, &rq), 1);
	assert_null(strstr(rq[0].url, "apikey"));
	widget_sample_free(s);
	widget_def_free(d);
}

static const char REDUCE[] =
    "name: r\ndescription: d\nrequests:\n  a: {path: /a}\nfields:\n"
    "  - {key: len, label: L, request: a, value: $.items, reduce: length}\n"
    "  - {key: sum, label: S, request: a, value: \"$.items[*].n\", reduce: sum}\n"
    "  - {key: summ, label: S, request: a, value: $.items, reduce: {sum: n}}\n"
    "  - {key: cnt, label: C, request: a, value: $.items, reduce: {count: {member: n, ge: 2}}}\n"
    "  - {key: cnts, label: C, request: a, value: $.items, reduce: {count: {member: s, eq: "
    "up}}}\n"
    "  - {key: mib, label: M, request: a, value: $.bytes, divide: 1048576, round: 0}\n"
    "  - {key: half, label: H, request: a, value: $.half, round: 0}\n"
    "  - {key: odd, label: O, request: a, value: $.odd, round: 0}\n"
    "  - {key: dec, label: D, request: a, value: $.bytes, divide: 1048576, round: 2}\n"
    "  - {key: idx, label: I, request: a, value: \"$.items[1][\\\"n\\\"]\"}\n";

static void reductions(void **state)
{
	(void)state;
	struct widget_def *d = parse_ok(REDUCE);
	struct widget_sample *s = widget_sample_new(d, "http://h", NULL, NULL, NOW);
	const struct widget_request *rq;
	size_t n;
	const char *body = "{\"items\": [{\"n\": 1, \"s\": \"up\"}, {\"n\": 2, \"s\": \"down\"},"
	                   " {\"n\": 4.5, \"s\": \"up\"}], \"bytes\": 3670016, \"half\": 2.5,"
	                   " \"odd\": 3.5}";
	assert_int_equal(widget_sample_requests(s, &rq), 1);
	widget_sample_answer(s, 0, 200, body, strlen(body), NULL);
	const struct widget_value *v = run(s, &n);
	static const double want[] = {3, 7.5, 7.5, 2, 2, 4, 2, 4, 3.5, 2};
	assert_int_equal(n, 10);
	for (size_t i = 0; i < n; i++) {
		if (!v[i].has_value)
			fprintf(stderr, "%s: %s\n", v[i].key, v[i].message);
		assert_true(v[i].has_value);
		assert_true(v[i].value == want[i]);
	}
	widget_sample_free(s);
	widget_def_free(d);
}

static const char SYNC[] = "name: s\ndescription: d\napi_key: {header: X-API-Key}\n"
                           "requests:\n  f: {path: /rest/config/folders}\n"
                           "  st: {foreach: f, path: /rest/db/status, query: {folder: "
                           "\"{item.id}\"}}\n"
                           "fields:\n"
                           "  - {key: n, label: N, request: f, reduce: length}\n"
                           "  - {key: need, label: S, request: st, reduce: {count: {member: "
                           "needBytes, gt: 0}}}\n"
                           "  - {key: total, label: T, request: st, reduce: {sum: globalBytes}}\n";

static void foreach_fanout(void **state)
{
	(void)state;
	struct widget_def *d = parse_ok(SYNC);
	struct widget_sample *s = widget_sample_new(d, "http://st:8384", "K", NULL, NOW);
	const struct widget_request *rq;
	size_t n;
	const char *folders = "[{\"id\": \"a b\"}, {\"id\": \"c+d\"}, {\"label\": \"no id\"},"
	                      " {\"id\": \"a b\"}]";
	assert_int_equal(widget_sample_requests(s, &rq), 1);
	widget_sample_answer(s, 0, 200, folders, strlen(folders), NULL);
	/* The item without an id is skipped (as STD does); the same URL once. */
	assert_int_equal(widget_sample_requests(s, &rq), 2);
	assert_string_equal(rq[0].url, "http://st:8384/rest/db/status?folder=a%20b");
	assert_string_equal(rq[1].url, "http://st:8384/rest/db/status?folder=c%2Bd");
	assert_string_equal(rq[1].headers[1], "X-API-Key: K");
	const char *s0 = "{\"needBytes\": 10, \"globalBytes\": 100}";
	const char *s1 = "{\"needBytes\": 0, \"globalBytes\": 50}";
	widget_sample_answer(s, 1, 200, s1, strlen(s1), NULL);
	assert_int_equal(widget_sample_requests(s, &rq), 2); /* still this phase */
	widget_sample_answer(s, 0, 200, s0, strlen(s0), NULL);
	assert_int_equal(widget_sample_requests(s, &rq), 0);
	const struct widget_value *v = run(s, &n);
	assert_int_equal(n, 3);
	assert_true(v[0].has_value && v[0].value == 4);
	assert_true(v[1].has_value && v[1].value == 2); /* "a b" twice: once per item */
	assert_true(v[2].has_value && v[2].value == 250);
	widget_sample_free(s);

	/* No folders: no second phase, zeros. */
	s = widget_sample_new(d, "http://st:8384", "K", NULL, NOW);
	widget_sample_requests(s, &rq);
	widget_sample_answer(s, 0, 200, "[]", 2, NULL);
	assert_int_equal(widget_sample_requests(s, &rq), 0);
	v = run(s, &n);
	assert_true(v[0].has_value && v[0].value == 0 && v[2].has_value && v[2].value == 0);
	widget_sample_free(s);

	/* Too many items: the fan-out limit, only for the foreach's fields. */
	struct buf big;
	buf_init(&big, 0);
	buf_adds(&big, "[");
	for (int i = 0; i <= WIDGET_MAX_FANOUT; i++)
		buf_addf(&big, "%s{\"id\": \"f%d\"}", i ? "," : "", i);
	buf_adds(&big, "]");
	s = widget_sample_new(d, "http://st:8384", "K", NULL, NOW);
	widget_sample_requests(s, &rq);
	widget_sample_answer(s, 0, 200, big.data, big.len, NULL);
	assert_int_equal(widget_sample_requests(s, &rq), 0);
	v = run(s, &n);
	assert_true(v[0].has_value && v[0].value == WIDGET_MAX_FANOUT + 1);
	assert_string_equal(v[1].error_class, "limit");
	assert_string_equal(v[2].error_class, "limit");
	widget_sample_free(s);
	buf_release(&big);

	/* One failed status: the foreach's fields fail, the folder count stays. */
	s = widget_sample_new(d, "http://st:8384", "K", NULL, NOW);
	widget_sample_requests(s, &rq);
	widget_sample_answer(s, 0, 200, folders, strlen(folders), NULL);
	widget_sample_requests(s, &rq);
	widget_sample_answer(s, 0, 200, s0, strlen(s0), NULL);
	widget_sample_answer(s, 1, 500, "oops", 4, NULL);
	v = run(s, &n);
	assert_true(v[0].has_value);
	assert_string_equal(v[1].error_class, "http");
	assert_string_equal(v[2].message, "HTTP 500");
	widget_sample_free(s);
	widget_def_free(d);
}

static void error_classes(void **state)
{
	(void)state;
	struct widget_def *d = parse_ok(OVERSEERR);
	static const struct {
		long status;
		const char *body, *terr, *eclass, *msg;
	} cases[] = {
	    {401, "", NULL, "auth", "HTTP 401: the API key was refused"},
	    {403, "", NULL, "auth", "HTTP 403: the API key was refused"},
	    {500, "<html>", NULL, "http", "HTTP 500"},
	    {404, "{}", NULL, "http", "HTTP 404"},
	    {0, NULL, "timeout: Operation timed out after 1000 ms", "timeout",
	     "Operation timed out after 1000 ms"},
	    {0, NULL, "Connection timed out after 10001 milliseconds", "timeout", NULL},
	    {0, NULL, "Failed to connect to h port 1: Connection refused", "connect", NULL},
	    {0, NULL, "toobig: the answer is larger than 4 MiB", "toobig", NULL},
	    {0, NULL, "SSL certificate problem", "transport", NULL},
	    {200, "{\"pending\": 2, \"tv\"", NULL, "json", NULL},
	    {200, "{\"tv\": 2}", NULL, "missing", "$.pending: no member 'pending'"},
	    {200, "{\"pending\": \"2\", \"tv\": 1}", NULL, "missing", "$.pending is not a number"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct widget_sample *s = widget_sample_new(d, "http://h", "k3y", NULL, NOW);
		const struct widget_request *rq;
		size_t n;
		const char *ok = "{\"open\": 1}";
		widget_sample_requests(s, &rq);
		widget_sample_answer(s, 0, cases[i].status, cases[i].body,
		                     cases[i].body ? strlen(cases[i].body) : 0, cases[i].terr);
		widget_sample_answer(s, 1, 200, ok, strlen(ok), NULL);
		const struct widget_value *v = run(s, &n);
		assert_int_equal(n, 3);
		assert_false(v[0].has_value);
		assert_string_equal(v[0].error_class, cases[i].eclass);
		assert_non_null(v[0].message);
		if (cases[i].msg)
			assert_string_equal(v[0].message, cases[i].msg);
		/* The other request's field is not poisoned. */
		assert_true(v[2].has_value && v[2].value == 1);
		assert_null(v[2].message);
		widget_sample_free(s);
	}
	widget_def_free(d);
}

static void key_never_in_messages(void **state)
{
	(void)state;
	struct widget_def *d = parse_ok(OVERSEERR);
	struct widget_sample *s = widget_sample_new(d, "http://h", "s3cr/et", NULL, NOW);
	const struct widget_request *rq;
	size_t n;
	widget_sample_requests(s, &rq);
	widget_sample_answer(s, 0, 0, NULL, 0, "transport: bad URL http://h/?apikey=s3cr%2Fet");
	widget_sample_answer(s, 1, 200, "{\"s3cr/et\": ", 12, NULL);
	const struct widget_value *v = run(s, &n);
	for (size_t i = 0; i < n; i++) {
		assert_null(strstr(v[i].message, "s3cr"));
		assert_non_null(strstr(v[i].message, v[i].error_class[0] == 'j' ? "" : "***"));
	}
	widget_sample_free(s);
	/* A key with a line break cannot become a header. */
	s = widget_sample_new(d, "http://h", "a\r\nX-Evil: 1", NULL, NOW);
	assert_int_equal(widget_sample_requests(s, &rq), 0);
	v = run(s, &n);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].error_class, "config");
	widget_sample_free(s);
	widget_def_free(d);
}

static void json_widget(void **state)
{
	(void)state;
	struct widget_defs *r = NULL;
	widget_defs_load(&r, NULL, NULL, NULL);
	const struct widget_def *d = widget_defs_find(r, "json");
	json_t *cfg =
	    json_pack("{s:[{s:s,s:s,s:s,s:s},{s:s,s:s,s:s,s:s,s:s}]}", "fields", "key", "a",
	              "label", "A", "url", "/stats", "path", "$.a", "key", "b", "label", "B", "url",
	              "http://other/x?y=1", "path", "$.list", "reduce", "length");
	struct widget_sample *s = widget_sample_new(d, "http://h", "K", cfg, NOW);
	const struct widget_request *rq;
	size_t n;
	assert_int_equal(widget_sample_requests(s, &rq), 2);
	assert_string_equal(rq[0].url, "http://h/stats");
	assert_string_equal(rq[1].url, "http://other/x?y=1");
	assert_string_equal(rq[0].headers[1], "X-Api-Key: K");
	widget_sample_answer(s, 0, 200, "{\"a\": 7}", 8, NULL);
	widget_sample_answer(s, 1, 200, "{\"list\": [1, 2]}", 16, NULL);
	const struct widget_value *v = run(s, &n);
	assert_int_equal(n, 2);
	assert_true(v[0].value == 7 && v[1].value == 2);
	widget_sample_free(s);
	json_decref(cfg);
	/* No or a bad config: one config error. */
	cfg = json_pack("{s:[{s:s}]}", "fields", "key", "a");
	s = widget_sample_new(d, "http://h", NULL, cfg, NOW);
	v = run(s, &n);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].error_class, "config");
	assert_non_null(strstr(v[0].message, "fields[0]"));
	widget_sample_free(s);
	json_decref(cfg);
	s = widget_sample_new(d, "http://h", NULL, NULL, NOW);
	v = run(s, &n);
	assert_int_equal(n, 1);
	widget_sample_free(s);
	widget_defs_free(r);
}

static void paths_and_templates(void **state)
{
	(void)state;
	struct widget_path p;
	const char *why;
	assert_int_equal(widget_path_parse(&p, "$.a[0][*][\"b c\"].d-e", &why), 0);
	assert_int_equal(p.nsteps, 5);
	assert_int_equal(p.steps[2].kind, WIDGET_STEP_ALL);
	assert_string_equal(p.steps[3].member, "b c");
	widget_path_release(&p);
	assert_int_equal(widget_path_parse(&p, "$", &why), 0);
	assert_int_equal(p.nsteps, 0);
	widget_path_release(&p);
	static const char *const badp[] = {
	    "a",  "$.",     "$[",     "$[x]",
	    "$a", "$[\"a]", "$.a..b", "$.a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q"};
	for (size_t i = 0; i < sizeof(badp) / sizeof(badp[0]); i++)
		assert_int_equal(widget_path_parse(&p, badp[i], &why), -1);
	struct buf out;
	buf_init(&out, 0);
	json_t *item = json_pack("{s:{s:i}}", "a", "b", 5);
	assert_int_equal(widget_template_expand(&out, "{now-12h}/{item.a.b}/{{}}", NOW, item, &why),
	                 0);
	assert_string_equal(out.data, "2024-03-10T00:00:00Z/5/{}");
	buf_reset(&out);
	assert_int_equal(widget_template_expand(&out, "{item.z}", NOW, item, &why), -1);
	assert_int_equal(widget_template_expand(&out, "{item}", NOW, NULL, &why), -1);
	assert_int_equal(widget_template_expand(&out, "{now", NOW, NULL, &why), -1);
	assert_int_equal(widget_template_expand(&out, "a}", NOW, NULL, &why), -1);
	assert_int_equal(widget_template_check("{now-30m}{now-5s}{now}", 0, &why), 0);
	json_decref(item);
	buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(builtins_parse),   cmocka_unit_test(bad_definitions),
	    cmocka_unit_test(dedup_and_header), cmocka_unit_test(key_as_query_and_now),
	    cmocka_unit_test(reductions),       cmocka_unit_test(foreach_fanout),
	    cmocka_unit_test(error_classes),    cmocka_unit_test(key_never_in_messages),
	    cmocka_unit_test(json_widget),      cmocka_unit_test(paths_and_templates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
