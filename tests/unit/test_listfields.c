#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../common/buf.h"
#include "../../store/listfields.h"
#include "../../common/err.h"
#include "../../common/banned.h"

/* Canonicalise field from JSON text; returns the canonical text or NULL (problems in v). */
static char *canon(const char *field, const char *json_text, struct store_verr *v)
{
	json_error_t jerr;
	json_t *value = json_loads(json_text, JSON_DECODE_ANY, &jerr);
	assert_non_null(value);
	char *out = (char *)"untouched";
	int rc = store_list_canon(field, value, NULL, v, &out);
	json_decref(value);
	if (rc) {
		assert_int_equal(rc, ERR_INVAL);
		assert_string_equal(out, "untouched");
		assert_true(store_verr_any(v));
		return NULL;
	}
	return out;
}

static void assert_canon(const char *field, const char *in, const char *want)
{
	struct store_verr v;
	store_verr_init(&v);
	char *got = canon(field, in, &v);
	assert_non_null(got);
	assert_string_equal(got, want);
	assert_false(store_verr_any(&v));
	/* Canonical text is a fixed point. */
	char *again = canon(field, got, &v);
	assert_non_null(again);
	assert_string_equal(again, got);
	free(again);
	free(got);
	store_verr_release(&v);
}

/* Problem number i of v has this loc (compact JSON), type and message. */
static void assert_problem(const struct store_verr *v, size_t i, const char *loc, const char *type,
                           const char *msg)
{
	json_t *d = json_array_get(v->details, i);
	assert_non_null(d);
	char *l = json_dumps(json_object_get(d, "loc"), JSON_COMPACT);
	assert_string_equal(l, loc);
	free(l);
	assert_string_equal(json_string_value(json_object_get(d, "type")), type);
	assert_string_equal(json_string_value(json_object_get(d, "msg")), msg);
}

/* canon() must fail with exactly one problem, as given. */
static void assert_one_problem(const char *field, const char *in, const char *loc, const char *type,
                               const char *msg)
{
	struct store_verr v;
	store_verr_init(&v);
	assert_null(canon(field, in, &v));
	assert_int_equal(json_array_size(v.details), 1);
	assert_problem(&v, 0, loc, type, msg);
	store_verr_release(&v);
}

/* {"a":{"a":...}} nested depth levels deep, as an observation's details. */
static int canon_details_depth(int depth)
{
	struct buf b;
	buf_init(&b, 0);
	buf_adds(&b, "[{\"layer\":\"t\",\"details\":");
	for (int i = 1; i < depth; i++)
		buf_adds(&b, "{\"a\":");
	buf_adds(&b, "{}");
	for (int i = 1; i < depth; i++)
		buf_addc(&b, '}');
	buf_adds(&b, "}]");
	json_t *v = json_loads(b.data, 0, NULL);
	struct store_verr verr;
	store_verr_init(&verr);
	char *out = NULL;
	int rc = store_list_canon("exposure_observations", v, NULL, &verr, &out);
	free(out);
	store_verr_release(&verr);
	json_decref(v);
	buf_release(&b);
	return rc;
}

static void test_details_depth_limit(void **state)
{
	(void)state;
	assert_int_equal(canon_details_depth(STORE_LIST_MAX_DETAILS_DEPTH), 0);
	assert_int_equal(canon_details_depth(STORE_LIST_MAX_DETAILS_DEPTH + 1), ERR_INVAL);
}

static void test_is_field(void **state)
{
	(void)state;
	assert_true(store_list_is_field("networks"));
	assert_true(store_list_is_field("exposed_ports"));
	assert_true(store_list_is_field("published_ports"));
	assert_true(store_list_is_field("exposure_observations"));
	assert_false(store_list_is_field("host"));
	assert_false(store_list_is_field("network"));
	assert_false(store_list_is_field(NULL));
}

static void test_networks_canonical(void **state)
{
	(void)state;
	assert_canon("networks", "[]", "[]");
	assert_canon("networks", "[{\"aliases\": [\"a\", \"b\"], \"name\": \"x\"}]",
	             "[{\"name\":\"x\",\"aliases\":[\"a\",\"b\"]}]");
	assert_canon("networks", "[{\"name\": \"x\"}]", "[{\"name\":\"x\",\"aliases\":[]}]");
	assert_canon("networks", "[{\"name\": \"x\", \"aliases\": null}]",
	             "[{\"name\":\"x\",\"aliases\":[]}]");
	assert_canon(
	    "networks", "[{\"name\": \"\\u00c4 \\\"q\\\"\"}, {\"name\": \"y\"}]",
	    "[{\"name\":\"\xc3\x84 \\\"q\\\"\",\"aliases\":[]},{\"name\":\"y\",\"aliases\":[]}]");
}

