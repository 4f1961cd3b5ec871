/*
 * The view model (render/model.h): status colours and texts, URL safety,
 * badges, ports, notes, bucketing and sort order — the rules of
 * spec/views.md, checked on the JSON the templates get.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../common/xalloc.h"
#include "../../render/model.h"
#include "../../render/pages.h"
#include "../../common/banned.h"

#define NOW 1800000000LL

static struct render_env env_live(void)
{
	struct render_env env = {.now = NOW, .stale_after = 300, .live_known = 1};
	return env;
}

static void rec(struct store_record *r, uint64_t id, const char *host, const char *name)
{
	store_record_init(r);
	r->id = id;
	r->host = xstrdup(host);
	r->container_name = xstrdup(name);
}

static const char *str(const json_t *o, const char *path)
{
	char *copy = xstrdup(path), *save = NULL;
	const json_t *j = o;
	for (char *k = strtok_r(copy, ".", &save); k && j; k = strtok_r(NULL, ".", &save))
		j = json_is_array(j) ? json_array_get(j, (size_t)strtoul(k, NULL, 10))
		                     : json_object_get(j, k);
	free(copy);
	return json_string_value(j);
}

static json_t *model(const struct store_record *r, const struct render_env *env)
{
	json_t *j = render_model_service(r, env);
	assert_non_null(j);
	return j;
}

static void expect_docker(const char *status, int64_t last, int is_static, const char *cls,
                          const char *text)
{
	struct store_record r;
	rec(&r, 1, "h", "c");
	r.docker_status = status ? xstrdup(status) : NULL;
	r.last_api_update = last;
	r.is_static = is_static;
	struct render_env env = env_live();
	json_t *j = model(&r, &env);
	assert_string_equal(str(j, "docker.status_class"), cls);
	assert_string_equal(str(j, "docker.status_text"), text);
	assert_non_null(str(j, "docker.tooltip"));
	json_decref(j);
	store_record_release(&r);
}

static void test_docker_colours(void **state)
{
	(void)state;
	expect_docker("running", NOW - 10, 0, "ok", "running");
	expect_docker("healthy", NOW - 10, 0, "ok", "healthy");
	/* STD counted unhealthy as healthy and showed exited amber: both red here. */
	expect_docker("unhealthy", NOW - 10, 0, "bad", "unhealthy");
	expect_docker("running (unhealthy)", NOW - 10, 0, "bad", "running (unhealthy)");
	expect_docker("exited", NOW - 10, 0, "bad", "exited");
	expect_docker("dead", NOW - 10, 0, "bad", "dead");
	expect_docker("restarting", NOW - 10, 0, "bad", "restarting");
	expect_docker("paused", NOW - 10, 0, "bad", "paused");
	expect_docker("created", NOW - 10, 0, "warn", "created");
	expect_docker(NULL, 0, 0, "bad", "never registered");
	expect_docker("running", NOW - 301, 0, "warn", "stale (5 min ago)");
	expect_docker("running", NOW - 300, 0, "ok", "running");
	expect_docker("running", 0, 1, "muted", "static");
}

static void test_live_unknown_from_repo(void **state)
{
	(void)state;
	struct store_record r;
	rec(&r, 1, "h", "c");
	r.internalurl = xstrdup("http://10.0.0.1:8080");
	r.internal_health_check_enabled = 1;
	r.container_id = xstrdup("0123456789abcdef0123");
	struct render_env env = env_live();
	env.live_known = 0;
	env.dozzle_url = "http://dozzle:8080/";
	json_t *j = model(&r, &env);
	assert_string_equal(str(j, "docker.status_text"), "unknown");
	assert_string_equal(str(j, "urls.0.status_text"), "unknown");
	assert_string_equal(str(j, "container_id_short"), "");
	assert_null(json_object_get(j, "dozzle_href"));
	json_decref(j);
	store_record_release(&r);
}

