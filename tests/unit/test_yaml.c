#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../store/yaml.h"
#include "../../common/xalloc.h"
#include "../../common/banned.h"

/* Tests run from the repository root (make test); PORTOLAN_UPDATE_FIXTURES=1 rewrites goldens. */
#define FIXTURE_FULL "tests/fixtures/yaml/full-record.yml"

static void full_record(struct store_record *r)
{
	store_record_init(r);
	r->id = 7;
	r->host = xstrdup("docker01");
	r->container_name = xstrdup("yes");
	r->stack_name = xstrdup("1");
	r->image_registry = xstrdup("ghcr.io");
	r->image_owner = xstrdup("0x10");
	r->image_name = xstrdup("");
	r->image_tag = xstrdup(" lead");
	r->image_digest = xstrdup("sha256:0123abcd");
	r->image_icon = xstrdup("a: b");
	r->image_icon_source = STORE_ICON_UI_EDIT;
	r->group_name = xstrdup("#x");
	r->sort_priority.set = 1;
	r->sort_priority.value = -3;
	r->internalurl = xstrdup("http://nginx.lan:8080/a#b");
	r->internalurl_source = STORE_SRC_EXPLICIT_LABEL;
	r->externalurl = xstrdup("https://example.org/?q=\"x\"&r=\\");
	r->externalurl_source = STORE_SRC_UI_EDIT;
	r->internal_health_check_enabled = 1;
	r->is_static = 1;
	r->networks = xstrdup("[{\"name\":\"- x\",\"aliases\":[\"null\",\"~\"]},"
	                      "{\"name\":\"bridge\",\"aliases\":[]}]");
	r->exposed_ports = xstrdup("[\"80/tcp\",\"53/udp\"]");
	r->published_ports = xstrdup("[{\"container_port\":80,\"protocol\":\"tcp\","
	                             "\"host_ip\":\"0.0.0.0\",\"host_port\":8080}]");
	r->exposure_observations = xstrdup(
	    "[{\"layer\":\"traefik\",\"hostname\":\"app.example.org\",\"tls\":true,"
	    "\"path_prefix\":\"/api/\",\"auth\":null,\"details\":{\"router\":\"app@docker\","
	    "\"entrypoints\":[\"websecure\"],\"weight\":1.5,\"middlewares\":{},"
	    "\"nested\":[[1,2],[]],\"note\":\"\xc3\x9cn\xc3\xaf"
	    "code \\\"q\\\" \\\\ back\\ttab\"}},"
	    "{\"layer\":\"dockflare\",\"hostname\":null,\"tls\":false,\"path_prefix\":null,"
	    "\"auth\":\"cloudflare_access:p\",\"details\":null}]");
	r->notifier_reported_group_name = xstrdup("\xc3\x9cn\xc3\xaf"
	                                          "code \"quotes\" \\ back\\slash\ttab");
	r->notifier_reported_sort_priority.set = 1;
	r->notifier_reported_sort_priority.value = 10;
	r->widget =
	    xstrdup("{\"type\":\"json\",\"url\":\"http://10.0.0.5:8080/api\",\"fields\":[{\"key\":"
	            "\"jobs\",\"label\":\"Jobs\",\"url\":\"/api/stats\",\"path\":\"$.data.jobs\","
	            "\"unit\":null,\"reduce\":null}]}");
	r->notes = xstrdup("# Notes\n\nRuns *nginx* \xe2\x80\x94 see `docs`.\n    code block\n"
	                   "\ttabbed: yes\nlast line\n");
}

static char *emit(const struct store_record *r)
{
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(store_yaml_emit_record(r, &b), 0);
	return buf_detach(&b, NULL);
}

/* parse(emit(r)) == r on the inventory, and emitting that gives the same bytes. */
static void assert_roundtrip(const struct store_record *r)
{
	char *text = emit(r);
	struct store_record q;
	struct err e = {0};
	int rc = store_yaml_parse_record(&q, text, strlen(text), "rt.yml", &e);
	if (rc)
		fail_msg("%s\n%s", e.msg, text);
	if (!store_record_equal(r, &q, STORE_FIELD_INVENTORY))
		fail_msg("record changed in a round trip:\n%s", text);
	char *again = emit(&q);
	assert_string_equal(again, text);
	free(again);
	free(text);
	store_record_release(&q);
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct buf b;
	buf_init(&b, 0);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	return buf_detach(&b, NULL);
}

