/*
 * Tests for render/tmpl.c: escaping, values, sections and inverted
 * sections, context lookup, partials, the raw-output guard, every parse
 * error with its line, standalone lines, loading a base directory with an
 * override directory, and render limits.
 * Run one case: ./test_tmpl.t <name-glob>.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "../../common/buf.h"
#include "../../common/err.h"
#include "../../common/fileio.h"
#include "../../common/xalloc.h"
#include "../../render/tmpl.h"
#include "../../common/banned.h"

static json_t *ctx_of(const char *json)
{
	json_error_t je;
	json_t *v = json_loads(json ? json : "{}", JSON_DECODE_ANY, &je);
	if (!v)
		fail_msg("bad test json: %s", je.text);
	return v;
}

/* A finished set from NULL-terminated name, text pairs. */
static struct tmpl_set *set_of(const char *name, ...)
{
	struct tmpl_set *s = tmpl_set_new();
	struct err e = {0};
	va_list ap;
	va_start(ap, name);
	for (const char *n = name; n; n = va_arg(ap, const char *)) {
		const char *text = va_arg(ap, const char *);
		if (tmpl_set_add_string(s, n, text, strlen(text), &e))
			fail_msg("%s", e.msg);
	}
	va_end(ap);
	if (tmpl_set_finish(s, &e))
		fail_msg("%s", e.msg);
	return s;
}

/* Render template "main" of s with json and compare with want. */
static void expect_set(struct tmpl_set *s, const char *json, const char *want)
{
	struct err e = {0};
	struct buf out;
	json_t *ctx = ctx_of(json);
	buf_init(&out, 0);
	if (tmpl_render(s, "main", ctx, &out, &e))
		fail_msg("%s", e.msg);
	assert_string_equal(out.data, want);
	buf_release(&out);
	json_decref(ctx);
}

static void expect(const char *text, const char *json, const char *want)
{
	struct tmpl_set *s = set_of("main", text, NULL);
	expect_set(s, json, want);
	tmpl_set_free(s);
}

static void expect_parse_error(const char *text, const char *msg)
{
	struct tmpl_set *s = tmpl_set_new();
	struct err e = {0};
	assert_int_equal(tmpl_set_add_string(s, "t", text, strlen(text), &e), ERR_INVAL);
	assert_string_equal(e.msg, msg);
	assert_int_equal(tmpl_set_has(s, "t"), 0);
	tmpl_set_free(s);
}

static void escapes_every_special_char(void **state)
{
	(void)state;
	expect("{{v}}", "{\"v\": \"a&b<c>d\\\"e'f`g=h\"}",
	       "a&amp;b&lt;c&gt;d&quot;e&#39;f&#96;g&#61;h");
	expect("{{v}}", "{\"v\": \"&&<<\"}", "&amp;&amp;&lt;&lt;");
	expect("{{v}}", "{\"v\": \"plain text, é ü 日本\"}", "plain text, é ü 日本");

	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(tmpl_escape_html(&b, "x<y", 3), 0);
	assert_int_equal(tmpl_escape_html(&b, "=", 1), 0);
	assert_int_equal(tmpl_escape_html(&b, "", 0), 0);
	assert_string_equal(b.data, "x&lt;y&#61;");
	buf_release(&b);
}

static void escape_stops_at_ceiling(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 6);
	assert_int_equal(buf_adds(&b, "ab"), 0);
	assert_int_equal(tmpl_escape_html(&b, "c<d", 3), ERR_TOOBIG);
	assert_string_equal(b.data, "ab");
	assert_int_equal(b.len, 2);
	buf_release(&b);
}

static void scalar_values(void **state)
{
	(void)state;
	expect("{{i}}|{{n}}|{{z}}|{{big}}",
	       "{\"i\": 42, \"n\": -7, \"z\": 0, \"big\": 9007199254740993}",
	       "42|-7|0|9007199254740993");
	expect("{{a}}|{{b}}|{{c}}|{{d}}|{{e}}",
	       "{\"a\": 1.5, \"b\": 0.1, \"c\": 3.0, \"d\": 1e20, \"e\": -0.25}",
	       "1.5|0.1|3|1e+20|-0.25");
	expect("{{t}}|{{f}}", "{\"t\": true, \"f\": false}", "true|false");
	expect("[{{n}}][{{o}}][{{a}}]", "{\"n\": null, \"o\": {\"x\": 1}, \"a\": [1, 2]}",
	       "[][][]");
}

