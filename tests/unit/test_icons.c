/*
 * Icons (store/icons.h): which names are files we may write, which bytes
 * are icons we may serve, and the remembered failures on a real store.
 * Run one case: ./test_icons.t <name-glob>.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../common/err.h"
#include "../../common/fileio.h"
#include "../../store/db.h"
#include "../../store/icons.h"
#include "../../store/merge.h"

static void names(void **state)
{
	(void)state;
	const char *good[] = {"sonarr",   "sonarr.svg",  "pi-hole.png",
	                      "a_b.webp", "Grafana.svg", "x"};
	const char *bad[] = {"",     ".svg", "-x",        "../x",        "a/b.svg",
	                     "a\\b", "x y",  "x\x01.svg", "caf\xc3\xa9", "a:b"};
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		assert_true(store_icon_name_ok(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_false(store_icon_name_ok(bad[i]));
	char longname[STORE_ICON_NAME_MAX + 2];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_false(store_icon_name_ok(longname));
	longname[STORE_ICON_NAME_MAX] = '\0';
	assert_true(store_icon_name_ok(longname));
	assert_false(store_icon_name_ok(NULL));
	/* Only lowercase names are fetched: the icon sets are lowercase. */
	assert_true(store_icon_name_fetchable("sonarr.svg"));
	assert_false(store_icon_name_fetchable("Sonarr.svg"));
}

static void bare_names(void **state)
{
	(void)state;
	assert_true(store_icon_name_bare("sonarr"));
	assert_true(store_icon_name_bare("home-assistant.io")); /* a dot, but no image extension */
	assert_false(store_icon_name_bare("sonarr.svg"));
	assert_false(store_icon_name_bare("x.PNG"));
	assert_false(store_icon_name_bare("x.ico"));
	assert_int_equal(store_icon_kind_of_ext("webp"), STORE_ICON_KIND_WEBP);
	assert_int_equal(store_icon_kind_of_ext("ico"), STORE_ICON_KIND_UNKNOWN);
	assert_string_equal(store_icon_kind_ext(STORE_ICON_KIND_PNG), "png");
	assert_null(store_icon_kind_ext(STORE_ICON_KIND_UNKNOWN));
}

static void derived_names_are_valid(void **state)
{
	(void)state;
	char *a = store_derive_icon(NULL, "My App (test)");
	assert_string_equal(a, "my-app--test-");
	char *b = store_derive_icon("sonarr", "x");
	assert_string_equal(b, "sonarr");
	assert_null(store_derive_icon(NULL, "..."));
	assert_null(store_derive_icon(NULL, ""));
	free(a);
	free(b);
}

static int check(const char *s, enum store_icon_kind *kind)
{
	return store_icon_check(s, strlen(s), kind, NULL);
}

static void svg_accepted(void **state)
{
	(void)state;
	enum store_icon_kind k = STORE_ICON_KIND_UNKNOWN;
	const char *ok[] = {
	    "<svg xmlns=\"http://www.w3.org/2000/svg\"><path d=\"M0 0\"/></svg>",
	    "\xef\xbb\xbf<?xml version=\"1.0\"?>\n<!-- by hand -->\n<!DOCTYPE svg>\n<svg>"
	    "<use href=\"#a\"/><use xlink:href='#b'/></svg>",
	    "<SVG viewBox=\"0 0 1 1\"><text>on top = fine</text></SVG>",
	    "<svg><defs><linearGradient id=\"g\"/></defs><rect fill=\"url(#g)\" "
	    "style=\"fill:url( '#g')\"/><text>a description of it</text></svg>",
	    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?><svg/>",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		struct err e = {0};
		if (store_icon_check(ok[i], strlen(ok[i]), &k, &e))
			fail_msg("refused %zu: %s", i, e.msg);
		assert_int_equal(k, STORE_ICON_KIND_SVG);
	}
}

static void svg_refused(void **state)
{
	(void)state;
	const char *bad[] = {
	    "<svg><script>alert(1)</script></svg>",
	    "<svg><SCRIPT>alert(1)</SCRIPT></svg>",
	    "<svg onload=\"alert(1)\"></svg>",
	    "<svg><rect ONCLICK = 'x'/></svg>",
	    "<svg><a href=\"javascript:alert(1)\">x</a></svg>",
	    "<svg><image href=\"https://tracker.example/x.png\"/></svg>",
	    "<svg><use xlink:href=\"other.svg#a\"/></svg>",
	    "<svg><foreignObject><div>x</div></foreignObject></svg>",
	    "<!DOCTYPE svg [<!ENTITY a \"b\">]><svg>&a;</svg>",
	    "<svg><style>@import url(https://x.example/a.css);</style></svg>",
	    "<html><body>not an svg</body></html>",
	    "plain text",
	    "<svgx></svgx>",
	    "<?xml version=\"1.0\"",
	    /* found in review: prefixes, other encodings, animations, references, CSS */
	    "<svg><s:script xmlns:s=\"http://www.w3.org/2000/svg\">alert(1)</s:script></svg>",
	    "<svg><h:script xmlns:h=\"http://www.w3.org/1999/xhtml\">alert(1)</h:script></svg>",
	    "<svg><x:foreignObject><h:iframe srcdoc=\"x\"/></x:foreignObject></svg>",
	    "<?xml version=\"1.0\" encoding=\"ISO-2022-JP\"?><svg><s\x1b(Bcript>x</script></svg>",
	    "<?xml version=\"1.0\" encoding=\"ISO-2022-JP\"?><svg></svg>",
	    "<svg><a><set attributeName=\"href\" to=\"&#106;avascript:alert(1)\"/>x</a></svg>",
	    "<svg><a><animate attributeName='xlink:href' values='x'/></a></svg>",
	    "<svg><text>&#106;</text></svg>",
	    "<svg><style>rect{fill:url(http://tracker.example/x)}</style></svg>",
	    "<svg><rect style=\"fill:url( 'https://x.example/p.svg#a')\"/></svg>",
	    "<!DOCTYPE svg SYSTEM \"http://evil.example/x.dtd\"><svg></svg>",
	    "<svg><handler>x</handler></svg>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct err e = {0};
		if (!store_icon_check(bad[i], strlen(bad[i]), NULL, &e))
			fail_msg("accepted %zu: %s", i, bad[i]);
		assert_int_equal(e.code, ERR_INVAL);
		assert_true(e.msg[0] != '\0');
	}
	assert_int_equal(store_icon_check("", 0, NULL, NULL), ERR_INVAL);
	assert_int_equal(store_icon_check("<svg>\0</svg>", 12, NULL, NULL), ERR_INVAL);
}