static void test_roundtrip_full(void **state)
{
	(void)state;
	struct store_record r;
	full_record(&r);
	assert_roundtrip(&r);
	store_record_release(&r);
}

static void test_golden_full(void **state)
{
	(void)state;
	struct store_record r;
	full_record(&r);
	char *text = emit(&r);
	const char *update = getenv("PORTOLAN_UPDATE_FIXTURES");
	if (update && !strcmp(update, "1")) {
		FILE *f = fopen(FIXTURE_FULL, "wb");
		assert_non_null(f);
		fputs(text, f);
		fclose(f);
	}
	char *want = read_file(FIXTURE_FULL);
	if (!want)
		fail_msg("cannot read '%s' (run from the repository root)", FIXTURE_FULL);
	assert_string_equal(text, want);
	/* Deterministic: a copy emits the same bytes. */
	struct store_record c;
	store_record_copy(&c, &r);
	char *again = emit(&c);
	assert_string_equal(again, text);
	free(again);
	store_record_release(&c);
	free(want);
	free(text);
	store_record_release(&r);
}

static const char *const nasty[] = {
    "yes",
    "Yes",
    "NO",
    "on",
    "Off",
    "y",
    "N",
    "true",
    "False",
    "null",
    "Null",
    "NULL",
    "~",
    "",
    "1",
    "-1",
    "+1",
    "0x10",
    "0o17",
    "017",
    "0b101",
    "1_000",
    "1:30",
    "1.5",
    "1e3",
    "1E3",
    ".5",
    "1.",
    ".inf",
    "-.Inf",
    ".NaN",
    "1.27.3",
    "0.0.0.0",
    "2024-01-31",
    "2024-01-31T12:00:00Z",
    " lead",
    "trail ",
    "a: b",
    "a:",
    ":",
    "a:b",
    "#x",
    "a #b",
    "a#b",
    "- x",
    "-",
    "--",
    "---",
    "...",
    "? x",
    "!tag",
    "&anchor",
    "*alias",
    "|",
    ">",
    "%YAML",
    "@x",
    "`x",
    "'single'",
    "\"double\"",
    "[a]",
    "{a}",
    "a,b",
    "<<",
    "=",
    "back\\slash",
    "tab\there",
    "new\nline",
    "cr\rhere",
    "\x01\x02\x1b\x7f",
    "nel\xc2\x85",
    "ls\xe2\x80\xa8",
    "bom\xef\xbb\xbf",
    "nc\xef\xbf\xbe",
    "\xc3\x84pfel",
    "\xf0\x9f\x98\x80",
    "nb\xc2\xa0sp",
    "multi\n\nblank\n",
    "a\nb",
    "a\nb\n",
    "a\nb\n\n\n",
    "trailing \nspaces",
    "trailing\t\ntab",
    "\nleading",
    " indented\nfirst",
    "a\n  b\n\tc\n",
    "a\r\nb\r\n",
    "#h\n- x\n: y\n---\n...\n",
    "\n",
    "\n\n",
    "a\n \n",
    "last space\nline ",
};

static void test_roundtrip_nasty_strings(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(nasty) / sizeof(*nasty); i++) {
		struct store_record r;
		full_record(&r);
		free(r.stack_name);
		free(r.notifier_reported_group_name);
		free(r.notes);
		free(r.exposed_ports);
		r.stack_name = xstrdup(nasty[i]);
		r.notifier_reported_group_name = xstrdup(nasty[i]);
		r.notes = xstrdup(nasty[i]);
		json_t *ports = json_pack("[s]", nasty[i]);
		r.exposed_ports = json_dumps(ports, JSON_COMPACT);
		json_decref(ports);
		assert_roundtrip(&r);
		store_record_release(&r);
	}
}

/* The line emitted for stack_name = s. */
static void assert_emitted_as(const char *s, const char *line)
{
	struct store_record r;
	full_record(&r);
	free(r.stack_name);
	r.stack_name = xstrdup(s);
	char *text = emit(&r);
	char want[256];
	snprintf(want, sizeof(want), "\nstack_name: %s\n", line);
	if (!strstr(text, want))
		fail_msg("expected '%s' in:\n%s", want + 1, text);
	free(text);
	store_record_release(&r);
}

