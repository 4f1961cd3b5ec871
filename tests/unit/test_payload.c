/*
 * Register payload validation (spec/register.md, "Schema" and "Coercion"):
 * required keys, string limits, STD's bool/int coercions, URL schemes,
 * unknown keys at every level with full paths, several problems at once,
 * and the absent/null/value states the merge rules depend on.
 * Run one case: ./test_payload.t <name-glob>.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "../../common/err.h"
#include "../../store/payload.h"
#include "../../store/validate.h"

struct fixture {
	struct store_payload p;
	struct store_verr v;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	store_verr_init(&f->v);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	store_payload_release(&f->p);
	store_verr_release(&f->v);
	free(f);
	return 0;
}

static int parse_json(struct fixture *f, json_t *body)
{
	assert_non_null(body);
	int rc = store_payload_from_json(&f->p, body, &f->v);
	json_decref(body);
	return rc;
}

static int parse(struct fixture *f, const char *text)
{
	json_error_t je;
	json_t *body = json_loads(text, 0, &je);
	if (!body)
		fail_msg("bad JSON in test: %s: %s", text, je.text);
	return parse_json(f, body);
}

/* {"host":"h","container_name":"c", key: value}; steals value. */
static json_t *with_key(const char *key, json_t *value)
{
	json_t *o = json_pack("{s:s,s:s}", "host", "h", "container_name", "c");
	json_object_set_new(o, key, value);
	return o;
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static size_t ndetails(const struct fixture *f)
{
	return f->v.details ? json_array_size(f->v.details) : 0;
}

/* 1 when a detail with this loc (JSON text) and type was recorded. */
static int has_detail(const struct fixture *f, const char *loc_text, const char *type)
{
	json_t *loc = json_loads(loc_text, JSON_DECODE_ANY, NULL);
	assert_non_null(loc);
	size_t i;
	json_t *d;
	int found = 0;
	json_array_foreach (f->v.details, i, d) {
		if (json_equal(json_object_get(d, "loc"), loc) &&
		    !strcmp(json_string_value(json_object_get(d, "type")), type) &&
		    json_is_string(json_object_get(d, "msg")))
			found = 1;
	}
	json_decref(loc);
	return found;
}

static void assert_detail(const struct fixture *f, const char *loc_text, const char *type)
{
	if (!has_detail(f, loc_text, type)) {
		char *all = f->v.details ? json_dumps(f->v.details, 0) : NULL;
		fail_msg("no detail %s %s in %s", loc_text, type, all ? all : "(none)");
	}
}

/* Exactly one problem, at loc, of this type. */
static void assert_only_detail(const struct fixture *f, const char *loc_text, const char *type)
{
	assert_detail(f, loc_text, type);
	assert_int_equal(ndetails(f), 1);
}

static int has_unknown(const struct fixture *f, const char *dotted)
{
	size_t i;
	json_t *k;
	json_array_foreach (f->v.unknown_keys, i, k) {
		if (!strcmp(json_string_value(k), dotted))
			return 1;
	}
	return 0;
}

/* --- required keys and string limits --- */

static void minimal_payload_accepted(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "{\"host\":\"docker01\",\"container_name\":\"nginx\"}"), 0);
	assert_false(store_verr_any(&f->v));
	assert_string_equal(f->p.host, "docker01");
	assert_string_equal(f->p.container_name, "nginx");
}

static void missing_host_reported_as_missing(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "{\"container_name\":\"nginx\"}"), ERR_INVAL);
	assert_only_detail(f, "[\"host\"]", "missing");
	assert_null(f->v.unknown_keys);
}

static void missing_container_name_reported_as_missing(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "{\"host\":\"docker01\"}"), ERR_INVAL);
	assert_only_detail(f, "[\"container_name\"]", "missing");
}

static void empty_body_reports_both_required_keys(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "{}"), ERR_INVAL);
	assert_detail(f, "[\"host\"]", "missing");
	assert_detail(f, "[\"container_name\"]", "missing");
	assert_int_equal(ndetails(f), 2);
}

static void null_host_is_string_type(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "{\"host\":null,\"container_name\":\"c\"}"), ERR_INVAL);
	assert_only_detail(f, "[\"host\"]", "string_type");
}

