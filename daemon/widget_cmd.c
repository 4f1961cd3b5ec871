#include "widget_cmd.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "../common/buf.h"
#include "../common/fileio.h"
#include "../common/xalloc.h"
#include "curlget.h"
#include "widgetdef.h"
#include "../common/banned.h"

#define DEFAULT_TIMEOUT_S 10L

static int usage(void)
{
	fputs("usage: portolan widget check DIR...\n"
	      "       portolan widget test NAME URL [KEY|-] [--timeout S] [--config-json JSON]\n"
	      "       portolan widget list\n",
	      stderr);
	return 2;
}

/* Check DIR as one widget, or each widget directory in it. */
static int check_path(const char *dir, struct buf *problems)
{
	struct err e = {0};
	char *yml = xasprintf("%s/widget.yml", dir);
	int bad = 0, found = 0;
	if (fileio_exists(yml)) {
		found = 1;
		bad = widget_def_check_dir(dir, problems, &e) != 0;
		if (!bad)
			printf("%s: ok\n", dir);
	} else {
		DIR *dh = opendir(dir);
		struct dirent **list = NULL;
		int n = dh ? scandir(dir, &list, NULL, alphasort) : -1;
		for (int i = 0; i < n; i++) {
			char *sub = xasprintf("%s/%s", dir, list[i]->d_name);
			char *sy = xasprintf("%s/widget.yml", sub);
			if (list[i]->d_name[0] != '.' && fileio_exists(sy)) {
				found = 1;
				bad |= check_path(sub, problems);
			}
			free(sy);
			free(sub);
			free(list[i]);
		}
		free(list);
		if (dh)
			closedir(dh);
	}
	if (!found) {
		buf_addf(problems, "%s: no widget.yml here or in its subdirectories\n", dir);
		bad = 1;
	}
	free(yml);
	return bad;
}

static int cmd_check(int argc, char **argv)
{
	struct buf problems;
	int bad = 0;
	if (argc < 1)
		return usage();
	buf_init(&problems, 0);
	for (int i = 0; i < argc; i++)
		bad |= check_path(argv[i], &problems);
	fputs(problems.data, stderr);
	buf_release(&problems);
	return bad;
}

static int cmd_list(const char *config)
{
	struct widget_defs *r = NULL;
	struct buf problems;
	buf_init(&problems, 0);
	widget_defs_load(&r, config, &problems, NULL);
	fputs(problems.data, stderr);
	for (size_t i = 0; i < widget_defs_count(r); i++) {
		const struct widget_def *d = widget_defs_at(r, i);
		printf("%-12s %s\n", d->name, d->description);
	}
	widget_defs_free(r);
	buf_release(&problems);
	return 0;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	return buf_add(arg, p, size * n) ? 0 : size * n;
}

/* Make one request and hand the answer to the sample. */
static void fetch(struct widget_sample *s, size_t i, const struct widget_request *rq, long timeout)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	struct buf body;
	CURL *x = curl_easy_init();
	long code = 0;
	buf_init(&body, WIDGET_MAX_BODY);
	for (size_t k = 0; rq->headers[k]; k++)
		hdrs = curl_slist_append(hdrs, rq->headers[k]);
	CURLcode rc = CURLE_FAILED_INIT;
	/* no redirects: the key header would follow them to any host */
	if (x && !curlget_setup(x, rq->url, timeout, on_body, &body, errbuf, NULL) &&
	    !curl_easy_setopt(x, CURLOPT_FOLLOWLOCATION, 0L) &&
	    !curl_easy_setopt(x, CURLOPT_HTTPHEADER, hdrs))
		rc = curl_easy_perform(x);
	char *terr = NULL;
	const char *m = *errbuf ? errbuf : curl_easy_strerror(rc);
	switch (rc) {
	case CURLE_OK:
		curl_easy_getinfo(x, CURLINFO_RESPONSE_CODE, &code);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		terr = xasprintf("timeout: %s", m);
		break;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		terr = xasprintf("connect: %s", m);
		break;
	case CURLE_WRITE_ERROR:
		terr = xasprintf("toobig: the answer is larger than %u MiB", WIDGET_MAX_BODY >> 20);
		break;
	default:
		terr = xasprintf("transport: %s", m);
		break;
	}
	widget_sample_answer(s, i, code, body.data, body.len, terr);
	free(terr);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(x);
	buf_release(&body);
}

