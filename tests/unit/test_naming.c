#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../store/naming.h"
#include "../../common/banned.h"

static const char *const tricky[] = {
    "a/b",   "a%2Fb",    "a%2fb",   ".",     "..",       "...",    ".hidden", "%2Ehidden",
    "",      "%00",      "a b",     "a%20b", "\xc3\x84", "%C3%84", "Web",     "web",
    "a.",    "a..b",     "-",       "_",     "a\\b",     "%",      "%%",      "a\nb",
    "x.yml", "services", "..%2F..", "\xff",  "a:b",      "A",      "a",
};
#define NTRICKY (sizeof(tricky) / sizeof(tricky[0]))

/* Only safe file-name characters, never hidden, never "." or "..". */
static void assert_safe_component(const char *enc)
{
	assert_true(enc[0] != '\0');
	assert_true(enc[0] != '.');
	for (const char *p = enc; *p; p++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		                       "0123456789_.-%",
		                       *p));
}

static void assert_encodes(const char *in, const char *want)
{
	char *got = store_naming_encode(in);
	assert_string_equal(got, want);
	char *back = NULL;
	assert_int_equal(store_naming_decode(got, &back), 0);
	assert_string_equal(back, in);
	free(back);
	free(got);
}

static void test_encode_examples(void **state)
{
	(void)state;
	assert_encodes("nginx", "nginx");
	assert_encodes("My_App-2.web", "My_App-2.web");
	assert_encodes("a/b", "a%2Fb");
	assert_encodes("a%2Fb", "a%252Fb");
	assert_encodes(".", "%2E");
	assert_encodes("..", "%2E.");
	assert_encodes(".hidden", "%2Ehidden");
	assert_encodes("", "%00");
	assert_encodes("a b", "a%20b");
	assert_encodes("\xc3\x84", "%C3%84");
	assert_encodes("a\\b", "a%5Cb");
	assert_encodes("\x01\x7f\xff", "%01%7F%FF");
}

static void test_service_path(void **state)
{
	(void)state;
	char *p = store_naming_service_path("docker01", "nginx");
	assert_string_equal(p, "services/docker01/nginx.yml");
	free(p);
	p = store_naming_service_path("..", "a/b");
	assert_string_equal(p, "services/%2E./a%2Fb.yml");
	free(p);
	p = store_naming_service_path("", "");
	assert_string_equal(p, "services/%00/%00.yml");
	free(p);
}

static void test_injective_on_tricky_names(void **state)
{
	(void)state;
	char *enc[NTRICKY];
	for (size_t i = 0; i < NTRICKY; i++) {
		enc[i] = store_naming_encode(tricky[i]);
		assert_safe_component(enc[i]);
		char *back = NULL;
		assert_int_equal(store_naming_decode(enc[i], &back), 0);
		assert_string_equal(back, tricky[i]);
		free(back);
	}
	for (size_t i = 0; i < NTRICKY; i++)
		for (size_t j = i + 1; j < NTRICKY; j++)
			assert_string_not_equal(enc[i], enc[j]);
	/* Whole paths: (host, container) pairs that concatenate alike stay apart. */
	char *p1 = store_naming_service_path("a/b", "c");
	char *p2 = store_naming_service_path("a", "b/c");
	assert_string_not_equal(p1, p2);
	free(p1);
	free(p2);
	for (size_t i = 0; i < NTRICKY; i++)
		free(enc[i]);
}