static void empty_host_is_string_too_short(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "{\"host\":\"\",\"container_name\":\"c\"}"), ERR_INVAL);
	assert_only_detail(f, "[\"host\"]", "string_too_short");
}

static void empty_container_name_is_string_too_short(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "{\"host\":\"h\",\"container_name\":\"\"}"), ERR_INVAL);
	assert_only_detail(f, "[\"container_name\"]", "string_too_short");
}

static void host_of_255_bytes_accepted(void **state)
{
	struct fixture *f = *state;
	char *host = repeat('h', 255);
	assert_int_equal(parse_json(f, json_pack("{s:s,s:s}", "host", host, "container_name", "c")),
	                 0);
	assert_string_equal(f->p.host, host);
	free(host);
}

static void host_of_256_bytes_is_string_too_long(void **state)
{
	struct fixture *f = *state;
	char *host = repeat('h', 256);
	assert_int_equal(parse_json(f, json_pack("{s:s,s:s}", "host", host, "container_name", "c")),
	                 ERR_INVAL);
	assert_only_detail(f, "[\"host\"]", "string_too_long");
	free(host);
}

static void container_name_of_256_bytes_is_string_too_long(void **state)
{
	struct fixture *f = *state;
	char *name = repeat('c', 256);
	assert_int_equal(parse_json(f, json_pack("{s:s,s:s}", "host", "h", "container_name", name)),
	                 ERR_INVAL);
	assert_only_detail(f, "[\"container_name\"]", "string_too_long");
	free(name);
}

static void stack_name_of_4096_bytes_accepted(void **state)
{
	struct fixture *f = *state;
	char *s = repeat('s', 4096);
	assert_int_equal(parse_json(f, with_key("stack_name", json_string(s))), 0);
	assert_int_equal(f->p.stack_name.state, STORE_P_VALUE);
	assert_string_equal(f->p.stack_name.value, s);
	free(s);
}

static void stack_name_of_4097_bytes_is_string_too_long(void **state)
{
	struct fixture *f = *state;
	char *s = repeat('s', 4097);
	assert_int_equal(parse_json(f, with_key("stack_name", json_string(s))), ERR_INVAL);
	assert_only_detail(f, "[\"stack_name\"]", "string_too_long");
	free(s);
}

static void number_for_string_field_is_string_type(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse_json(f, with_key("stack_name", json_integer(5))), ERR_INVAL);
	assert_only_detail(f, "[\"stack_name\"]", "string_type");
}

static void bool_for_string_field_is_string_type(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse_json(f, with_key("image_name", json_true())), ERR_INVAL);
	assert_only_detail(f, "[\"image_name\"]", "string_type");
}

static void number_for_host_is_string_type(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "{\"host\":1,\"container_name\":\"c\"}"), ERR_INVAL);
	assert_only_detail(f, "[\"host\"]", "string_type");
}

static void nul_byte_in_string_rejected(void **state)
{
	struct fixture *f = *state;
	json_t *body = json_pack("{s:s}", "container_name", "c");
	json_object_set_new(body, "host", json_stringn("a\0b", 3));
	assert_int_equal(parse_json(f, body), ERR_INVAL);
	assert_only_detail(f, "[\"host\"]", "string_type");
}

/* --- bool coercion --- */

/* Parse internal_health_check_enabled = value; expect it to coerce to want. */
static void check_bool(json_t *value, int want)
{
	struct fixture f;
	memset(&f, 0, sizeof(f));
	store_verr_init(&f.v);
	char *text = json_dumps(value, JSON_ENCODE_ANY);
	int rc = parse_json(&f, with_key("internal_health_check_enabled", value));
	if (rc)
		fail_msg("bool %s rejected", text);
	assert_int_equal(f.p.internal_health_check_enabled.state, STORE_P_VALUE);
	if (f.p.internal_health_check_enabled.value != want)
		fail_msg("bool %s coerced to %d", text, f.p.internal_health_check_enabled.value);
	free(text);
	store_payload_release(&f.p);
	store_verr_release(&f.v);
}

static void check_bool_rejected(json_t *value)
{
	struct fixture f;
	memset(&f, 0, sizeof(f));
	store_verr_init(&f.v);
	char *text = json_dumps(value, JSON_ENCODE_ANY);
	if (parse_json(&f, with_key("external_health_check_enabled", value)) != ERR_INVAL)
		fail_msg("bool %s accepted", text);
	assert_only_detail(&f, "[\"external_health_check_enabled\"]", "bool_parsing");
	free(text);
	store_payload_release(&f.p);
	store_verr_release(&f.v);
}