static void test_exposed_ports_canonical(void **state)
{
	(void)state;
	assert_canon("exposed_ports", "[\"5173/tcp\", \"53/udp\"]", "[\"5173/tcp\",\"53/udp\"]");
	assert_canon("exposed_ports", "[ ]", "[]");
}

static void test_published_ports_coercions(void **state)
{
	(void)state;
	assert_canon("published_ports",
	             "[{\"host_port\": \"8080\", \"host_ip\": \"0.0.0.0\", \"protocol\": \"tcp\","
	             " \"container_port\": 80.0}]",
	             "[{\"container_port\":80,\"protocol\":\"tcp\",\"host_ip\":\"0.0.0.0\","
	             "\"host_port\":8080}]");
	assert_canon("published_ports",
	             "[{\"container_port\": \" 53 \", \"protocol\": \"udp\", \"host_ip\": \"::\","
	             " \"host_port\": 5353}]",
	             "[{\"container_port\":53,\"protocol\":\"udp\",\"host_ip\":\"::\","
	             "\"host_port\":5353}]");
}

static void test_published_ports_int_errors(void **state)
{
	(void)state;
	const char *tail = "\"protocol\": \"tcp\", \"host_ip\": \"\", \"container_port\": 1}]";
	char in[256];
	snprintf(in, sizeof(in), "[{\"host_port\": 8080.5, %s", tail);
	assert_one_problem("published_ports", in, "[\"published_ports\",0,\"host_port\"]",
	                   "int_parsing",
	                   "Input should be a valid integer, got a number with a fractional part");
	snprintf(in, sizeof(in), "[{\"host_port\": \"80a\", %s", tail);
	assert_one_problem("published_ports", in, "[\"published_ports\",0,\"host_port\"]",
	                   "int_parsing",
	                   "Input should be a valid integer, unable to parse string as an integer");
	snprintf(in, sizeof(in), "[{\"host_port\": null, %s", tail);
	assert_one_problem("published_ports", in, "[\"published_ports\",0,\"host_port\"]",
	                   "int_parsing", "Input should be a valid integer");
	snprintf(in, sizeof(in), "[{\"host_port\": true, %s", tail);
	assert_one_problem("published_ports", in, "[\"published_ports\",0,\"host_port\"]",
	                   "int_parsing", "Input should be a valid integer");
}

static void test_published_ports_missing(void **state)
{
	(void)state;
	struct store_verr v;
	store_verr_init(&v);
	assert_null(canon("published_ports", "[{\"protocol\": \"tcp\", \"host_ip\": \"\"}]", &v));
	assert_int_equal(json_array_size(v.details), 2);
	assert_problem(&v, 0, "[\"published_ports\",0,\"container_port\"]", "missing",
	               "Field required");
	assert_problem(&v, 1, "[\"published_ports\",0,\"host_port\"]", "missing", "Field required");
	assert_null(v.unknown_keys);
	store_verr_release(&v);
}

static void test_observations_canonical(void **state)
{
	(void)state;
	assert_canon("exposure_observations", "[{\"layer\": \"traefik\"}]",
	             "[{\"layer\":\"traefik\",\"hostname\":null,\"tls\":false,\"path_prefix\":null,"
	             "\"auth\":null,\"details\":null}]");
	assert_canon("exposure_observations",
	             "[{\"details\": {\"z\": [1, {\"b\": null}], \"a\": 1.5}, \"auth\": "
	             "\"cloudflare_access:p\", \"path_prefix\": \"/x/\", \"tls\": \"yes\","
	             " \"hostname\": \"a.example\", \"layer\": \"dockflare\"}]",
	             "[{\"layer\":\"dockflare\",\"hostname\":\"a.example\",\"tls\":true,"
	             "\"path_prefix\":\"/x/\",\"auth\":\"cloudflare_access:p\","
	             "\"details\":{\"z\":[1,{\"b\":null}],\"a\":1.5}}]");
	assert_canon("exposure_observations",
	             "[{\"layer\": \"t\", \"tls\": 1, \"hostname\": null}]",
	             "[{\"layer\":\"t\",\"hostname\":null,\"tls\":true,\"path_prefix\":null,"
	             "\"auth\":null,\"details\":null}]");
	assert_canon("exposure_observations", "[{\"layer\": \"t\", \"tls\": null}]",
	             "[{\"layer\":\"t\",\"hostname\":null,\"tls\":false,\"path_prefix\":null,"
	             "\"auth\":null,\"details\":null}]");
}