/* Every string of up to three bytes over an alphabet of troublemakers. */
static void test_injective_exhaustive(void **state)
{
	(void)state;
	static const char alpha[] = "a.%/A2F\xc3 0";
	size_t na = strlen(alpha), n = 0;
	char *names[1 + 11 + 121 + 1331];
	char s[4];
	for (size_t len = 0; len <= 3; len++) {
		size_t total = 1;
		for (size_t k = 0; k < len; k++)
			total *= na;
		for (size_t idx = 0; idx < total; idx++) {
			size_t x = idx;
			for (size_t k = 0; k < len; k++, x /= na)
				s[k] = alpha[x % na];
			s[len] = '\0';
			names[n] = store_naming_encode(s);
			assert_safe_component(names[n]);
			char *back = NULL;
			assert_int_equal(store_naming_decode(names[n], &back), 0);
			assert_string_equal(back, s);
			free(back);
			n++;
		}
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			assert_string_not_equal(names[i], names[j]);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
}

static void test_decode_rejects_foreign_names(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",  ".x", ".",   "..",   "a%2fb", "%41",  "a%2Eb",    "%2D", "a b",  "a/b",
	    "%", "%4", "%ZZ", "%00x", "a%00",  "%%41", "\xc3\x84", "a:b", "a%g0",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char *out = (char *)"untouched";
		assert_int_equal(store_naming_decode(bad[i], &out), -1);
		assert_string_equal(out, "untouched");
	}
}

static void test_parse_path(void **state)
{
	(void)state;
	char *h = NULL, *c = NULL;
	assert_int_equal(store_naming_parse_path("services/docker01/nginx.yml", &h, &c), 0);
	assert_string_equal(h, "docker01");
	assert_string_equal(c, "nginx");
	free(h);
	free(c);
	assert_int_equal(store_naming_parse_path("services/%2E./a%2Fb.yml", &h, &c), 0);
	assert_string_equal(h, "..");
	assert_string_equal(c, "a/b");
	free(h);
	free(c);
	assert_int_equal(store_naming_parse_path("services/%00/x.yml.yml", NULL, &c), 0);
	assert_string_equal(c, "x.yml");
	free(c);

	static const char *const bad[] = {
	    "services/a/b.yaml", "services/a/b/c.yml", "other/a/b.yml",  "services/a/.yml",
	    "services//b.yml",   "services/a/b",       "services/a.yml", "services/.x/b.yml",
	    "/services/a/b.yml", "services/a/%41.yml", "groups.yml",     "services/a/b.yml/",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		h = c = (char *)"untouched";
		assert_int_equal(store_naming_parse_path(bad[i], &h, &c), -1);
		assert_string_equal(h, "untouched");
		assert_string_equal(c, "untouched");
	}
}

static void test_long_names_fit(void **state)
{
	(void)state;
	char a[300], b[300];
	memset(a, 'a', 255);
	a[255] = '\0';
	memcpy(b, a, sizeof(a));
	b[254] = 'b'; /* differs only past the kept prefix */
	char *pa = store_naming_service_path("h", a);
	char *pb = store_naming_service_path("h", b);
	assert_string_not_equal(pa, pb);
	const char *base = strrchr(pa, '/') + 1;
	assert_true(strlen(base) <= STORE_NAMING_MAX_COMPONENT);
	assert_non_null(strchr(base, '~'));
	free(pa);
	free(pb);
	/* Multi-byte names triple when encoded; escapes are never cut. */
	char *wide = malloc(3 * 100 + 1);
	for (int i = 0; i < 100; i++)
		memcpy(wide + 2 * i, "\xc3\xa4", 2);
	wide[200] = '\0';
	char *pw = store_naming_service_path(wide, "c");
	const char *hostpart = pw + strlen("services/");
	size_t hlen = (size_t)(strchr(hostpart, '/') - hostpart);
	assert_true(hlen <= STORE_NAMING_MAX_COMPONENT);
	const char *tilde = strchr(hostpart, '~');
	assert_non_null(tilde);
	assert_true(tilde[-1] != '%' && tilde[-2] != '%');
	free(pw);
	free(wide);
	/* 251 'a's + ".yml" = 255: still plain. */
	memset(a, 'a', 251);
	a[251] = '\0';
	char *pp = store_naming_service_path("h", a);
	assert_null(strchr(pp, '~'));
	free(pp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_encode_examples),
	    cmocka_unit_test(test_service_path),
	    cmocka_unit_test(test_injective_on_tricky_names),
	    cmocka_unit_test(test_injective_exhaustive),
	    cmocka_unit_test(test_decode_rejects_foreign_names),
	    cmocka_unit_test(test_parse_path),
	    cmocka_unit_test(test_long_names_fit),
	};
	return cmocka_run_group_tests_name("naming", tests, NULL, NULL);
}