static void bool_accepts_json_true_and_false(void **state)
{
	(void)state;
	check_bool(json_true(), 1);
	check_bool(json_false(), 0);
}

static void bool_accepts_integers_0_and_1(void **state)
{
	(void)state;
	check_bool(json_integer(1), 1);
	check_bool(json_integer(0), 0);
}

static void bool_accepts_integral_floats_0_and_1(void **state)
{
	(void)state;
	check_bool(json_real(1.0), 1);
	check_bool(json_real(0.0), 0);
}

/* s in lower case, upper case, and alternating case. */
static void check_bool_string_cases(const char *s, int want)
{
	char buf[16];
	size_t n = strlen(s);
	assert_true(n < sizeof(buf));
	for (int variant = 0; variant < 3; variant++) {
		for (size_t i = 0; i <= n; i++) {
			char c = s[i];
			int upper = variant == 1 || (variant == 2 && i % 2 == 0);
			buf[i] = upper && c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
		}
		check_bool(json_string(buf), want);
	}
}

static void bool_accepts_truthy_strings_in_any_case(void **state)
{
	(void)state;
	static const char *const truthy[] = {"true", "yes", "on", "1", "t", "y"};
	for (size_t i = 0; i < sizeof(truthy) / sizeof(*truthy); i++)
		check_bool_string_cases(truthy[i], 1);
}

static void bool_accepts_falsy_strings_in_any_case(void **state)
{
	(void)state;
	static const char *const falsy[] = {"false", "no", "off", "0", "f", "n"};
	for (size_t i = 0; i < sizeof(falsy) / sizeof(*falsy); i++)
		check_bool_string_cases(falsy[i], 0);
}

static void bool_rejects_maybe(void **state)
{
	(void)state;
	check_bool_rejected(json_string("maybe"));
}

static void bool_rejects_integer_2(void **state)
{
	(void)state;
	check_bool_rejected(json_integer(2));
}

static void bool_rejects_fractional_float(void **state)
{
	(void)state;
	check_bool_rejected(json_real(0.5));
}

static void bool_rejects_empty_string(void **state)
{
	(void)state;
	check_bool_rejected(json_string(""));
}

static void bool_rejects_list(void **state)
{
	(void)state;
	check_bool_rejected(json_array());
}

/* --- int coercion --- */

static void check_int(json_t *value, int64_t want)
{
	struct fixture f;
	memset(&f, 0, sizeof(f));
	store_verr_init(&f.v);
	char *text = json_dumps(value, JSON_ENCODE_ANY);
	if (parse_json(&f, with_key("sort_priority", value)))
		fail_msg("int %s rejected", text);
	assert_int_equal(f.p.sort_priority.state, STORE_P_VALUE);
	assert_int_equal(f.p.sort_priority.value, want);
	free(text);
	store_payload_release(&f.p);
	store_verr_release(&f.v);
}

static void check_int_rejected(json_t *value)
{
	struct fixture f;
	memset(&f, 0, sizeof(f));
	store_verr_init(&f.v);
	char *text = json_dumps(value, JSON_ENCODE_ANY);
	if (parse_json(&f, with_key("sort_priority", value)) != ERR_INVAL)
		fail_msg("int %s accepted", text);
	assert_only_detail(&f, "[\"sort_priority\"]", "int_parsing");
	free(text);
	store_payload_release(&f.p);
	store_verr_release(&f.v);
}

static void int_accepts_integer(void **state)
{
	(void)state;
	check_int(json_integer(8080), 8080);
	check_int(json_integer(-3), -3);
}

static void int_accepts_numeric_string(void **state)
{
	(void)state;
	check_int(json_string("8080"), 8080);
	check_int(json_string("-3"), -3);
}

static void int_accepts_integral_float(void **state)
{
	(void)state;
	check_int(json_real(8080.0), 8080);
}

static void int_rejects_fractional_float(void **state)
{
	(void)state;
	check_int_rejected(json_real(8080.5));
}

static void int_rejects_non_numeric_string(void **state)
{
	(void)state;
	check_int_rejected(json_string("abc"));
	check_int_rejected(json_string("80a"));
	check_int_rejected(json_string(""));
}