static void missing_names_render_empty(void **state)
{
	(void)state;
	expect("[{{nope}}][{{a.b.c}}][{{{nope_html}}}][{{s.x}}][{{n.x}}]",
	       "{\"s\": \"str\", \"n\": 5}", "[][][][][]");
	expect("[{{x}}]{{#x}}no{{/x}}", NULL, "[]");
	/* No context at all. */
	struct tmpl_set *s = set_of("main", "a{{x}}{{.}}b", NULL);
	struct buf out;
	buf_init(&out, 0);
	assert_int_equal(tmpl_render(s, "main", NULL, &out, NULL), 0);
	assert_string_equal(out.data, "ab");
	buf_release(&out);
	tmpl_set_free(s);
}

static void section_over_arrays(void **state)
{
	(void)state;
	expect("{{#xs}}<{{.}}>{{/xs}}", "{\"xs\": [1, \"two\", 3.5]}", "<1><two><3.5>");
	expect("{{#xs}}{{name}};{{/xs}}", "{\"xs\": [{\"name\": \"a\"}, {\"name\": \"b&c\"}]}",
	       "a;b&amp;c;");
	expect("[{{#xs}}x{{/xs}}]", "{\"xs\": []}", "[]");
	expect("{{#xs}}({{#.}}{{.}}{{/.}}){{/xs}}", "{\"xs\": [[1, 2], [], [3]]}", "(12)()(3)");
}

static void section_over_objects(void **state)
{
	(void)state;
	expect("{{#o}}{{a}}-{{b}}{{/o}}", "{\"o\": {\"a\": 1, \"b\": \"x\"}}", "1-x");
	expect("[{{#o}}once{{/o}}]", "{\"o\": {}}", "[once]");
}

static void section_truthiness(void **state)
{
	(void)state;
	const char *json = "{\"t\": true, \"f\": false, \"n\": null, \"e\": \"\", \"s\": \"yes\", "
	                   "\"z\": 0, \"i\": 5, \"r0\": 0.0, \"r\": 0.5}";
	expect("{{#t}}[{{.}}]{{/t}}{{#f}}F{{/f}}{{#n}}N{{/n}}{{#e}}E{{/e}}{{#s}}[{{.}}]{{/s}}"
	       "{{#z}}Z{{/z}}{{#i}}[{{.}}]{{/i}}{{#r0}}R{{/r0}}{{#r}}[{{.}}]{{/r}}{{#m}}M{{/m}}",
	       json, "[true][yes][5][0.5]");
}

static void inverted_sections(void **state)
{
	(void)state;
	const char *json = "{\"t\": true, \"f\": false, \"n\": null, \"e\": \"\", \"s\": \"yes\", "
	                   "\"z\": 0, \"i\": 5, \"a\": [], \"b\": [1], \"o\": {}}";
	expect("{{^t}}t{{/t}}{{^f}}f{{/f}}{{^n}}n{{/n}}{{^e}}e{{/e}}{{^s}}s{{/s}}{{^z}}z{{/z}}"
	       "{{^i}}i{{/i}}{{^a}}a{{/a}}{{^b}}b{{/b}}{{^o}}o{{/o}}{{^m}}m{{/m}}",
	       json, "fnezam");
	/* Inverted sections do not push anything. */
	expect("{{^a}}{{x}}{{/a}}", "{\"a\": [], \"x\": \"top\"}", "top");
}

static void lookup_walks_outward(void **state)
{
	(void)state;
	const char *json = "{\"name\": \"outer\", \"sep\": \"/\", \"items\": [{\"x\": 1}, "
	                   "{\"x\": 2, \"name\": \"inner\"}]}";
	expect("{{#items}}{{name}}{{sep}}{{x}} {{/items}}{{name}}", json, "outer/1 inner/2 outer");
	/* Three levels: the nearest definition wins. */
	expect("{{#a}}{{#b}}{{v}}{{w}}{{u}}{{/b}}{{/a}}",
	       "{\"u\": 1, \"v\": 1, \"w\": 1, \"a\": {\"v\": 2, \"w\": 2, \"b\": {\"v\": 3}}}",
	       "321");
}