static void test_urls_and_links(void **state)
{
	(void)state;
	struct store_record r;
	rec(&r, 7, "h", "c");
	r.internalurl = xstrdup("javascript:alert(1)");
	r.externalurl = xstrdup("https://app.example.com/x");
	r.external_health_check_enabled = 1;
	struct render_env env = env_live();
	json_t *j = model(&r, &env);
	/* The tile links to the first http(s) URL; a javascript: URL stays text. */
	assert_string_equal(str(j, "href"), "https://app.example.com/x");
	assert_true(
	    json_is_null(json_object_get(json_array_get(json_object_get(j, "urls"), 0), "href")));
	assert_string_equal(str(j, "urls.0.url"), "javascript:alert(1)");
	assert_string_equal(str(j, "urls.0.status_text"), "not monitored");
	assert_string_equal(str(j, "urls.1.href"), "https://app.example.com/x");
	assert_string_equal(str(j, "urls.1.status_text"), "no data yet");
	assert_string_equal(str(j, "urls.1.status_class"), "muted");
	assert_false(json_is_true(json_object_get(j, "headless")));
	assert_string_equal(str(j, "edit_path"), "edit/7");
	json_decref(j);
	store_record_release(&r);

	assert_true(render_url_is_http("http://a"));
	assert_true(render_url_is_http("HTTPS://a.b/c?d#e"));
	assert_false(render_url_is_http("http://"));
	assert_false(render_url_is_http("http:///x"));
	assert_false(render_url_is_http("ftp://a"));
	assert_false(render_url_is_http(" http://a"));
	assert_false(render_url_is_http("http://a/\"><script>"));
	assert_false(render_url_is_http("data:text/html,x"));
	assert_false(render_url_is_http(NULL));
}

/* A fake store: internal checks of id 1 answered 200, of id 2 hit TLS, of id 3 timed out. */
static int fake_health(uint64_t id, int dir, const char *url, struct render_url_health *out,
                       void *arg)
{
	(void)arg;
	if (dir != 0 || id > 3 || strcmp(url, "https://svc.lan"))
		return -1;
	static const struct render_url_health h[] = {
	    {RENDER_HEALTH_UP, 200, 120, 0, NOW - 180, 99.5},
	    {RENDER_HEALTH_DEGRADED, 0, 30, 4, NOW - 10, -1},
	    {RENDER_HEALTH_DOWN, 0, 5000, 3, NOW - 7200, 0},
	};
	*out = h[id - 1];
	return 0;
}

static void expect_pill(uint64_t id, const char *url, const char *cls, const char *text,
                        const char *detail)
{
	struct store_record r;
	rec(&r, id, "h", "c");
	r.internalurl = xstrdup(url);
	r.internal_health_check_enabled = 1;
	struct render_env env = env_live();
	env.url_health = fake_health;
	json_t *j = model(&r, &env);
	assert_string_equal(str(j, "urls.0.status_class"), cls);
	assert_string_equal(str(j, "urls.0.status_text"), text);
	assert_string_equal(str(j, "urls.0.detail_text"), detail);
	assert_non_null(strstr(str(j, "urls.0.tooltip"), text));
	json_decref(j);
	store_record_release(&r);
}

static void test_url_health_colours(void **state)
{
	(void)state;
	expect_pill(1, "https://svc.lan", "ok", "200", "120 ms · 3 min ago · 99.5 % up");
	expect_pill(2, "https://svc.lan", "warn", "TLS error", "30 ms · just now");
	expect_pill(3, "https://svc.lan", "bad", "timeout", "5000 ms · 2 h ago · 0.0 % up");
	/* a result for another URL (the URL changed since) is no result */
	expect_pill(1, "https://other.lan", "muted", "no data yet", "");
	/* a new result changes the cache key: the fragment is rendered again */
	struct store_record r;
	rec(&r, 1, "h", "c");
	r.internalurl = xstrdup("https://svc.lan");
	r.internal_health_check_enabled = 1;
	struct render_env env = env_live();
	uint64_t before = render_model_key(&r, &env);
	env.url_health = fake_health;
	assert_true(render_model_key(&r, &env) != before);
	store_record_release(&r);
}