static void test_scalar_styles(void **state)
{
	(void)state;
	assert_emitted_as("docker01", "docker01");
	assert_emitted_as("1.27.3-alpine", "1.27.3-alpine");
	assert_emitted_as("http://a:8080/x#y", "http://a:8080/x#y");
	assert_emitted_as("\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9");
	assert_emitted_as("a b", "a b");
	assert_emitted_as("yes", "\"yes\"");
	assert_emitted_as("1.27.3", "\"1.27.3\"");
	assert_emitted_as("", "\"\"");
	assert_emitted_as("a: b", "\"a: b\"");
	assert_emitted_as("say \"hi\" \\o/", "say \"hi\" \\o/");
	assert_emitted_as("\"hi\" \\o/", "\"\\\"hi\\\" \\\\o/\"");
	assert_emitted_as("t\tn\nr\r", "\"t\\tn\\nr\\r\"");
	assert_emitted_as("\x01\x7f\xc2\x85", "\"\\x01\\x7F\\x85\"");
	assert_emitted_as("\xe2\x80\xa8\xef\xbb\xbf", "\"\\u2028\\uFEFF\"");
}

/* The notes part of the record for notes = s. */
static void assert_notes_as(const char *s, const char *want)
{
	struct store_record r;
	full_record(&r);
	free(r.notes);
	r.notes = xstrdup(s);
	char *text = emit(&r);
	const char *notes = strstr(text, "\nnotes:");
	assert_non_null(notes);
	assert_string_equal(notes + 1, want);
	free(text);
	store_record_release(&r);
}

static void test_notes_styles(void **state)
{
	(void)state;
	assert_notes_as("one line", "notes: one line\n");
	assert_notes_as("a\n\n  b\n", "notes: |\n  a\n\n    b\n");
	assert_notes_as("a\nb", "notes: |-\n  a\n  b\n");
	assert_notes_as("a\nb\n\n", "notes: |+\n  a\n  b\n\n");
	assert_notes_as("a \nb\n", "notes: \"a \\nb\\n\"\n");
	assert_notes_as(" a\nb\n", "notes: \" a\\nb\\n\"\n");
	assert_notes_as("\na\n", "notes: \"\\na\\n\"\n");
	assert_notes_as("a\r\nb\r\n", "notes: \"a\\r\\nb\\r\\n\"\n");
}

static void test_emit_minimal(void **state)
{
	(void)state;
	struct store_record r;
	store_record_init(&r);
	r.host = xstrdup("h");
	r.container_name = xstrdup("c");
	char *text = emit(&r);
	assert_string_equal(text, "id: null\n"
	                          "host: h\n"
	                          "container_name: c\n"
	                          "stack_name: null\n"
	                          "image_registry: null\n"
	                          "image_owner: null\n"
	                          "image_name: null\n"
	                          "image_tag: null\n"
	                          "image_digest: null\n"
	                          "image_icon: null\n"
	                          "image_icon_source: null\n"
	                          "group_name: null\n"
	                          "sort_priority: null\n"
	                          "internalurl: null\n"
	                          "internalurl_source: null\n"
	                          "externalurl: null\n"
	                          "externalurl_source: null\n"
	                          "internal_health_check_enabled: false\n"
	                          "external_health_check_enabled: false\n"
	                          "health_check_timeout: null\n"
	                          "is_static: false\n"
	                          "networks: null\n"
	                          "exposed_ports: null\n"
	                          "published_ports: null\n"
	                          "exposure_observations: null\n"
	                          "notifier_reported_group_name: null\n"
	                          "notifier_reported_sort_priority: null\n"
	                          "widget: null\n"
	                          "notes: null\n");
	free(text);
	assert_roundtrip(&r);
	free(r.networks);
	r.networks = xstrdup("[]");
	r.exposure_observations = xstrdup("[]");
	assert_roundtrip(&r);
	store_record_release(&r);
}

static void parse_ok(const char *text, struct store_record *r)
{
	struct err e = {0};
	int rc = store_yaml_parse_record(r, text, strlen(text), "f.yml", &e);
	if (rc)
		fail_msg("%s", e.msg);
}