/*
 * The spec lists what an int field takes: integers, integral floats and
 * numeric strings. A JSON bool is not among them, so it is refused (pydantic's
 * lax mode would take true as 1; a priority of `true` is a notifier bug).
 */
static void int_rejects_json_bool(void **state)
{
	(void)state;
	check_int_rejected(json_true());
	check_int_rejected(json_false());
}

static void int_parsing_in_list_item_has_full_loc(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(
	    parse(f, "{\"host\":\"h\",\"container_name\":\"c\",\"published_ports\":"
	             "[{\"container_port\":80,\"protocol\":\"tcp\",\"host_ip\":\"0.0.0.0\","
	             "\"host_port\":\"x\"}]}"),
	    ERR_INVAL);
	assert_only_detail(f, "[\"published_ports\",0,\"host_port\"]", "int_parsing");
}

static void list_item_coerces_numeric_strings(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(
	    parse(f, "{\"host\":\"h\",\"container_name\":\"c\",\"published_ports\":"
	             "[{\"container_port\":\"80\",\"protocol\":\"tcp\",\"host_ip\":\"0.0.0.0\","
	             "\"host_port\":8080.0}]}"),
	    0);
	assert_string_equal(f->p.published_ports.value,
	                    "[{\"container_port\":80,\"protocol\":\"tcp\",\"host_ip\":\"0.0.0.0\","
	                    "\"host_port\":8080}]");
}

/* --- URLs --- */

static void url_accepts_http(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse_json(f, with_key("internalurl", json_string("http://nas:8080/"))),
	                 0);
	assert_int_equal(f->p.internalurl.state, STORE_P_VALUE);
	assert_string_equal(f->p.internalurl.value, "http://nas:8080/");
}

static void url_accepts_https(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(
	    parse_json(f, with_key("externalurl", json_string("https://app.example.com/x"))), 0);
	assert_string_equal(f->p.externalurl.value, "https://app.example.com/x");
}

static void url_accepts_empty_string(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse_json(f, with_key("internalurl", json_string(""))), 0);
	assert_int_equal(f->p.internalurl.state, STORE_P_VALUE);
	assert_string_equal(f->p.internalurl.value, "");
}

static void check_url_rejected(const char *url)
{
	struct fixture f;
	memset(&f, 0, sizeof(f));
	store_verr_init(&f.v);
	if (parse_json(&f, with_key("externalurl", json_string(url))) != ERR_INVAL)
		fail_msg("url '%s' accepted", url);
	assert_only_detail(&f, "[\"externalurl\"]", "url_scheme");
	store_payload_release(&f.p);
	store_verr_release(&f.v);
}

static void url_rejects_ftp_scheme(void **state)
{
	(void)state;
	check_url_rejected("ftp://files.example.com/");
}

static void url_rejects_javascript_scheme(void **state)
{
	(void)state;
	check_url_rejected("javascript:alert(1)");
}

static void url_rejects_missing_scheme(void **state)
{
	(void)state;
	check_url_rejected("example.com");
}

static void url_rejects_scheme_without_host(void **state)
{
	(void)state;
	check_url_rejected("http://");
}

static void url_number_is_string_type(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse_json(f, with_key("internalurl", json_integer(80))), ERR_INVAL);
	assert_only_detail(f, "[\"internalurl\"]", "string_type");
}

/* --- unknown keys --- */

static void unknown_top_level_key_rejected(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "{\"host\":\"h\",\"container_name\":\"c\",\"foo\":1}"),
	                 ERR_INVAL);
	assert_only_detail(f, "[\"foo\"]", "extra_forbidden");
	assert_non_null(f->v.unknown_keys);
	assert_int_equal(json_array_size(f->v.unknown_keys), 1);
	assert_string_equal(json_string_value(json_array_get(f->v.unknown_keys, 0)), "foo");
}

static void unknown_key_in_network_has_full_path(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "{\"host\":\"h\",\"container_name\":\"c\","
	                          "\"networks\":[{\"name\":\"web\",\"bar\":1}]}"),
	                 ERR_INVAL);
	assert_only_detail(f, "[\"networks\",0,\"bar\"]", "extra_forbidden");
	assert_int_equal(json_array_size(f->v.unknown_keys), 1);
	assert_true(has_unknown(f, "networks[0].bar"));
}