static void test_headless_dozzle_and_search(void **state)
{
	(void)state;
	struct store_record r;
	rec(&r, 3, "Docker01", "Redis");
	r.container_id = xstrdup("abcdef0123456789");
	r.group_name = xstrdup("Data");
	struct render_env env = env_live();
	env.dozzle_url = "http://dozzle.lan:8080//";
	json_t *j = model(&r, &env);
	assert_true(json_is_true(json_object_get(j, "headless")));
	assert_null(json_object_get(j, "href"));
	assert_string_equal(str(j, "dozzle_href"), "http://dozzle.lan:8080/container/abcdef012345");
	assert_string_equal(str(j, "container_id_short"), "abcdef012345");
	assert_string_equal(str(j, "search"), "redis data docker01");
	assert_string_equal(str(j, "initial"), "R");
	assert_false(json_is_true(json_object_get(j, "networks_reported")));
	assert_false(json_is_true(json_object_get(j, "ports_reported")));
	assert_false(json_is_true(json_object_get(j, "exposures_reported")));
	json_decref(j);
	store_record_release(&r);
}

static void test_badges_and_exposures(void **state)
{
	(void)state;
	struct store_record r;
	rec(&r, 1, "h", "c");
	r.exposure_observations = xstrdup("[{\"layer\":\"traefik\",\"hostname\":\"a.example.com\","
	                                  "\"tls\":true,\"path_prefix\":\"/api\","
	                                  "\"auth\":\"authelia\",\"details\":null},"
	                                  "{\"layer\":\"cloudflared\",\"hostname\":\"b.example."
	                                  "com\",\"tls\":true,\"path_prefix\":null,"
	                                  "\"auth\":null,\"details\":null},"
	                                  "{\"layer\":\"caddy\",\"hostname\":null,\"tls\":false,"
	                                  "\"path_prefix\":\"/\",\"auth\":\"none\","
	                                  "\"details\":null},"
	                                  "{\"layer\":\"haproxy\",\"hostname\":\"d\",\"tls\":false,"
	                                  "\"path_prefix\":null,\"auth\":null,"
	                                  "\"details\":null},"
	                                  "{\"layer\":\"nginx\",\"hostname\":\"e\",\"tls\":false,"
	                                  "\"path_prefix\":null,\"auth\":null,"
	                                  "\"details\":null}]");
	struct render_env env = env_live();
	json_t *j = model(&r, &env);
	json_t *badges = json_object_get(j, "badges");
	assert_int_equal(json_array_size(badges), 3);
	assert_string_equal(str(j, "badges.0.icon"), "traefik");
	assert_true(json_is_true(json_object_get(json_array_get(badges, 0), "tls")));
	assert_true(json_is_true(json_object_get(json_array_get(badges, 0), "auth")));
	assert_string_equal(str(j, "badges.1.icon"), "cloudflare");
	assert_false(json_is_true(json_object_get(json_array_get(badges, 1), "auth")));
	assert_string_equal(str(j, "badges.2.icon"), "caddy");
	assert_string_equal(str(j, "badges.0.tooltip"), "traefik · a.example.com/api · TLS · auth");
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(j, "badges_more"), "count")), 2);
	assert_non_null(strstr(str(j, "badges_more.tooltip"), "haproxy"));
	assert_non_null(strstr(str(j, "badges_more.tooltip"), "nginx"));
	assert_int_equal(json_array_size(json_object_get(j, "exposures")), 5);
	assert_string_equal(str(j, "exposures.0.where"), "a.example.com/api");
	assert_string_equal(str(j, "exposures.0.auth_text"), "auth (authelia)");
	assert_string_equal(str(j, "exposures.1.auth_text"), "auth unknown");
	assert_string_equal(str(j, "exposures.2.auth_text"), "no auth");
	assert_string_equal(str(j, "exposures.2.tls_text"), "no TLS");
	assert_false(json_is_true(json_object_get(j, "headless")));
	json_decref(j);
	store_record_release(&r);
}