static void test_parse_short_file(void **state)
{
	(void)state;
	struct store_record r;
	parse_ok("# hand-written\nhost: nas\ncontainer_name: plex\n", &r);
	assert_int_equal(r.id, 0);
	assert_string_equal(r.host, "nas");
	assert_string_equal(r.container_name, "plex");
	assert_null(r.stack_name);
	assert_null(r.notes);
	assert_null(r.networks);
	assert_false(r.is_static);
	assert_false(r.sort_priority.set);
	assert_int_equal(r.internalurl_source, STORE_SRC_NONE);
	store_record_release(&r);
}

static void test_parse_lenient(void **state)
{
	(void)state;
	struct store_record r;
	parse_ok("id: 12\n"
	         "'host': \"nas\"\n"
	         "container_name: plex\n"
	         "stack_name: 2024\n"
	         "group_name: 1.50\n"
	         "image_tag: true\n"
	         "image_name: multi\n  line plain\n"
	         "is_static: yes\n"
	         "internal_health_check_enabled: 1\n"
	         "external_health_check_enabled: null\n"
	         "sort_priority: 0x10\n"
	         "notifier_reported_sort_priority: 5.0\n"
	         "internalurl: http://nas:32400/web\n"
	         "internalurl_source: explicit_label\n"
	         "image_icon_source: ~\n"
	         "notes:\n"
	         "published_ports: [{container_port: '32400', protocol: tcp, host_ip: '::',"
	         " host_port: 32400.0}]\n"
	         "exposure_observations:\n  - layer: ''\n  - layer: traefik\n    tls: on\n",
	         &r);
	assert_int_equal(r.id, 12);
	assert_string_equal(r.host, "nas");
	assert_string_equal(r.stack_name, "2024");
	assert_string_equal(r.group_name, "1.50");
	assert_string_equal(r.image_tag, "true");
	assert_string_equal(r.image_name, "multi line plain");
	assert_true(r.is_static);
	assert_true(r.internal_health_check_enabled);
	assert_false(r.external_health_check_enabled);
	assert_true(r.sort_priority.set);
	assert_int_equal(r.sort_priority.value, 16);
	assert_int_equal(r.notifier_reported_sort_priority.value, 5);
	assert_int_equal(r.internalurl_source, STORE_SRC_EXPLICIT_LABEL);
	assert_int_equal(r.image_icon_source, STORE_ICON_NONE);
	assert_null(r.notes);
	assert_string_equal(r.published_ports, "[{\"container_port\":32400,\"protocol\":\"tcp\","
	                                       "\"host_ip\":\"::\",\"host_port\":32400}]");
	assert_string_equal(r.exposure_observations,
	                    "[{\"layer\":\"traefik\",\"hostname\":null,\"tls\":true,"
	                    "\"path_prefix\":null,\"auth\":null,\"details\":null}]");
	store_record_release(&r);
}

struct bad_case {
	const char *text;
	const char *msg;
};

#define HC "host: h\ncontainer_name: c\n"