static void test_observations_empty_layer_dropped(void **state)
{
	(void)state;
	assert_canon("exposure_observations",
	             "[{\"layer\": \"\", \"hostname\": \"gone.example\"}, {\"layer\": \"a\"},"
	             " {\"layer\": \"\"}]",
	             "[{\"layer\":\"a\",\"hostname\":null,\"tls\":false,\"path_prefix\":null,"
	             "\"auth\":null,\"details\":null}]");
	assert_canon("exposure_observations", "[{\"layer\": \"\"}]", "[]");
	/* A dropped entry is still validated. */
	assert_one_problem("exposure_observations", "[{\"layer\": \"\", \"tls\": \"maybe\"}]",
	                   "[\"exposure_observations\",0,\"tls\"]", "bool_parsing",
	                   "Input should be a valid boolean, unable to interpret input");
}

static void test_observation_errors(void **state)
{
	(void)state;
	assert_one_problem("exposure_observations", "[{\"layer\": \"t\", \"details\": [1]}]",
	                   "[\"exposure_observations\",0,\"details\"]", "dict_type",
	                   "Input should be a valid dictionary");
	assert_one_problem("exposure_observations", "[{\"layer\": \"t\", \"auth\": 5}]",
	                   "[\"exposure_observations\",0,\"auth\"]", "string_type",
	                   "Input should be a valid string");
	assert_one_problem("exposure_observations", "[{\"hostname\": \"x\"}]",
	                   "[\"exposure_observations\",0,\"layer\"]", "missing", "Field required");
	assert_one_problem("exposure_observations", "[{\"layer\": null}]",
	                   "[\"exposure_observations\",0,\"layer\"]", "string_type",
	                   "Input should be a valid string");
}

static void test_type_errors(void **state)
{
	(void)state;
	assert_one_problem("networks", "{\"name\": \"x\"}", "[\"networks\"]", "list_type",
	                   "Input should be a valid list");
	assert_one_problem("exposed_ports", "\"80/tcp\"", "[\"exposed_ports\"]", "list_type",
	                   "Input should be a valid list");
	assert_one_problem("networks", "[{\"name\": \"x\"}, \"y\"]", "[\"networks\",1]",
	                   "dict_type", "Input should be a valid dictionary");
	assert_one_problem("exposed_ports", "[\"a\", 80]", "[\"exposed_ports\",1]", "string_type",
	                   "Input should be a valid string");
	assert_one_problem("networks", "[{\"name\": \"x\", \"aliases\": \"a\"}]",
	                   "[\"networks\",0,\"aliases\"]", "list_type",
	                   "Input should be a valid list");
	assert_one_problem("networks", "[{\"name\": \"x\", \"aliases\": [\"a\", 1]}]",
	                   "[\"networks\",0,\"aliases\",1]", "string_type",
	                   "Input should be a valid string");
}

static void test_string_too_long(void **state)
{
	(void)state;
	size_t n = STORE_MAX_STRING + 1;
	char *in = malloc(n + 8);
	in[0] = '[';
	in[1] = '"';
	memset(in + 2, 'x', n);
	memcpy(in + 2 + n, "\"]", 3);
	assert_one_problem("exposed_ports", in, "[\"exposed_ports\",0]", "string_too_long",
	                   "String should have at most 4096 bytes");
	in[2 + n - 1] = '"';
	in[2 + n] = ']';
	in[2 + n + 1] = '\0';
	struct store_verr v;
	store_verr_init(&v);
	char *ok = canon("exposed_ports", in, &v);
	assert_non_null(ok);
	free(ok);
	store_verr_release(&v);
	free(in);
}