static void unknown_key_in_published_port_has_full_path(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(
	    parse(f,
	          "{\"host\":\"h\",\"container_name\":\"c\",\"published_ports\":["
	          "{\"container_port\":80,\"protocol\":\"tcp\",\"host_ip\":\"\",\"host_port\":80},"
	          "{\"container_port\":443,\"protocol\":\"tcp\",\"host_ip\":\"\",\"host_port\":443,"
	          "\"x\":true}]}"),
	    ERR_INVAL);
	assert_only_detail(f, "[\"published_ports\",1,\"x\"]", "extra_forbidden");
	assert_int_equal(json_array_size(f->v.unknown_keys), 1);
	assert_true(has_unknown(f, "published_ports[1].x"));
}

static void unknown_key_in_observation_has_full_path(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f,
	                       "{\"host\":\"h\",\"container_name\":\"c\",\"exposure_observations\":"
	                       "[{\"layer\":\"traefik\",\"zzz\":null}]}"),
	                 ERR_INVAL);
	assert_only_detail(f, "[\"exposure_observations\",0,\"zzz\"]", "extra_forbidden");
	assert_true(has_unknown(f, "exposure_observations[0].zzz"));
}

static void known_keys_only_leaves_unknown_keys_unset(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "{\"host\":\"\",\"container_name\":\"c\"}"), ERR_INVAL);
	assert_null(f->v.unknown_keys);
}

static void several_problems_reported_at_once(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(
	    parse(f, "{\"host\":\"\",\"foo\":1,\"sort_priority\":\"abc\","
	             "\"internalurl\":\"ftp://x/\",\"internal_health_check_enabled\":\"maybe\","
	             "\"networks\":[{\"bar\":1}]}"),
	    ERR_INVAL);
	assert_detail(f, "[\"host\"]", "string_too_short");
	assert_detail(f, "[\"container_name\"]", "missing");
	assert_detail(f, "[\"foo\"]", "extra_forbidden");
	assert_detail(f, "[\"sort_priority\"]", "int_parsing");
	assert_detail(f, "[\"internalurl\"]", "url_scheme");
	assert_detail(f, "[\"internal_health_check_enabled\"]", "bool_parsing");
	assert_detail(f, "[\"networks\",0,\"name\"]", "missing");
	assert_detail(f, "[\"networks\",0,\"bar\"]", "extra_forbidden");
	assert_int_equal(ndetails(f), 8);
	assert_int_equal(json_array_size(f->v.unknown_keys), 2);
	assert_true(has_unknown(f, "foo"));
	assert_true(has_unknown(f, "networks[0].bar"));
}

static void failure_leaves_output_untouched(void **state)
{
	struct fixture *f = *state;
	struct store_payload sentinel;
	memset(&sentinel, 0x5a, sizeof(sentinel));
	memcpy(&f->p, &sentinel, sizeof(sentinel));
	int rc = parse(f, "{\"host\":\"h\",\"container_name\":\"c\",\"stack_name\":1}");
	int same = !memcmp(&f->p, &sentinel, sizeof(sentinel));
	memset(&f->p, 0, sizeof(f->p)); /* nothing to free either way */
	assert_int_equal(rc, ERR_INVAL);
	assert_true(same);
}

/* --- absent, null and values --- */

static void absent_optional_keys_are_absent(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "{\"host\":\"h\",\"container_name\":\"c\"}"), 0);
	const struct store_pstr *strs[] = {
	    &f->p.container_id,    &f->p.stack_name,
	    &f->p.docker_status,   &f->p.started_at,
	    &f->p.timestamp,       &f->p.internalurl,
	    &f->p.externalurl,     &f->p.image_name,
	    &f->p.image_icon,      &f->p.group_name,
	    &f->p.networks,        &f->p.exposed_ports,
	    &f->p.published_ports, &f->p.exposure_observations,
	};
	for (size_t i = 0; i < sizeof(strs) / sizeof(*strs); i++) {
		assert_int_equal(strs[i]->state, STORE_P_ABSENT);
		assert_null(strs[i]->value);
	}
	assert_int_equal(f->p.internal_health_check_enabled.state, STORE_P_ABSENT);
	assert_int_equal(f->p.external_health_check_enabled.state, STORE_P_ABSENT);
	assert_int_equal(f->p.sort_priority.state, STORE_P_ABSENT);
}