static void test_ports_and_networks(void **state)
{
	(void)state;
	struct store_record r;
	rec(&r, 1, "h", "c");
	r.published_ports = xstrdup(
	    "[{\"container_port\":80,\"protocol\":\"tcp\",\"host_ip\":\"0.0.0.0\",\"host_port\":"
	    "8080},"
	    "{\"container_port\":80,\"protocol\":\"tcp\",\"host_ip\":\"::\",\"host_port\":8080},"
	    "{\"container_port\":180,\"protocol\":\"tcp\",\"host_ip\":\"\",\"host_port\":80},"
	    "{\"container_port\":53,\"protocol\":\"udp\",\"host_ip\":\"127.0.0.1\",\"host_port\":"
	    "5353},"
	    "{\"container_port\":443,\"protocol\":\"tcp\",\"host_ip\":\"::1\",\"host_port\":8443}"
	    "]");
	r.exposed_ports = xstrdup("[\"80/tcp\",\"9000/tcp\",\"53/udp\",\"7000\"]");
	r.networks = xstrdup("[{\"name\":\"proxy\",\"aliases\":[\"web\",\"app\"]},{\"name\":\"db\","
	                     "\"aliases\":[]}]");
	struct render_env env = env_live();
	json_t *j = model(&r, &env);
	json_t *ports = json_object_get(j, "ports");
	assert_int_equal(json_array_size(ports), 6);
	assert_string_equal(str(j, "ports.0.text"), "80/tcp → 8080"); /* once for 0.0.0.0 and :: */
	assert_string_equal(str(j, "ports.1.text"), "180/tcp → 80");
	assert_string_equal(str(j, "ports.2.text"), "53/udp → 127.0.0.1:5353");
	assert_string_equal(str(j, "ports.3.text"), "443/tcp → [::1]:8443");
	assert_string_equal(str(j, "ports.4.text"), "9000/tcp (exposed)");
	assert_string_equal(str(j, "ports.5.text"), "7000 (exposed)");
	assert_string_equal(str(j, "networks.0.name"), "proxy");
	assert_string_equal(str(j, "networks.0.aliases_text"), "web, app");
	assert_string_equal(str(j, "networks.1.aliases_text"), "");
	json_decref(j);
	store_record_release(&r);
}

static void test_notes_are_safe_markdown(void **state)
{
	(void)state;
	struct store_record r;
	rec(&r, 1, "h", "c");
	r.notes = xstrdup("**bold** <script>alert(1)</script>\n\n[x](javascript:alert(1)) "
	                  "<img src=x onerror=alert(1)>\x01");
	struct render_env env = env_live();
	json_t *j = model(&r, &env);
	const char *html = str(j, "notes_html");
	assert_non_null(html);
	assert_non_null(strstr(html, "<strong>bold</strong>"));
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "javascript:"));
	assert_null(strstr(html, "onerror"));
	assert_null(strchr(html, '\x01')); /* control bytes never reach a page */
	json_decref(j);
	store_record_release(&r);
}

/* Builds services and checks bucket labels and order for one page. */
static void expect_buckets(struct store_record *v, size_t n, const json_t *groups,
                           struct render_page p, const char *want)
{
	struct render_bucket *b;
	size_t nb;
	struct render_order *o = render_order_new(v, n, groups);
	render_model_buckets(o, p, &b, &nb);
	char got[512] = "";
	size_t len = 0;
	for (size_t i = 0; i < nb; i++) {
		len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s:", i ? " | " : "",
		                        b[i].label);
		for (size_t k = 0; k < b[i].n; k++)
			len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s", k ? "," : "",
			                        v[b[i].items[k]].container_name);
	}
	render_buckets_free(b, nb);
	render_order_free(o);
	assert_string_equal(got, want);
}