static void dotted_names(void **state)
{
	(void)state;
	expect("{{a.b.c}}|{{#a.b}}{{c}}{{/a.b}}|{{a.b.n}}",
	       "{\"a\": {\"b\": {\"c\": \"deep\", \"n\": 7}}}", "deep|deep|7");
	/* Only the first segment walks outwards: a found in o has no b, so nothing. */
	expect("{{#o}}[{{a.b}}]{{/o}}", "{\"a\": {\"b\": 1}, \"o\": {\"a\": {}}}", "[]");
	/* Found further out when the inner contexts lack it. */
	expect("{{#o}}[{{a.b}}]{{/o}}", "{\"a\": {\"b\": 1}, \"o\": {\"x\": 1}}", "[1]");
	expect("{{a-b_1}}", "{\"a-b_1\": \"ok\"}", "ok");
}

static void dot_is_current_element(void **state)
{
	(void)state;
	expect("{{#xs}}{{.}},{{/xs}}", "{\"xs\": [\"<a>\", \"b\"]}", "&lt;a&gt;,b,");
	expect("[{{.}}]", "{\"x\": 1}", "[]");
	expect("{{#s}}{{.}}{{/s}}", "{\"s\": \"x\\\"y\"}", "x&quot;y");
}

static void partials(void **state)
{
	(void)state;
	struct tmpl_set *s = set_of("main", "<ul>{{#items}}{{> item}}{{/items}}</ul>{{>item}}",
	                            "item", "<li>{{name}}</li>", NULL);
	expect_set(s, "{\"name\": \"top\", \"items\": [{\"name\": \"a\"}, {\"name\": \"b\"}]}",
	           "<ul><li>a</li><li>b</li></ul><li>top</li>");
	tmpl_set_free(s);

	/* Recursion bounded by the data is fine. */
	s = set_of("main", "{{> node}}", "node", "{{name}}({{#kids}}{{> node}}{{/kids}})", NULL);
	expect_set(
	    s,
	    "{\"name\": \"a\", \"kids\": [{\"name\": \"b\", \"kids\": []}, {\"name\": \"c\", "
	    "\"kids\": [{\"name\": \"d\", \"kids\": []}]}]}",
	    "a(b()c(d()))");
	tmpl_set_free(s);
}

static void missing_partial_is_a_load_error(void **state)
{
	(void)state;
	struct tmpl_set *s = tmpl_set_new();
	struct err e = {0};
	const char *t = "a\n{{#x}}\n  {{> nope}}\n{{/x}}";
	assert_int_equal(tmpl_set_add_string(s, "tile", t, strlen(t), &e), 0);
	assert_int_equal(tmpl_set_finish(s, &e), ERR_INVAL);
	assert_string_equal(e.msg, "tile.html:3: unknown partial 'nope'");
	/* Not renderable until finished. */
	struct buf out;
	buf_init(&out, 0);
	assert_int_equal(tmpl_render(s, "tile", NULL, &out, &e), ERR_INVAL);
	/* Adding the partial later fixes it. */
	assert_int_equal(tmpl_set_add_string(s, "nope", "N", 1, &e), 0);
	assert_int_equal(tmpl_set_finish(s, &e), 0);
	json_t *ctx = ctx_of("{\"x\": true}");
	assert_int_equal(tmpl_render(s, "tile", ctx, &out, &e), 0);
	assert_string_equal(out.data, "a\nN");
	json_decref(ctx);
	buf_release(&out);
	tmpl_set_free(s);
}