static const struct bad_case bad_records[] = {
    {"host: [a\n", "f.yml:2:1: invalid YAML: did not find expected ',' or ']'"},
    {"host: a\n  b: c\n",
     "f.yml:2:4: invalid YAML: mapping values are not allowed in this context"},
    {"\tfoo: 1\n", "f.yml:1:1: invalid YAML: found character that cannot start any token"},
    {"host: h\ncontainer_name: \xff\n", "f.yml:2:17: invalid YAML: invalid leading UTF-8 octet"},
    {"- a\n", "f.yml:1:1: expected a mapping of field names to values"},
    {"", "f.yml:1:1: expected a mapping of field names to values"},
    {"plain\n", "f.yml:1:1: expected a mapping of field names to values"},
    {HC "foo: 1\n", "f.yml:3:1: unknown key 'foo'"},
    {HC "container_id: abc\n", "f.yml:3:1: unknown key 'container_id'"},
    {HC "last_updated: null\n", "f.yml:3:1: unknown key 'last_updated'"},
    {"host: a\ncontainer_name: c\nhost: b\n", "f.yml:3:1: duplicate key 'host'"},
    {HC "sort_priority: abc\n", "f.yml:3:16: 'sort_priority' must be an integer or null"},
    {HC "sort_priority: '5'\n", "f.yml:3:16: 'sort_priority' must be an integer or null"},
    {HC "sort_priority: 1.5\n", "f.yml:3:16: 'sort_priority' must be an integer or null"},
    {HC "sort_priority: [1]\n", "f.yml:3:16: 'sort_priority' must be an integer or null"},
    {HC "is_static: maybe\n", "f.yml:3:12: 'is_static' must be true or false"},
    {HC "is_static: \"true\"\n", "f.yml:3:12: 'is_static' must be true or false"},
    {HC "is_static: 2\n", "f.yml:3:12: 'is_static' must be true or false"},
    {HC "published_ports:\n  - container_port: 80\n    protocol: tcp\n    host_ip: 0.0.0.0\n"
        "    host_port: abc\n",
     "f.yml:7:16: published_ports[0].host_port: Input should be a valid integer, unable to "
     "parse string as an integer"},
    {HC "published_ports:\n  - container_port: 80\n    protocol: tcp\n    host_ip: 0.0.0.0\n",
     "f.yml:4:5: published_ports[0].host_port: Field required"},
    {HC "networks:\n  - name: x\n  - name: y\n    aliases: [a, b]\n    bar: 1\n",
     "f.yml:7:5: unknown key 'networks[1].bar'"},
    {HC "networks:\n  - name: x\n    aliases: [a, 1]\n",
     "f.yml:5:18: networks[0].aliases[1]: Input should be a valid string"},
    {HC "networks: abc\n", "f.yml:3:11: networks: Input should be a valid list"},
    {HC "exposure_observations: [{layer: t, tls: maybe}]\n",
     "f.yml:3:41: exposure_observations[0].tls: Input should be a valid boolean, unable to "
     "interpret input"},
    {HC "internalurl_source: bogus\n",
     "f.yml:3:21: unknown source 'bogus' for 'internalurl_source'"},
    {HC "image_icon_source: synthesized\n",
     "f.yml:3:20: unknown source 'synthesized' for 'image_icon_source'"},
    {"container_name: c\n", "f.yml:1:1: missing key 'host'"},
    {"\n\nhost: h\n", "f.yml:3:1: missing key 'container_name'"},
    {"host: ''\ncontainer_name: c\n", "f.yml:1:7: 'host' must be a non-empty string"},
    {"host: h\ncontainer_name:\n", "f.yml:2:16: 'container_name' must be a non-empty string"},
    {"host: {a: 1}\ncontainer_name: c\n", "f.yml:1:7: 'host' must be a string"},
    {HC "stack_name: [a]\n", "f.yml:3:13: 'stack_name' must be a string"},
    {"id: 0\n" HC, "f.yml:1:5: 'id' must be a positive integer"},
    {"id: -3\n" HC, "f.yml:1:5: 'id' must be a positive integer"},
    {"id: abc\n" HC, "f.yml:1:5: 'id' must be a positive integer"},
    {"id: \"5\"\n" HC, "f.yml:1:5: 'id' must be a positive integer"},
    {"id: 99999999999999999999\n" HC, "f.yml:1:5: integer '99999999999999999999' out of range"},
    {HC "internalurl: ftp://nas/\n", "f.yml:3:14: 'internalurl' must be an http or https URL"},
    {HC "externalurl: 'http:// x'\n", "f.yml:3:14: 'externalurl' must be an http or https URL"},
    {HC "externalurl: ''\n", "f.yml:3:14: 'externalurl' must be an http or https URL"},
    {"host: &a h\ncontainer_name: *a\n", "f.yml:1:7: anchors are not supported"},
    {"host: h\ncontainer_name: *a\n", "f.yml:2:17: aliases are not supported"},
    {HC "sort_priority: !!int 5\n", "f.yml:3:16: tag 'tag:yaml.org,2002:int' is not supported"},
    {"---\n" HC "---\n" HC, "f.yml:4:1: more than one document"},
    {HC "notes: \"a\\0b\"\n", "f.yml:3:8: NUL characters are not supported"},
    {HC "? [a]\n: 1\n", "f.yml:3:3: mapping keys must be scalars"},
};

static void test_parse_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_records) / sizeof(*bad_records); i++) {
		struct store_record r;
		memset(&r, 0x5a, sizeof(r));
		struct err e = {0};
		const char *t = bad_records[i].text;
		int rc = store_yaml_parse_record(&r, t, strlen(t), "f.yml", &e);
		if (rc != ERR_INVAL)
			fail_msg("case %zu: parsed without error:\n%s", i, t);
		if (strcmp(e.msg, bad_records[i].msg))
			fail_msg("case %zu:\n got '%s'\nwant '%s'", i, e.msg, bad_records[i].msg);
		/* *out untouched */
		const unsigned char *p = (const unsigned char *)&r;
		for (size_t k = 0; k < sizeof(r); k++)
			assert_int_equal(p[k], 0x5a);
	}
}