static void print_value(const struct widget_value *v)
{
	if (!v->has_value) {
		printf("%s: error (%s): %s\n", v->key, v->error_class, v->message);
		return;
	}
	if (v->value == (double)(long long)v->value && v->value < 1e15 && v->value > -1e15)
		printf("%s: %lld", v->key, (long long)v->value);
	else
		printf("%s: %g", v->key, v->value);
	printf("%s%s\n", *v->unit ? " " : "", v->unit);
}

/* Sample d once against url; prints the values; 0 when every field has one. */
static int sample_once(const struct widget_def *d, const char *url, const char *key,
                       const json_t *config, long timeout)
{
	struct widget_sample *s = widget_sample_new(d, url, key, config, time(NULL));
	const struct widget_request *rq;
	const struct widget_value *v;
	size_t n;
	int bad = 0;
	while ((n = widget_sample_requests(s, &rq)))
		for (size_t i = 0; i < n; i++)
			fetch(s, i, &rq[i], timeout); /* the last answer may end the phase */
	n = widget_sample_values(s, &v);
	for (size_t i = 0; i < n; i++) {
		print_value(&v[i]);
		bad |= !v[i].has_value;
	}
	widget_sample_free(s);
	return bad;
}

/* The API key: an argument, "-" for the first line of stdin, else $WIDGET_API_KEY. */
static char *read_key(const char *arg)
{
	if (arg && strcmp(arg, "-"))
		return xstrdup(arg);
	if (!arg) {
		const char *env = getenv("WIDGET_API_KEY");
		return env && *env ? xstrdup(env) : NULL;
	}
	char line[1024];
	if (!fgets(line, sizeof(line), stdin))
		return NULL;
	line[strcspn(line, "\r\n")] = 0;
	return xstrdup(line);
}

static int cmd_test(const char *config, int argc, char **argv)
{
	const char *pos[3] = {NULL, NULL, NULL}, *cjson = NULL;
	long timeout = DEFAULT_TIMEOUT_S;
	int npos = 0, rc = 1;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
			char *end;
			timeout = strtol(argv[++i], &end, 10);
			if (*end || timeout < 1 || timeout > 600)
				return usage();
		} else if (!strcmp(argv[i], "--config-json") && i + 1 < argc) {
			cjson = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return usage();
		} else if (npos < 3) {
			pos[npos++] = argv[i];
		} else {
			return usage();
		}
	}
	if (npos < 2)
		return usage();
	if (strncmp(pos[1], "http://", 7) && strncmp(pos[1], "https://", 8)) {
		fprintf(stderr, "portolan widget test: '%s' is not an http(s) URL\n", pos[1]);
		return 2;
	}
	struct widget_defs *r = NULL;
	struct buf problems;
	json_t *cfg = NULL;
	char *key = NULL;
	buf_init(&problems, 0);
	widget_defs_load(&r, config, &problems, NULL);
	fputs(problems.data, stderr);
	const struct widget_def *d = widget_defs_find(r, pos[0]);
	json_error_t je;
	if (!d) {
		fprintf(stderr, "portolan widget test: no widget called '%s'\n", pos[0]);
		goto out;
	}
	if (cjson && !(cfg = json_loads(cjson, 0, &je))) {
		fprintf(stderr, "portolan widget test: --config-json: %s\n", je.text);
		goto out;
	}
	key = read_key(pos[2]);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = sample_once(d, pos[1], key, cfg, timeout);
	curl_global_cleanup();
out:
	free(key);
	json_decref(cfg);
	widget_defs_free(r);
	buf_release(&problems);
	return rc;
}

int widget_cmd_main(const char *config, int argc, char **argv)
{
	if (argc < 1)
		return usage();
	if (!strcmp(argv[0], "check"))
		return cmd_check(argc - 1, argv + 1);
	if (!strcmp(argv[0], "test"))
		return cmd_test(config, argc - 1, argv + 1);
	if (!strcmp(argv[0], "list") && argc == 1)
		return cmd_list(config);
	return usage();
}