static void partial_recursion_is_limited(void **state)
{
	(void)state;
	struct tmpl_set *s = set_of("main", "x\n{{> main}}", NULL);
	struct err e = {0};
	struct buf out;
	buf_init(&out, 0);
	assert_int_equal(buf_adds(&out, "keep"), 0);
	assert_int_equal(tmpl_render(s, "main", NULL, &out, &e), ERR_INVAL);
	assert_string_equal(e.msg, "main.html:2: partial 'main' nested deeper than 32");
	assert_string_equal(out.data, "keep");
	buf_release(&out);
	tmpl_set_free(s);

	/* Exactly 32 nested partials are fine. */
	s = set_of("main", "{{#a}}{{> p}}{{/a}}", "p", "{{#a}}<{{> p}}{{/a}}", NULL);
	char json[1024] = "{\"a\": ", *p = json + strlen(json);
	for (int i = 0; i < 32; i++)
		p += snprintf(p, sizeof(json) - (size_t)(p - json), "[{\"a\": ");
	p += snprintf(p, sizeof(json) - (size_t)(p - json), "false");
	for (int i = 0; i < 32; i++)
		p += snprintf(p, sizeof(json) - (size_t)(p - json), "}]");
	snprintf(p, sizeof(json) - (size_t)(p - json), "}");
	expect_set(s, json, "<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<");
	tmpl_set_free(s);
}

static void raw_output_needs_html_name(void **state)
{
	(void)state;
	expect("{{{notes_html}}}|{{& notes_html}}|{{{ bucket.services_html }}}|{{notes_html}}",
	       "{\"notes_html\": \"<p>hi</p>\", \"bucket\": {\"services_html\": \"<tr>\"}}",
	       "<p>hi</p>|<p>hi</p>|<tr>|&lt;p&gt;hi&lt;/p&gt;");
	expect_parse_error("x\n{{{name}}}",
	                   "t.html:2: raw output of 'name' needs a name ending in _html");
	expect_parse_error("{{& name}}",
	                   "t.html:1: raw output of 'name' needs a name ending in _html");
	expect_parse_error("{{{html}}}",
	                   "t.html:1: raw output of 'html' needs a name ending in _html");
	expect_parse_error("{{{a_html.b}}}",
	                   "t.html:1: raw output of 'a_html.b' needs a name ending in _html");
	expect_parse_error("{{{.}}}", "t.html:1: raw output of '.' needs a name ending in _html");
}

static void parse_errors_name_the_line(void **state)
{
	(void)state;
	expect_parse_error("a\nb\n{{#urls}}\nx", "t.html:3: unclosed section 'urls'");
	expect_parse_error("{{#a}}\n{{^b}}\n{{/b}}", "t.html:1: unclosed section 'a'");
	expect_parse_error("{{#y}}\n\n{{/x}}", "t.html:3: mismatched close 'x' (open 'y')");
	expect_parse_error("a\n{{/x}}", "t.html:2: close 'x' without open section");
	expect_parse_error("\n\n\n{{name", "t.html:4: unterminated tag");
	expect_parse_error("{{{a_html}}", "t.html:1: unterminated tag");
	expect_parse_error("ok\n{{! never closed", "t.html:2: unterminated tag");
	expect_parse_error("{{}}", "t.html:1: empty name in tag");
	expect_parse_error("\n{{#  }}", "t.html:2: empty name in tag");
	expect_parse_error("{{> }}", "t.html:1: empty name in tag");
	expect_parse_error("{{{ }}}", "t.html:1: empty name in tag");
	expect_parse_error("x\n{{a b}}",
	                   "t.html:2: bad name 'a b' (letters, digits, '_', '-', '.' only)");
	expect_parse_error("{{a..b}}",
	                   "t.html:1: bad name 'a..b' (letters, digits, '_', '-', '.' only)");
	expect_parse_error("{{.a}}",
	                   "t.html:1: bad name '.a' (letters, digits, '_', '-', '.' only)");
	expect_parse_error("{{#a.}}{{/a.}}",
	                   "t.html:1: bad name 'a.' (letters, digits, '_', '-', '.' only)");
	expect_parse_error("{{<x>}}",
	                   "t.html:1: bad name '<x>' (letters, digits, '_', '-', '.' only)");
	expect_parse_error("{{=<% %>=}}",
	                   "t.html:1: bad name '=<% %>=' (letters, digits, '_', '-', '.' only)");
	expect_parse_error("{{> a/b}}", "t.html:1: bad partial name 'a/b'");
	/* Lines are counted through multi-line comments and removed standalone lines. */
	expect_parse_error("{{! a\nb\nc }}\n  {{#x}}  \n{{y", "t.html:5: unterminated tag");
	expect_parse_error("{{! a\nb\nc }}\n{{#x}}", "t.html:4: unclosed section 'x'");
	expect_parse_error("a\r\n{{#x}}\r\n", "t.html:2: unclosed section 'x'");

	char deep[TMPL_MAX_NEST * 6 + 16] = "";
	for (int i = 0; i <= TMPL_MAX_NEST; i++)
		memcpy(deep + strlen(deep), "{{#a}}", 7);
	expect_parse_error(deep, "t.html:1: sections nested deeper than 64");
}