static void null_optional_keys_are_null(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(
	    parse(f,
	          "{\"host\":\"h\",\"container_name\":\"c\",\"container_id\":null,"
	          "\"stack_name\":null,\"docker_status\":null,\"started_at\":null,"
	          "\"timestamp\":null,\"internalurl\":null,\"externalurl\":null,"
	          "\"internal_health_check_enabled\":null,\"external_health_check_enabled\":null,"
	          "\"image_name\":null,\"image_icon\":null,\"group_name\":null,"
	          "\"sort_priority\":null,\"networks\":null,\"exposed_ports\":null,"
	          "\"published_ports\":null,\"exposure_observations\":null}"),
	    0);
	const struct store_pstr *strs[] = {
	    &f->p.container_id,    &f->p.stack_name,
	    &f->p.docker_status,   &f->p.started_at,
	    &f->p.timestamp,       &f->p.internalurl,
	    &f->p.externalurl,     &f->p.image_name,
	    &f->p.image_icon,      &f->p.group_name,
	    &f->p.networks,        &f->p.exposed_ports,
	    &f->p.published_ports, &f->p.exposure_observations,
	};
	for (size_t i = 0; i < sizeof(strs) / sizeof(*strs); i++) {
		assert_int_equal(strs[i]->state, STORE_P_NULL);
		assert_null(strs[i]->value);
	}
	assert_int_equal(f->p.internal_health_check_enabled.state, STORE_P_NULL);
	assert_int_equal(f->p.external_health_check_enabled.state, STORE_P_NULL);
	assert_int_equal(f->p.sort_priority.state, STORE_P_NULL);
}

static void timestamp_accepted(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse_json(f, with_key("timestamp", json_string("2025-01-02T03:04:05Z"))),
	                 0);
	assert_int_equal(f->p.timestamp.state, STORE_P_VALUE);
}

static void every_field_value_kept(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(
	    parse(f,
	          "{\"host\":\"docker01\",\"container_name\":\"nginx\",\"container_id\":\"abc\","
	          "\"stack_name\":\"web\",\"docker_status\":\"running\","
	          "\"started_at\":\"2025-01-02T03:04:05Z\",\"internalurl\":\"http://nas/\","
	          "\"externalurl\":\"https://x.example/\",\"internal_health_check_enabled\":true,"
	          "\"external_health_check_enabled\":\"no\",\"image_name\":\"nginx:1.27\","
	          "\"image_icon\":\"nginx\",\"group_name\":\"Web\",\"sort_priority\":\"7\"}"),
	    0);
	assert_string_equal(f->p.container_id.value, "abc");
	assert_string_equal(f->p.stack_name.value, "web");
	assert_string_equal(f->p.docker_status.value, "running");
	assert_string_equal(f->p.started_at.value, "2025-01-02T03:04:05Z");
	assert_string_equal(f->p.internalurl.value, "http://nas/");
	assert_string_equal(f->p.externalurl.value, "https://x.example/");
	assert_int_equal(f->p.internal_health_check_enabled.value, 1);
	assert_int_equal(f->p.external_health_check_enabled.state, STORE_P_VALUE);
	assert_int_equal(f->p.external_health_check_enabled.value, 0);
	assert_string_equal(f->p.image_name.value, "nginx:1.27");
	assert_string_equal(f->p.image_icon.value, "nginx");
	assert_string_equal(f->p.group_name.value, "Web");
	assert_int_equal(f->p.sort_priority.value, 7);
}

static void list_fields_canonicalised(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(
	    parse(f, "{\"host\":\"h\",\"container_name\":\"c\","
	             "\"networks\":[ {\"name\":\"web\"} ],"
	             "\"exposed_ports\":[\"5173/tcp\"],"
	             "\"exposure_observations\":[{\"tls\":\"yes\",\"hostname\":\"a.example\","
	             "\"layer\":\"traefik\"}]}"),
	    0);
	assert_string_equal(f->p.networks.value, "[{\"name\":\"web\",\"aliases\":[]}]");
	assert_string_equal(f->p.exposed_ports.value, "[\"5173/tcp\"]");
	assert_string_equal(f->p.exposure_observations.value,
	                    "[{\"layer\":\"traefik\",\"hostname\":\"a.example\",\"tls\":true,"
	                    "\"path_prefix\":null,\"auth\":null,\"details\":null}]");
}