static void test_parse_host_too_long(void **state)
{
	(void)state;
	char text[1024];
	char name[300];
	memset(name, 'x', 256);
	name[256] = '\0';
	snprintf(text, sizeof(text), "host: %s\ncontainer_name: c\n", name);
	struct store_record r;
	struct err e = {0};
	assert_int_equal(store_yaml_parse_record(&r, text, strlen(text), "f.yml", &e), ERR_INVAL);
	assert_string_equal(e.msg, "f.yml:1:7: 'host' is longer than 255 bytes");
	name[255] = '\0';
	snprintf(text, sizeof(text), "host: %s\ncontainer_name: c\n", name);
	parse_ok(text, &r);
	store_record_release(&r);
}

static void test_depth_limit(void **state)
{
	(void)state;
	char text[400];
	size_t n = 0;
	for (int i = 0; i < STORE_YAML_MAX_DEPTH; i++)
		text[n++] = '[';
	for (int i = 0; i < STORE_YAML_MAX_DEPTH; i++)
		text[n++] = ']';
	text[n] = '\0';
	json_t *v = NULL;
	struct err e = {0};
	assert_int_equal(store_yaml_parse_json(&v, text, n, "d.yml", &e), 0);
	json_decref(v);
	memmove(text + 1, text, n + 1);
	text[0] = '[';
	memcpy(text + n + 1, "]", 2);
	assert_int_equal(store_yaml_parse_json(&v, text, n + 2, "d.yml", &e), ERR_INVAL);
	assert_string_equal(e.msg, "d.yml:1:65: nesting deeper than 64 levels");
}

static void test_emit_json_golden(void **state)
{
	(void)state;
	json_t *v =
	    json_loads("{\"groups\": [{\"name\": \"Media\", \"icon\": null, \"sort_priority\": 1},"
	               " {\"name\": \"on\", \"icon\": \"tv.svg\", \"sort_priority\": -2.5}],"
	               " \"empty\": {}, \"list\": [], \"nested\": [[1, [true]], [{\"a\": false}]],"
	               " \"big\": 1e20, \"key: x\": \"v\"}",
	               0, NULL);
	assert_non_null(v);
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(store_yaml_emit_json(v, &b), 0);
	assert_string_equal(b.data, "groups:\n"
	                            "  - name: Media\n"
	                            "    icon: null\n"
	                            "    sort_priority: 1\n"
	                            "  - name: \"on\"\n"
	                            "    icon: tv.svg\n"
	                            "    sort_priority: -2.5\n"
	                            "empty: {}\n"
	                            "list: []\n"
	                            "nested:\n"
	                            "  - - 1\n"
	                            "    - - true\n"
	                            "  - - a: false\n"
	                            "big: 1.0e+20\n"
	                            "\"key: x\": v\n");
	json_t *w = NULL;
	struct err e = {0};
	assert_int_equal(store_yaml_parse_json(&w, b.data, b.len, "g.yml", &e), 0);
	assert_true(json_equal(v, w));
	json_decref(w);
	json_decref(v);

	const char *tops[][2] = {{"[]", "[]\n"},           {"{}", "{}\n"},
	                         {"\"yes\"", "\"yes\"\n"}, {"3", "3\n"},
	                         {"null", "null\n"},       {"[\"a\", {}]", "- a\n- {}\n"}};
	for (size_t i = 0; i < sizeof(tops) / sizeof(*tops); i++) {
		v = json_loads(tops[i][0], JSON_DECODE_ANY, NULL);
		buf_reset(&b);
		assert_int_equal(store_yaml_emit_json(v, &b), 0);
		assert_string_equal(b.data, tops[i][1]);
		json_decref(v);
	}
	buf_release(&b);
}

