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

#define CT "multipart/form-data; boundary=----b0und"

static int mp(const char *ct, const char *body, size_t len, struct form_multipart *m)
{
	struct err e = {0};
	memset(m, 0, sizeof(*m));
	return form_parse_multipart(m, ct, body, len, &e);
}

static void multipart_fields_and_files(void **state)
{
	(void)state;
	static const char body[] = "------b0und\r\n"
	                           "Content-Disposition: form-data; name=\"csrf_token\"\r\n"
	                           "\r\n"
	                           "abc123\r\n"
	                           "------b0und\r\n"
	                           "Content-Disposition: form-data; name=\"file\"; "
	                           "filename=\"C:\\\\backups\\\\nightly.yml\"\r\n"
	                           "Content-Type: application/x-yaml\r\n"
	                           "\r\n"
	                           "- host: a\r\n  x: \"\0\"\r\n"
	                           "------b0und\r\n"
	                           "content-disposition: form-data; name=scope\r\n"
	                           "\r\n"
	                           "static\r\n"
	                           "------b0und--\r\nepilogue";
	struct form_multipart m;
	assert_int_equal(mp(CT, body, sizeof(body) - 1, &m), 0);
	assert_int_equal(m.n, 3);
	const struct form_part *file = form_multipart_get(&m, "file");
	assert_non_null(file);
	assert_string_equal(file->filename, "nightly.yml");
	assert_int_equal(file->len, 19); /* binary-safe: the NUL is kept */
	assert_memory_equal(file->data, "- host: a\r\n  x: \"\0\"", 19);
	assert_null(form_multipart_get(&m, "csrf_token")->filename);
	json_t *fields = NULL;
	struct err e = {0};
	assert_int_equal(form_multipart_fields(&m, &fields, &e), 0);
	assert_string_equal(form_get(fields, "csrf_token"), "abc123");
	assert_string_equal(form_get(fields, "scope"), "static");
	assert_string_equal(form_get(fields, "file"), ""); /* files are not fields */
	json_decref(fields);
	form_multipart_release(&m);
	/* a quoted boundary, an empty field, no epilogue */
	static const char b2[] = "--x y\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
	                         "\r\n--x y--";
	assert_int_equal(
	    mp("multipart/form-data; charset=utf-8; boundary=\"x y\"", b2, sizeof(b2) - 1, &m), 0);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.v[0].len, 0);
	form_multipart_release(&m);
	form_multipart_release(NULL);
}

static void multipart_refuses_malformed_bodies(void **state)
{
	(void)state;
	static const char *const types[] = {
	    NULL,
	    "application/x-www-form-urlencoded",
	    "multipart/form-data",
	    "multipart/form-data; boundary=",
	    "multipart/form-data; boundary=\"unclosed",
	    "multipart/form-data; boundary=a\x01b",
	    "multipart/form-data; boundary=ends-in-space ",
	    "multipart/form-datax; boundary=b",
	    "multipart/form-data; boundary=01234567890123456789012345678901234567890123456789"
	    "012345678901234567890",
	};
	static const char ok[] =
	    "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--b--";
	struct form_multipart m;
	for (size_t i = 0; i < sizeof(types) / sizeof(*types); i++)
		if (mp(types[i], ok, sizeof(ok) - 1, &m) != ERR_INVAL)
			fail_msg("accepted content type %zu", i);
	assert_int_equal(mp("multipart/form-data; boundary=b", ok, sizeof(ok) - 1, &m), 0);
	form_multipart_release(&m);
	static const char *const bad[] = {
	    "",
	    "--",
	    "--b",
	    "preamble\r\n--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--b--",
	    "--b\nContent-Disposition: form-data; name=\"a\"\n\nv\n--b--",
	    "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv",
	    "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--b",
	    "--b\r\nContent-Disposition: form-data; name=\"a\"",
	    "--b\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--b--",
	    "--b\r\nContent-Disposition: form-data\r\n\r\nv\r\n--b--",
	    "--b\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nv\r\n--b--",
	    "--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\nv\r\n--b--",
	    "--b\r\nContent-Type: text/plain\r\n\r\nv\r\n--b--",
	    "--b\r\nno colon here\r\n\r\nv\r\n--b--",
	    "--b\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Disposition: "
	    "form-data; name=\"b\"\r\n\r\nv\r\n--b--",
	    "--b\r\nContent-Disposition: form-data; name=a; junk\r\n\r\nv\r\n--b--",
	    "--bx\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--b--",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (mp("multipart/form-data; boundary=b", bad[i], strlen(bad[i]), &m) != ERR_INVAL)
			fail_msg("accepted body %zu: %s", i, bad[i]);
		assert_null(m.v);
	}
	/* a NUL in the part headers */
	static const char nul[] =
	    "--b\r\nContent-Disposition: form-data; name=\"a\0\"\r\n\r\nv\r\n--b--";
	assert_int_equal(mp("multipart/form-data; boundary=b", nul, sizeof(nul) - 1, &m),
	                 ERR_INVAL);
	/* too many parts */
	struct buf b;
	buf_init(&b, 0);
	for (int i = 0; i <= FORM_MAX_PARTS; i++)
		buf_addf(&b, "--b\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\nv\r\n", i);
	buf_adds(&b, "--b--");
	assert_int_equal(mp("multipart/form-data; boundary=b", b.data, b.len, &m), ERR_INVAL);
	buf_release(&b);
	/* a field that is not UTF-8 parses, but cannot become a form field */
	static const char latin[] =
	    "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\xe9\r\n--b--";
	assert_int_equal(mp("multipart/form-data; boundary=b", latin, sizeof(latin) - 1, &m), 0);
	json_t *fields = NULL;
	struct err e = {0};
	assert_int_equal(form_multipart_fields(&m, &fields, &e), ERR_INVAL);
	assert_null(fields);
	form_multipart_release(&m);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(decodes_fields),
	    cmocka_unit_test(refuses_bad_bodies),
	    cmocka_unit_test(cookies),
	    cmocka_unit_test(local_paths),
	    cmocka_unit_test(url_encoding),
	    cmocka_unit_test(multipart_fields_and_files),
	    cmocka_unit_test(multipart_refuses_malformed_bodies),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