static void standalone_lines_are_removed(void **state)
{
	(void)state;
	expect("<ul>\n  {{#xs}}\n  <li>{{.}}</li>\n  {{/xs}}\n</ul>\n", "{\"xs\": [1, 2]}",
	       "<ul>\n  <li>1</li>\n  <li>2</li>\n</ul>\n");
	expect("a\n\t{{! note }}  \nb", NULL, "a\nb");
	expect("a\n{{! multi\nline }}\nb", NULL, "a\nb");
	expect("a\r\n{{#t}}\r\nb\r\n{{/t}}\r\n", "{\"t\": true}", "a\r\nb\r\n");
	expect("{{^t}}\nx\n{{/t}}", "{\"t\": false}", "x\n");
	expect("{{#t}}\nx\n  {{/t}}  ", "{\"t\": true}", "x\n");
	/* Not alone on the line: kept as written. */
	expect("a {{#t}}b{{/t}} c\n", "{\"t\": true}", "a b c\n");
	expect("{{#t}}{{/t}}\nx", "{\"t\": true}", "\nx");
	expect("|{{! c }}|\n", NULL, "||\n");
	/* Interpolation is never standalone. */
	expect("  {{v}}\n", "{\"v\": \"x\"}", "  x\n");
	/* Standalone partials keep the partial's own lines. */
	struct tmpl_set *s = set_of("main", "a\n  {{> p}}\nb", "p", "P\n", NULL);
	expect_set(s, NULL, "a\nP\nb");
	tmpl_set_free(s);
}

static void nul_bytes_and_braces_pass_through(void **state)
{
	(void)state;
	struct tmpl_set *s = tmpl_set_new();
	struct buf out;
	assert_int_equal(tmpl_set_add_string(s, "main", "a\0b{c}}d{", 9, NULL), 0);
	assert_int_equal(tmpl_set_finish(s, NULL), 0);
	buf_init(&out, 0);
	assert_int_equal(tmpl_render(s, "main", NULL, &out, NULL), 0);
	assert_int_equal(out.len, 9);
	assert_memory_equal(out.data, "a\0b{c}}d{", 9);
	buf_release(&out);
	tmpl_set_free(s);
}

static void hostile_values_are_escaped(void **state)
{
	(void)state;
	expect("<a href=\"{{u}}\" title='{{t}}'>{{n}}</a>",
	       "{\"u\": \"javascript:alert(document.cookie='x')\", "
	       "\"t\": \"'><script>alert(1)</script>\", "
	       "\"n\": \"\\\"><img src=x onerror=alert(1)>\"}",
	       "<a href=\"javascript:alert(document.cookie&#61;&#39;x&#39;)\" "
	       "title='&#39;&gt;&lt;script&gt;alert(1)&lt;/script&gt;'>"
	       "&quot;&gt;&lt;img src&#61;x onerror&#61;alert(1)&gt;</a>");
	/* A value that looks like a tag is data, never template. */
	expect("{{v}}", "{\"v\": \"{{{x_html}}}{{> p}}\", \"x_html\": \"<b>\"}",
	       "{{{x_html}}}{{&gt; p}}");
	/* Unquoted-attribute breakers: = and ` are escaped too. */
	expect("<p class={{v}}>", "{\"v\": \"a onclick=`x`\"}",
	       "<p class=a onclick&#61;&#96;x&#96;>");
}

