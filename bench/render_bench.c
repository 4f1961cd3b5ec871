/*
 * Static site render speed (issue: static site). For 1,000 and 10,000
 * synthetic services: a full render of every page into an empty dir, a
 * re-render with nothing changed, and a re-render after one service
 * changed. Targets: full 1,000 <= 50 ms, 10,000 <= 600 ms; one change at
 * 1,000 <= 20 ms. Also reports the tiled page's size, plain and gzipped,
 * per 100 services.
 *
 * usage: render_bench DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../common/fileio.h"
#include "../common/xalloc.h"
#include "../render/site.h"
#include "../common/banned.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define NOW 1800000000LL

static const char *const layers[] = {"traefik", "cloudflared", "nginx", "caddy"};

/* A varied, realistic-looking service i of n. */
static void make_service(struct store_record *r, size_t i)
{
	char b[256];
	store_record_init(r);
	r->id = i + 1;
	snprintf(b, sizeof(b), "docker%02zu", i % 7 + 1);
	r->host = xstrdup(b);
	snprintf(b, sizeof(b), "service-%05zu", i);
	r->container_name = xstrdup(b);
	snprintf(b, sizeof(b), "stack%zu", i % 37);
	r->stack_name = xstrdup(b);
	r->image_registry = xstrdup("ghcr.io");
	r->image_owner = xstrdup("linuxserver");
	snprintf(b, sizeof(b), "app%zu", i % 50);
	r->image_name = xstrdup(b);
	r->image_tag = xstrdup("1.2.3");
	if (i % 5) {
		snprintf(b, sizeof(b), "Group %zu", i % 23);
		r->group_name = xstrdup(b);
	}
	if (i % 3 == 0)
		r->sort_priority = (struct store_opt_int){1, (int64_t)(i % 10)};
	if (i % 10 < 7) {
		snprintf(b, sizeof(b), "http://10.0.%zu.%zu:8080", i / 250 % 250, i % 250);
		r->internalurl = xstrdup(b);
		r->internal_health_check_enabled = 1;
	}
	if (i % 10 < 4) {
		snprintf(b, sizeof(b), "https://service-%05zu.example.com", i);
		r->externalurl = xstrdup(b);
		r->external_health_check_enabled = 1;
		snprintf(
		    b, sizeof(b),
		    "[{\"layer\":\"%s\",\"hostname\":\"service-%05zu.example.com\",\"tls\":true,"
		    "\"path_prefix\":null,\"auth\":%s,\"details\":null}]",
		    layers[i % 4], i, i % 2 ? "\"authelia\"" : "null");
		r->exposure_observations = xstrdup(b);
	}
	r->networks = xstrdup("[{\"name\":\"proxy\",\"aliases\":[\"app\"]}]");
	r->published_ports = xstrdup("[{\"container_port\":8080,\"protocol\":\"tcp\",\"host_ip\":"
	                             "\"0.0.0.0\",\"host_port\":8080}]");
	r->exposed_ports = xstrdup("[\"8080/tcp\"]");
	if (i % 10 == 0)
		r->notes =
		    xstrdup("Runs the **nightly** job; see [docs](https://example.com/docs).");
	snprintf(b, sizeof(b), "%064zx", i * 2654435761u);
	r->container_id = xstrdup(b);
	r->docker_status = xstrdup(i % 17 ? "running" : "exited");
	r->started_at = xstrdup("2026-11-20T10:00:00Z");
	r->last_api_update = NOW - (int64_t)(i % 100);
}

static int run(const char *dir, size_t n)
{
	struct store_record *v = xcalloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		make_service(&v[i], i);
	json_t *groups = json_array();
	for (int g = 0; g < 23; g++) {
		char name[32];
		snprintf(name, sizeof(name), "Group %d", g);
		json_array_append_new(groups, json_pack("{s:s, s:n, s:i}", "name", name, "icon",
		                                        "sort_priority", g % 5));
	}
	char *out = xasprintf("%s/site-%zu", dir, n);
	struct err e = {0};
	struct render_site_config cfg = {out, NULL, NULL, NULL};
	struct render_env env = {.now = NOW, .stale_after = 300, .live_known = 1};
	struct render_stats st;
	struct render_site *s = NULL;
	double t0 = now_s(), t1;
	if (render_site_new(&s, &cfg, &e) || render_site_build(s, v, n, groups, &env, &st, &e)) {
		fprintf(stderr, "render_bench: %s\n", e.msg);
		return 1;
	}
	double full = (t1 = now_s()) - t0;
	render_site_compress(s, &e);
	double full_gz = now_s() - t1;
	int reps =
	    getenv("RENDER_BENCH_REPS") ? (int)strtol(getenv("RENDER_BENCH_REPS"), NULL, 10) : 1;
	t0 = now_s();
	for (int r = 0; r < reps; r++)
		render_site_build(s, v, n, groups, &env, &st, &e);
	double same = (now_s() - t0) / reps;
	size_t unchanged = st.pages_unchanged;
	free(v[n / 2].docker_status);
	v[n / 2].docker_status = xstrdup("exited");
	t0 = now_s();
	render_site_build(s, v, n, groups, &env, &st, &e);
	double one = (t1 = now_s()) - t0;
	render_site_compress(s, &e);
	double one_gz = now_s() - t1;
	printf(
	    "render %5zu services: full %7.1f ms + gz %7.1f ms | unchanged %6.1f ms (%zu/%d pages "
	    "kept) | one change %6.1f ms + gz %6.1f ms (%zu fragments, %zu pages)\n",
	    n, full * 1e3, full_gz * 1e3, same * 1e3, unchanged, RENDER_NPAGES, one * 1e3,
	    one_gz * 1e3, st.fragments_rendered, st.pages_written);
	char *tiled = xasprintf("%s/tiled-group.html", out), *gz = xasprintf("%s.gz", tiled);
	struct stat a, b;
	if (!stat(tiled, &a) && !stat(gz, &b))
		printf(
		    "render %5zu services: tiled page %.1f KB per 100 services, %.1f KB gzipped\n",
		    n, (double)a.st_size / 1024 / ((double)n / 100),
		    (double)b.st_size / 1024 / ((double)n / 100));
	render_site_free(s);
	for (size_t i = 0; i < n; i++)
		store_record_release(&v[i]);
	free(v);
	json_decref(groups);
	free(out);
	free(tiled);
	free(gz);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: render_bench DIR\n");
		return 2;
	}
	struct err e = {0};
	if (fileio_mkdirs(argv[1], &e)) {
		fprintf(stderr, "render_bench: %s\n", e.msg);
		return 1;
	}
	return run(argv[1], 100) || run(argv[1], 1000) || run(argv[1], 10000);
}