static void test_parse_json_core_schema(void **state)
{
	(void)state;
	const char *text = "null1: ~\nnull2: null\nnull3:\nnull4: NULL\n"
	                   "t: true\nf: False\nyes: yes\nno: 'no'\n"
	                   "i: 42\nneg: -7\nplus: +3\nhex: 0x1F\noct: 0o17\nlead0: 017\n"
	                   "f1: 1.5\nf2: 1e3\nf3: .5\nf4: -2.\n"
	                   "s1: '1'\ns2: \"true\"\ns3: 1.2.3\ns4: 0x\ns5: 1_000\n"
	                   "lit: |\n  a\n  b\n"
	                   "seq: [1, a, {k: v}]\n"
	                   "1: int key\n";
	json_t *v = NULL;
	struct err e = {0};
	assert_int_equal(store_yaml_parse_json(&v, text, strlen(text), "c.yml", &e), 0);
	char *got = json_dumps(v, JSON_COMPACT);
	assert_string_equal(got,
	                    "{\"null1\":null,\"null2\":null,\"null3\":null,\"null4\":null,"
	                    "\"t\":true,\"f\":false,\"yes\":\"yes\",\"no\":\"no\","
	                    "\"i\":42,\"neg\":-7,\"plus\":3,\"hex\":31,\"oct\":15,\"lead0\":17,"
	                    "\"f1\":1.5,\"f2\":1000.0,\"f3\":0.5,\"f4\":-2.0,"
	                    "\"s1\":\"1\",\"s2\":\"true\",\"s3\":\"1.2.3\",\"s4\":\"0x\","
	                    "\"s5\":\"1_000\",\"lit\":\"a\\nb\\n\",\"seq\":[1,\"a\",{\"k\":\"v\"}],"
	                    "\"1\":\"int key\"}");
	free(got);
	json_decref(v);

	assert_int_equal(store_yaml_parse_json(&v, "", 0, "c.yml", &e), 0);
	assert_true(json_is_null(v));
	json_decref(v);
	assert_int_equal(store_yaml_parse_json(&v, "# nothing\n", 10, "c.yml", &e), 0);
	assert_true(json_is_null(v));
	json_decref(v);
	assert_int_equal(store_yaml_parse_json(&v, "!!str 12\n", 9, "c.yml", &e), 0);
	assert_string_equal(json_string_value(v), "12");
	json_decref(v);
}