static void render_errors(void **state)
{
	(void)state;
	struct tmpl_set *s = set_of("main", "0123456789{{v}}", NULL);
	struct err e = {0};
	struct buf out;
	json_t *ctx = ctx_of("{\"v\": \"<<<<\"}");

	buf_init(&out, 0);
	assert_int_equal(tmpl_render(s, "nope", ctx, &out, &e), ERR_NOTFOUND);
	assert_string_equal(e.msg, "no template 'nope'");
	buf_release(&out);

	buf_init(&out, 20);
	assert_int_equal(buf_adds(&out, "ab"), 0);
	assert_int_equal(tmpl_render(s, "main", ctx, &out, &e), ERR_TOOBIG);
	assert_string_equal(e.msg, "rendered output over 20 bytes");
	assert_string_equal(out.data, "ab");
	buf_release(&out);

	buf_init(&out, 8);
	assert_int_equal(tmpl_render(s, "main", NULL, &out, &e), ERR_TOOBIG);
	assert_int_equal(out.len, 0);
	buf_release(&out);
	json_decref(ctx);
	tmpl_set_free(s);
}

static void runaway_partials_hit_the_step_budget(void **state)
{
	(void)state;
	/* p0 → 2 × p1 → … → 2^24 calls without one byte of output. */
	struct tmpl_set *s = tmpl_set_new();
	struct err e = {0};
	struct buf out;
	for (int i = 0; i <= 24; i++) {
		char name[16], text[64];
		snprintf(name, sizeof(name), "p%d", i);
		if (i < 24)
			snprintf(text, sizeof(text), "{{> p%d}}{{> p%d}}", i + 1, i + 1);
		else
			text[0] = '\0';
		assert_int_equal(tmpl_set_add_string(s, name, text, strlen(text), &e), 0);
	}
	assert_int_equal(tmpl_set_finish(s, &e), 0);
	buf_init(&out, 0);
	assert_int_equal(tmpl_render(s, "p0", NULL, &out, &e), ERR_TOOBIG);
	assert_non_null(strstr(e.msg, "render takes more than"));
	buf_release(&out);
	tmpl_set_free(s);
}

static void set_basics(void **state)
{
	(void)state;
	struct tmpl_set *s = tmpl_set_new();
	struct err e = {0};
	tmpl_set_free(NULL);
	assert_int_equal(tmpl_set_add_string(s, "", "x", 1, &e), ERR_INVAL);
	assert_int_equal(tmpl_set_add_string(s, "b", "old", 3, &e), 0);
	assert_int_equal(tmpl_set_add_string(s, "a", "", 0, &e), 0);
	assert_int_equal(tmpl_set_has(s, "b"), 1);
	assert_int_equal(tmpl_set_has(s, "a"), 1);
	assert_int_equal(tmpl_set_has(s, "c"), 0);
	/* A failed replacement keeps the old template. */
	assert_int_equal(tmpl_set_add_string(s, "b", "{{x", 3, &e), ERR_INVAL);
	assert_string_equal(e.msg, "b.html:1: unterminated tag");
	assert_int_equal(tmpl_set_add_string(s, "main", "[{{> a}}{{> b}}]", 16, &e), 0);
	assert_int_equal(tmpl_set_finish(s, &e), 0);
	expect_set(s, NULL, "[old]");
	assert_int_equal(tmpl_set_add_string(s, "b", "new", 3, &e), 0);
	assert_int_equal(tmpl_set_finish(s, &e), 0);
	expect_set(s, NULL, "[new]");
	tmpl_set_free(s);
}

#define T(f) cmocka_unit_test(f)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    T(escapes_every_special_char),
	    T(escape_stops_at_ceiling),
	    T(scalar_values),
	    T(missing_names_render_empty),
	    T(section_over_arrays),
	    T(section_over_objects),
	    T(section_truthiness),
	    T(inverted_sections),
	    T(lookup_walks_outward),
	    T(dotted_names),
	    T(dot_is_current_element),
	    T(partials),
	    T(missing_partial_is_a_load_error),
	    T(partial_recursion_is_limited),
	    T(raw_output_needs_html_name),
	    T(parse_errors_name_the_line),
	    T(standalone_lines_are_removed),
	    T(nul_bytes_and_braces_pass_through),
	    T(hostile_values_are_escaped),
	    T(render_errors),
	    T(runaway_partials_hit_the_step_budget),
	    T(set_basics),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