static void binary_kinds(void **state)
{
	(void)state;
	enum store_icon_kind k;
	assert_int_equal(store_icon_check("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16, &k, NULL), 0);
	assert_int_equal(k, STORE_ICON_KIND_PNG);
	assert_int_equal(store_icon_check("RIFF\x10\0\0\0WEBPVP8 ", 16, &k, NULL), 0);
	assert_int_equal(k, STORE_ICON_KIND_WEBP);
	/* GIF, JPEG, ICO: not accepted (only SVG, PNG, WebP). */
	assert_int_equal(store_icon_check("GIF89a\1\0\1\0", 10, NULL, NULL), ERR_INVAL);
	assert_int_equal(store_icon_check("\xff\xd8\xff\xe0\0\x10JFIF", 10, NULL, NULL), ERR_INVAL);
	assert_int_equal(store_icon_check("\0\0\1\0\1\0", 6, NULL, NULL), ERR_INVAL);
	(void)check;
}

static void size_limit(void **state)
{
	(void)state;
	size_t n = STORE_ICON_MAX_BYTES + 1;
	char *big = malloc(n);
	memcpy(big, "\x89PNG\r\n\x1a\n", 8);
	memset(big + 8, 0, n - 8);
	struct err e = {0};
	assert_int_equal(store_icon_check(big, n, NULL, &e), ERR_TOOBIG);
	assert_int_equal(store_icon_check(big, n - 1, NULL, &e), 0);
	free(big);
}

static void failures_round_trip(void **state)
{
	(void)state;
	char tmp[] = "/tmp/portolan-test-icons-XXXXXX";
	assert_non_null(mkdtemp(tmp));
	char dir[96];
	snprintf(dir, sizeof(dir), "%s/services.lmdb", tmp);
	struct store_db *db = NULL;
	struct store_txn *t = NULL;
	struct err e = {0};
	int64_t at = 0;
	char *why = NULL;
	assert_int_equal(store_db_open(&db, dir, &e), 0);
	assert_int_equal(store_txn_begin(db, 1, &t, &e), 0);
	assert_int_equal(store_icon_fail_get(t, "sonarr", &at, &why, &e), ERR_NOTFOUND);
	assert_int_equal(
	    store_icon_fail_put(t, "sonarr", 1795455600, "not found at any source", &e), 0);
	assert_int_equal(store_icon_fail_put(t, "../x", 1, "x", &e), ERR_INVAL);
	assert_int_equal(store_txn_commit(t, &e), 0);
	/* Survives the process: a new environment sees it. */
	store_db_close(db);
	assert_int_equal(store_db_open(&db, dir, &e), 0);
	assert_int_equal(store_txn_begin(db, 1, &t, &e), 0);
	assert_int_equal(store_icon_fail_get(t, "sonarr", &at, &why, &e), 0);
	assert_int_equal(at, 1795455600);
	assert_string_equal(why, "not found at any source");
	free(why);
	why = NULL;
	/* Other names are independent; forgetting twice is fine. */
	assert_int_equal(store_icon_fail_get(t, "radarr", &at, NULL, &e), ERR_NOTFOUND);
	assert_int_equal(store_icon_fail_del(t, "sonarr", &e), 0);
	assert_int_equal(store_icon_fail_del(t, "sonarr", &e), 0);
	assert_int_equal(store_icon_fail_get(t, "sonarr", &at, NULL, &e), ERR_NOTFOUND);
	store_txn_abort(t);
	store_db_close(db);
	fileio_remove_tree(tmp, NULL);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(names),
	    cmocka_unit_test(bare_names),
	    cmocka_unit_test(derived_names_are_valid),
	    cmocka_unit_test(svg_accepted),
	    cmocka_unit_test(svg_refused),
	    cmocka_unit_test(binary_kinds),
	    cmocka_unit_test(size_limit),
	    cmocka_unit_test(failures_round_trip),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