static void test_parse_json_errors(void **state)
{
	(void)state;
	static const struct bad_case cases[] = {
	    {"a: 99999999999999999999\n", "j.yml:1:4: integer '99999999999999999999' out of range"},
	    {"a:\n  - .inf\n", "j.yml:2:5: number '.inf' cannot be represented"},
	    {"a: [1e999]\n", "j.yml:1:5: number '1e999' cannot be represented"},
	    {"a: 1\na: 2\n", "j.yml:2:1: duplicate key 'a'"},
	    {"a: 1\n'a': 2\n", "j.yml:2:1: duplicate key 'a'"},
	    {"- !custom x\n", "j.yml:1:3: tag '!custom' is not supported"},
	    {"- !!map {}\n", "j.yml:1:3: tag 'tag:yaml.org,2002:map' is not supported"},
	    {"a: *x\n", "j.yml:1:4: aliases are not supported"},
	    {"{a: 1\n", "j.yml:2:1: invalid YAML: did not find expected ',' or '}'"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		json_t *v = (json_t *)"untouched";
		struct err e = {0};
		int rc =
		    store_yaml_parse_json(&v, cases[i].text, strlen(cases[i].text), "j.yml", &e);
		assert_int_equal(rc, ERR_INVAL);
		assert_string_equal(e.msg, cases[i].msg);
		assert_string_equal((const char *)v, "untouched");
	}
}

static void test_doc_positions(void **state)
{
	(void)state;
	const char *text = "groups:\n"
	                   "  - name: Media\n"
	                   "    icon: tv.svg\n"
	                   "  - name: Tools\n"
	                   "    icn: x\n";
	struct store_yaml_doc *d = NULL;
	struct err e = {0};
	assert_int_equal(store_yaml_doc_parse(&d, text, strlen(text), "groups.yml", &e), 0);
	json_t *v = NULL;
	assert_int_equal(store_yaml_doc_json(d, &v, &e), 0);
	assert_int_equal(json_array_size(json_object_get(v, "groups")), 2);
	json_decref(v);

	json_t *loc = json_pack("[s,i,s]", "groups", 0, "icon");
	assert_int_equal(store_yaml_doc_errf(d, loc, &e, "no such icon '%s'", "tv.svg"), ERR_INVAL);
	assert_string_equal(e.msg, "groups.yml:3:11: no such icon 'tv.svg'");
	json_decref(loc);
	/* A missing key points at its nearest ancestor. */
	loc = json_pack("[s,i,s]", "groups", 1, "icon");
	store_yaml_doc_errf(d, loc, &e, "missing icon");
	assert_string_equal(e.msg, "groups.yml:4:5: missing icon");
	json_decref(loc);
	loc = json_pack("[s,i]", "groups", 9);
	store_yaml_doc_errf(d, loc, &e, "x");
	assert_string_equal(e.msg, "groups.yml:2:3: x");
	json_decref(loc);
	store_yaml_doc_errf(d, NULL, &e, "root");
	assert_string_equal(e.msg, "groups.yml:1:1: root");

	struct store_verr verr;
	store_verr_init(&verr);
	loc = json_pack("[s,i,s]", "groups", 1, "icn");
	store_verr_unknown(&verr, loc);
	json_decref(loc);
	assert_int_equal(store_yaml_doc_verr(d, &verr, &e), ERR_INVAL);
	assert_string_equal(e.msg, "groups.yml:5:5: unknown key 'groups[1].icn'");
	store_verr_release(&verr);
	loc = json_pack("[s,i,s]", "groups", 0, "name");
	store_verr_add(&verr, loc, "string_too_long", "too long");
	json_decref(loc);
	store_yaml_doc_verr(d, &verr, &e);
	assert_string_equal(e.msg, "groups.yml:2:11: groups[0].name: too long");
	store_verr_release(&verr);
	store_yaml_doc_free(d);
	store_yaml_doc_free(NULL);
}

static void test_long_keys(void **state)
{
	(void)state;
	char key[1200];
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	json_t *v = json_pack("{s:[{s:{s:i}}],s:s}", key, key, "a", 1, "b", "c");
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(store_yaml_emit_json(v, &b), 0);
	json_t *w = NULL;
	struct err e = {0};
	if (store_yaml_parse_json(&w, b.data, b.len, "k.yml", &e))
		fail_msg("%s", e.msg);
	assert_true(json_equal(v, w));
	json_decref(w);
	json_decref(v);
	buf_release(&b);
}

static void test_emit_errors(void **state)
{
	(void)state;
	struct store_record r;
	full_record(&r);
	struct buf b;
	buf_init(&b, 0);
	free(r.stack_name);
	r.stack_name = xstrdup("bad \xc3 utf8");
	assert_int_equal(store_yaml_emit_record(&r, &b), ERR_INVAL);
	free(r.stack_name);
	r.stack_name = xstrdup("surrogate \xed\xa0\x80");
	buf_reset(&b);
	assert_int_equal(store_yaml_emit_record(&r, &b), ERR_INVAL);
	free(r.stack_name);
	r.stack_name = xstrdup("overlong \xc0\xaf");
	buf_reset(&b);
	assert_int_equal(store_yaml_emit_record(&r, &b), ERR_INVAL);
	free(r.stack_name);
	r.stack_name = NULL;
	free(r.networks);
	r.networks = xstrdup("[not json");
	buf_reset(&b);
	assert_int_equal(store_yaml_emit_record(&r, &b), ERR_INVAL);
	buf_release(&b);

	free(r.networks);
	r.networks = NULL;
	buf_init(&b, 100);
	assert_int_equal(store_yaml_emit_record(&r, &b), ERR_TOOBIG);
	assert_true(b.len <= 100);
	buf_release(&b);
	store_record_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip_full),
	    cmocka_unit_test(test_golden_full),
	    cmocka_unit_test(test_roundtrip_nasty_strings),
	    cmocka_unit_test(test_scalar_styles),
	    cmocka_unit_test(test_notes_styles),
	    cmocka_unit_test(test_emit_minimal),
	    cmocka_unit_test(test_parse_short_file),
	    cmocka_unit_test(test_parse_lenient),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_parse_host_too_long),
	    cmocka_unit_test(test_depth_limit),
	    cmocka_unit_test(test_emit_json_golden),
	    cmocka_unit_test(test_parse_json_core_schema),
	    cmocka_unit_test(test_parse_json_errors),
	    cmocka_unit_test(test_doc_positions),
	    cmocka_unit_test(test_long_keys),
	    cmocka_unit_test(test_emit_errors),
	};
	return cmocka_run_group_tests_name("yaml", tests, NULL, NULL);
}
