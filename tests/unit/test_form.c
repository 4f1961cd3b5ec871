/*
 * HTML form bodies, cookies and redirect targets (daemon/form.h).
 * Run one case: ./test_form.t <name-glob>.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "../../common/buf.h"
#include "../../daemon/form.h"

static json_t *parse(const char *body)
{
	json_t *out = NULL;
	struct err e = {0};
	if (form_parse(body, strlen(body), &out, &e))
		fail_msg("form_parse(%s): %s", body, e.msg);
	return out;
}

static void decodes_fields(void **state)
{
	(void)state;
	json_t *f =
	    parse("host=docker01&name=My+App%21&empty=&flag&url=http%3A%2F%2Fx%2F%3Fa%3D1%26b");
	assert_string_equal(form_get(f, "host"), "docker01");
	assert_string_equal(form_get(f, "name"), "My App!");
	assert_string_equal(form_get(f, "empty"), "");
	assert_string_equal(form_get(f, "flag"), "");
	assert_string_equal(form_get(f, "url"), "http://x/?a=1&b");
	assert_string_equal(form_get(f, "missing"), "");
	json_decref(f);
	/* a checkbox after its hidden default: the last value wins */
	f = parse("a=false&a=true&&");
	assert_string_equal(form_get(f, "a"), "true");
	json_decref(f);
	f = parse("n=caf%C3%A9");
	assert_string_equal(form_get(f, "n"), "caf\xc3\xa9");
	json_decref(f);
}

static void refuses_bad_bodies(void **state)
{
	(void)state;
	const char *bad[] = {"a=%", "a=%4", "a=%zz", "a=%00", "a=%ff", "%ff=1", "a%00=1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		json_t *out = NULL;
		struct err e = {0};
		if (form_parse(bad[i], strlen(bad[i]), &out, &e) != ERR_INVAL)
			fail_msg("accepted %s", bad[i]);
		assert_null(out);
	}
	struct buf b;
	buf_init(&b, 0);
	for (int i = 0; i <= FORM_MAX_FIELDS; i++)
		buf_addf(&b, "f%d=1&", i);
	json_t *out = NULL;
	assert_int_equal(form_parse(b.data, b.len, &out, NULL), ERR_INVAL);
	buf_release(&b);
}

static void cookies(void **state)
{
	(void)state;
	char v[70];
	assert_int_equal(
	    form_cookie("a=1; portolan_session=abc; b=2", "portolan_session", v, sizeof(v)), 0);
	assert_string_equal(v, "abc");
	assert_int_equal(form_cookie("portolan_session=x", "portolan_session", v, sizeof(v)), 0);
	assert_string_equal(v, "x");
	/* a longer name with the same prefix is another cookie */
	assert_int_equal(form_cookie("portolan_sessionx=1", "portolan_session", v, sizeof(v)), -1);
	assert_int_equal(form_cookie("", "portolan_session", v, sizeof(v)), -1);
	char small[4];
	assert_int_equal(form_cookie("a=12345", "a", small, sizeof(small)), -1);
}

static void local_paths(void **state)
{
	(void)state;
	assert_true(form_local_path("/"));
	assert_true(form_local_path("/tiled_dash?group_by=host"));
	const char *bad[] = {NULL,
	                     "",
	                     "tiled",
	                     "//evil.example/",
	                     "/\\evil.example",
	                     "https://evil.example/",
	                     "/a b",
	                     "/a\r\nSet-Cookie:x",
	                     "/\x7f"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_false(form_local_path(bad[i]));
}

static void url_encoding(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	form_url_encode(&b, "/edit/1?x=a b&c");
	assert_string_equal(b.data, "/edit/1%3Fx%3Da%20b%26c");
	buf_release(&b);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(decodes_fields), cmocka_unit_test(refuses_bad_bodies),
	    cmocka_unit_test(cookies),        cmocka_unit_test(local_paths),
	    cmocka_unit_test(url_encoding),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