static void test_buckets_and_order(void **state)
{
	(void)state;
	struct store_record v[6];
	rec(&v[0], 1, "h1", "zeta");
	rec(&v[1], 2, "h2", "Alpha");
	rec(&v[2], 3, "h1", "beta");
	rec(&v[3], 4, "h2", "gamma");
	rec(&v[4], 5, " h1 ", "delta");
	rec(&v[5], 6, "", "eps");
	v[0].group_name = xstrdup("Media");
	v[1].group_name = xstrdup("Media");
	v[2].group_name = xstrdup("infra");
	v[3].group_name = xstrdup("Apps");
	v[0].sort_priority = (struct store_opt_int){1, 1};
	v[0].internalurl = xstrdup("http://z");
	v[2].externalurl = xstrdup("http://b");
	v[3].internalurl = xstrdup("http://g");
	v[0].stack_name = xstrdup("media");
	v[1].stack_name = xstrdup("Media ");
	json_t *groups = json_loads("[{\"name\":\"infra\",\"icon\":\"i.png\",\"sort_priority\":5},"
	                            "{\"name\":\"Media\",\"icon\":null,\"sort_priority\":1},"
	                            "{\"name\":\"Apps\",\"icon\":null,\"sort_priority\":null}]",
	                            0, NULL);
	struct render_page p = {RENDER_VIEW_TABLE, RENDER_BY_GROUP, 1};
	/* Groups by priority (unset last), Ungrouped last; inside by sort_priority then name. */
	expect_buckets(v, 6, groups, p,
	               "Media:zeta,Alpha | infra:beta | Apps:gamma | Ungrouped:delta,eps");
	p.view = RENDER_VIEW_COMPACT; /* compact: alphabetical */
	expect_buckets(v, 6, groups, p,
	               "Media:Alpha,zeta | infra:beta | Apps:gamma | Ungrouped:delta,eps");
	p.view = RENDER_VIEW_TABLE;
	p.show_urlless = 0; /* URL-less removed before bucketing: Ungrouped disappears */
	expect_buckets(v, 6, groups, p, "Media:zeta | infra:beta | Apps:gamma");
	p.show_urlless = 1;
	p.group_by = RENDER_BY_HOST; /* trimmed, case-insensitive order, empty last */
	expect_buckets(v, 6, groups, p, "h1:zeta,beta,delta | h2:Alpha,gamma | Unknown host:eps");
	p.group_by = RENDER_BY_STACK;
	expect_buckets(v, 6, groups, p,
	               "Media:Alpha | media:zeta | Unstacked:beta,delta,eps,gamma");
	json_decref(groups);
	for (int i = 0; i < 6; i++)
		store_record_release(&v[i]);
}

static void test_pages_and_std_urls(void **state)
{
	(void)state;
	struct render_page p;
	assert_string_equal(render_page_file(render_page_nth(0)), "index.html");
	for (size_t i = 0; i < RENDER_NPAGES; i++)
		for (size_t k = i + 1; k < RENDER_NPAGES; k++)
			assert_string_not_equal(render_page_file(render_page_nth(i)),
			                        render_page_file(render_page_nth(k)));
	assert_int_equal(render_page_from_std("/", NULL, NULL, &p), 0);
	assert_string_equal(render_page_file(p), "index.html");
	assert_int_equal(render_page_from_std("/tiled_dash", "host", "false", &p), 0);
	assert_string_equal(render_page_file(p), "tiled-host-urls.html");
	assert_int_equal(render_page_from_std("/compact_dash", "STACK", "true", &p), 0);
	assert_string_equal(render_page_file(p), "compact-stack.html");
	assert_int_equal(render_page_from_std("/compact_dash", "bogus", "maybe", &p), 0);
	assert_string_equal(render_page_file(p), "compact-group.html");
	assert_int_equal(render_page_from_std("/other", NULL, NULL, &p), -1);
}

static void test_age_text(void **state)
{
	(void)state;
	char b[32];
	render_age_text(5, b, sizeof(b));
	assert_string_equal(b, "just now");
	render_age_text(600, b, sizeof(b));
	assert_string_equal(b, "10 min ago");
	render_age_text(7200, b, sizeof(b));
	assert_string_equal(b, "2 h ago");
	render_age_text(86400 * 3, b, sizeof(b));
	assert_string_equal(b, "3 d ago");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_docker_colours),
	    cmocka_unit_test(test_live_unknown_from_repo),
	    cmocka_unit_test(test_urls_and_links),
	    cmocka_unit_test(test_url_health_colours),
	    cmocka_unit_test(test_headless_dozzle_and_search),
	    cmocka_unit_test(test_badges_and_exposures),
	    cmocka_unit_test(test_ports_and_networks),
	    cmocka_unit_test(test_notes_are_safe_markdown),
	    cmocka_unit_test(test_buckets_and_order),
	    cmocka_unit_test(test_pages_and_std_urls),
	    cmocka_unit_test(test_age_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