static void test_unknown_keys_nested(void **state)
{
	(void)state;
	struct store_verr v;
	store_verr_init(&v);
	assert_null(canon("networks",
	                  "[{\"name\": \"x\"}, {\"name\": \"y\", \"bar\": 1, \"baz\": {}}]", &v));
	assert_int_equal(json_array_size(v.details), 2);
	assert_problem(&v, 0, "[\"networks\",1,\"bar\"]", "extra_forbidden",
	               "unknown key 'networks[1].bar'");
	assert_problem(&v, 1, "[\"networks\",1,\"baz\"]", "extra_forbidden",
	               "unknown key 'networks[1].baz'");
	char *keys = json_dumps(v.unknown_keys, JSON_COMPACT);
	assert_string_equal(keys, "[\"networks[1].bar\",\"networks[1].baz\"]");
	free(keys);
	store_verr_release(&v);

	assert_one_problem("published_ports",
	                   "[{\"container_port\": 1, \"protocol\": \"tcp\", \"host_ip\": \"\","
	                   " \"host_port\": 2, \"hostport\": 3}]",
	                   "[\"published_ports\",0,\"hostport\"]", "extra_forbidden",
	                   "unknown key 'published_ports[0].hostport'");
}

static void test_many_problems_collected(void **state)
{
	(void)state;
	struct store_verr v;
	store_verr_init(&v);
	assert_null(canon("exposure_observations",
	                  "[{\"layer\": 1, \"tls\": \"maybe\", \"x\": 0}, 5, {\"layer\": \"ok\"}]",
	                  &v));
	assert_int_equal(json_array_size(v.details), 4);
	assert_problem(&v, 0, "[\"exposure_observations\",0,\"layer\"]", "string_type",
	               "Input should be a valid string");
	assert_problem(&v, 1, "[\"exposure_observations\",0,\"tls\"]", "bool_parsing",
	               "Input should be a valid boolean, unable to interpret input");
	assert_problem(&v, 2, "[\"exposure_observations\",0,\"x\"]", "extra_forbidden",
	               "unknown key 'exposure_observations[0].x'");
	assert_problem(&v, 3, "[\"exposure_observations\",1]", "dict_type",
	               "Input should be a valid dictionary");
	store_verr_release(&v);
}

static void test_loc_prefix_and_existing_problems(void **state)
{
	(void)state;
	struct store_verr v;
	store_verr_init(&v);
	store_verr_add(&v, NULL, "missing", "earlier problem");
	json_t *loc = json_pack("[s,i,s]", "services", 3, "networks");
	json_t *value = json_loads("[{\"name\": \"x\"}]", 0, NULL);
	char *out = NULL;
	/* Problems recorded before the call do not make a valid list fail. */
	assert_int_equal(store_list_canon("networks", value, loc, &v, &out), 0);
	assert_string_equal(out, "[{\"name\":\"x\",\"aliases\":[]}]");
	free(out);
	json_decref(value);
	value = json_loads("[{\"nom\": \"x\"}]", 0, NULL);
	assert_int_equal(store_list_canon("networks", value, loc, &v, &out), ERR_INVAL);
	assert_int_equal(json_array_size(v.details), 3);
	assert_problem(&v, 1, "[\"services\",3,\"networks\",0,\"name\"]", "missing",
	               "Field required");
	assert_problem(&v, 2, "[\"services\",3,\"networks\",0,\"nom\"]", "extra_forbidden",
	               "unknown key 'services[3].networks[0].nom'");
	json_decref(value);
	json_decref(loc);
	store_verr_release(&v);
}

static void test_unknown_field(void **state)
{
	(void)state;
	assert_one_problem("ports", "[]", "[\"ports\"]", "extra_forbidden", "unknown key 'ports'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_is_field),
	    cmocka_unit_test(test_details_depth_limit),
	    cmocka_unit_test(test_networks_canonical),
	    cmocka_unit_test(test_exposed_ports_canonical),
	    cmocka_unit_test(test_published_ports_coercions),
	    cmocka_unit_test(test_published_ports_int_errors),
	    cmocka_unit_test(test_published_ports_missing),
	    cmocka_unit_test(test_observations_canonical),
	    cmocka_unit_test(test_observations_empty_layer_dropped),
	    cmocka_unit_test(test_observation_errors),
	    cmocka_unit_test(test_type_errors),
	    cmocka_unit_test(test_string_too_long),
	    cmocka_unit_test(test_unknown_keys_nested),
	    cmocka_unit_test(test_many_problems_collected),
	    cmocka_unit_test(test_loc_prefix_and_existing_problems),
	    cmocka_unit_test(test_unknown_field),
	};
	return cmocka_run_group_tests_name("listfields", tests, NULL, NULL);
}