static void observation_with_empty_layer_dropped(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "{\"host\":\"h\",\"container_name\":\"c\","
	                          "\"exposure_observations\":[{\"layer\":\"\",\"hostname\":\"x\"},"
	                          "{\"layer\":\"dockflare\",\"hostname\":\"y\",\"tls\":true}]}"),
	                 0);
	assert_string_equal(f->p.exposure_observations.value,
	                    "[{\"layer\":\"dockflare\",\"hostname\":\"y\",\"tls\":true,"
	                    "\"path_prefix\":null,\"auth\":null,\"details\":null}]");
}

static void empty_list_kept_as_value(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "{\"host\":\"h\",\"container_name\":\"c\","
	                          "\"exposure_observations\":[],\"networks\":[]}"),
	                 0);
	assert_int_equal(f->p.exposure_observations.state, STORE_P_VALUE);
	assert_string_equal(f->p.exposure_observations.value, "[]");
	assert_int_equal(f->p.networks.state, STORE_P_VALUE);
	assert_string_equal(f->p.networks.value, "[]");
}

static void list_field_not_a_list_is_list_type(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "{\"host\":\"h\",\"container_name\":\"c\",\"networks\":{}}"),
	                 ERR_INVAL);
	assert_only_detail(f, "[\"networks\"]", "list_type");
}

static void release_accepts_null(void **state)
{
	(void)state;
	store_payload_release(NULL);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    T(minimal_payload_accepted),
	    T(missing_host_reported_as_missing),
	    T(missing_container_name_reported_as_missing),
	    T(empty_body_reports_both_required_keys),
	    T(null_host_is_string_type),
	    T(empty_host_is_string_too_short),
	    T(empty_container_name_is_string_too_short),
	    T(host_of_255_bytes_accepted),
	    T(host_of_256_bytes_is_string_too_long),
	    T(container_name_of_256_bytes_is_string_too_long),
	    T(stack_name_of_4096_bytes_accepted),
	    T(stack_name_of_4097_bytes_is_string_too_long),
	    T(number_for_string_field_is_string_type),
	    T(bool_for_string_field_is_string_type),
	    T(number_for_host_is_string_type),
	    T(nul_byte_in_string_rejected),
	    T(bool_accepts_json_true_and_false),
	    T(bool_accepts_integers_0_and_1),
	    T(bool_accepts_integral_floats_0_and_1),
	    T(bool_accepts_truthy_strings_in_any_case),
	    T(bool_accepts_falsy_strings_in_any_case),
	    T(bool_rejects_maybe),
	    T(bool_rejects_integer_2),
	    T(bool_rejects_fractional_float),
	    T(bool_rejects_empty_string),
	    T(bool_rejects_list),
	    T(int_accepts_integer),
	    T(int_accepts_numeric_string),
	    T(int_accepts_integral_float),
	    T(int_rejects_fractional_float),
	    T(int_rejects_non_numeric_string),
	    T(int_rejects_json_bool),
	    T(int_parsing_in_list_item_has_full_loc),
	    T(list_item_coerces_numeric_strings),
	    T(url_accepts_http),
	    T(url_accepts_https),
	    T(url_accepts_empty_string),
	    T(url_rejects_ftp_scheme),
	    T(url_rejects_javascript_scheme),
	    T(url_rejects_missing_scheme),
	    T(url_rejects_scheme_without_host),
	    T(url_number_is_string_type),
	    T(unknown_top_level_key_rejected),
	    T(unknown_key_in_network_has_full_path),
	    T(unknown_key_in_published_port_has_full_path),
	    T(unknown_key_in_observation_has_full_path),
	    T(known_keys_only_leaves_unknown_keys_unset),
	    T(several_problems_reported_at_once),
	    T(failure_leaves_output_untouched),
	    T(absent_optional_keys_are_absent),
	    T(null_optional_keys_are_null),
	    T(timestamp_accepted),
	    T(every_field_value_kept),
	    T(list_fields_canonicalised),
	    T(observation_with_empty_layer_dropped),
	    T(empty_list_kept_as_value),
	    T(list_field_not_a_list_is_list_type),
	    T(release_accepts_null),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
