/*
 * Benchmark of the git mirror (store/git.c). Targets:
 * - 10,000 new YAML files (~600 bytes, services/<host>/<name>.yml, 20
 *   hosts) written and committed from scratch in <= 5 s;
 * - then a batch of 100 changed files committed in <= 100 ms.
 * Usage: git_bench [-k] [-s] [-n FILES] [-b BATCH] [-r ROUNDS] [DIR]
 *   DIR is where the temp repository is made (created if missing; default
 *      /tmp; try /dev/shm to take the disk out of the numbers);
 *   -k keeps the temp repository and prints its path;
 *   -s writes files without fsync (temp + rename only).
 * Files are written with fileio_write_atomic (fsync + rename), as the
 * mirror does; the "write" and "commit" columns are reported apart.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/buf.h"
#include "../common/err.h"
#include "../common/fileio.h"
#include "../common/xalloc.h"
#include "../store/git.h"
#include "../common/banned.h"

#define HOSTS 20

struct bench {
	struct store_git *g;
	const char *dir;
	char **paths; /* work-tree-relative */
	size_t n;
	struct buf yml;
	int no_fsync;
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *what, const struct err *e)
{
	fprintf(stderr, "git_bench: %s: %s\n", what, e->msg);
	exit(1);
}

/* A plausible service file of about 600 bytes; rev changes the image tag. */
static void render_yml(struct buf *b, size_t i, unsigned rev)
{
	buf_reset(b);
	buf_addf(b,
	         "host: docker%02zu\ncontainer_name: svc%05zu\nstack_name: stack%03zu\n"
	         "image:\n  registry: ghcr.io\n  owner: example\n  name: app%04zu\n"
	         "  tag: \"1.%u.%zu\"\nimage_icon: app%04zu.svg\ngroup_name: Group %zu\n"
	         "sort_priority: %zu\ninternalurl: http://docker%02zu.lan:%zu/\n"
	         "internalurl_source: synthesized\nexternalurl: https://svc%05zu.example.org/\n"
	         "externalurl_source: explicit_label\ninternal_health_check_enabled: true\n"
	         "external_health_check_enabled: false\nis_static: false\n"
	         "notes: |\n  Service number %zu of the benchmark inventory. It exists to give\n"
	         "  the file a realistic size and some text that compresses like notes do.\n"
	         "networks:\n  - proxy\n  - stack%03zu_default\nexposed_ports:\n  - 8080/tcp\n"
	         "published_ports:\n  - \"%zu:8080/tcp\"\n",
	         i % HOSTS, i, i % 300, i % 1000, rev, i, i % 1000, i % 12, i % 50, i % HOSTS,
	         8000 + i % 1000, i, i, i % 300, 10000 + i);
}

/* Temp + rename without fsync; parent directories must exist. */
static void write_nosync(const char *path, const struct buf *data)
{
	char *tmp = xasprintf("%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, data->data, data->len) != (ssize_t)data->len || close(fd) < 0 ||
	    rename(tmp, path) < 0) {
		perror(path);
		exit(1);
	}
	free(tmp);
}

static void write_file(struct bench *b, size_t i, unsigned rev)
{
	struct err e = {0};
	render_yml(&b->yml, i, rev);
	char *full = xasprintf("%s/%s", b->dir, b->paths[i]);
	if (b->no_fsync) {
		char *slash = strrchr(full, '/');
		*slash = '\0';
		if (!fileio_exists(full) && fileio_mkdirs(full, &e))
			die("mkdir", &e);
		*slash = '/';
		write_nosync(full, &b->yml);
	} else if (fileio_write_atomic(full, b->yml.data, b->yml.len, NULL, &e)) {
		die("write", &e);
	}
	free(full);
}

static int commit(struct bench *b, const char *const *paths, size_t n, const char *msg)
{
	struct err e = {0};
	int committed = 0;
	char hex[STORE_GIT_HEX_SIZE];
	if (store_git_commit_paths(b->g, paths, n, "bench", "bench@localhost", msg, &committed, hex,
	                           &e))
		die("commit", &e);
	return committed;
}

/* Change `batch` files spread over all hosts, commit; returns commit ms. */
static double change_batch(struct bench *b, size_t batch, unsigned rev, double *write_ms)
{
	const char **sel = xcalloc(batch, sizeof(*sel));
	size_t stride = b->n / batch;
	double t0 = now_ms();
	for (size_t k = 0; k < batch; k++) {
		size_t i = (k * stride + rev) % b->n;
		write_file(b, i, rev);
		sel[k] = b->paths[i];
	}
	double t1 = now_ms();
	if (!commit(b, sel, batch, "bench: change batch"))
		fprintf(stderr, "git_bench: change batch made no commit\n");
	double t2 = now_ms();
	free(sel);
	*write_ms = t1 - t0;
	return t2 - t1;
}

/* "  target N ms: ok|MISSED" when the target applies to this run, else "". */
static const char *verdict(double ms, double target, int applies)
{
	if (!applies)
		return "";
	if (target == 100)
		return ms <= target ? "  target 100 ms: ok" : "  target 100 ms: MISSED";
	return ms <= target ? "  target 5000 ms: ok" : "  target 5000 ms: MISSED";
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void run_batches(struct bench *b, size_t batch, int rounds, unsigned *rev, const char *label)
{
	double *ms = xcalloc((size_t)rounds, sizeof(*ms)), wsum = 0;
	for (int r = 0; r < rounds; r++) {
		double w;
		ms[r] = change_batch(b, batch, ++*rev, &w);
		wsum += w;
	}
	qsort(ms, (size_t)rounds, sizeof(*ms), cmp_double);
	printf("%-34s commit min %7.1f ms  median %7.1f ms  max %7.1f ms  (write %.1f ms avg)%s\n",
	       label, ms[0], ms[rounds / 2], ms[rounds - 1], wsum / rounds,
	       verdict(ms[rounds / 2], 100, batch == 100 && b->n >= 10000));
	free(ms);
}

static void reopen(struct bench *b)
{
	struct err e = {0};
	store_git_free(b->g);
	b->g = NULL;
	if (store_git_open(&b->g, b->dir, &e))
		die("open", &e);
}

static void from_scratch(struct bench *b)
{
	double t0 = now_ms();
	reopen(b);
	for (size_t i = 0; i < b->n; i++)
		write_file(b, i, 0);
	double t1 = now_ms();
	commit(b, (const char *const *)b->paths, b->n, "bench: import");
	double t2 = now_ms();
	printf("%-34s total %7.1f ms  (open+write %.1f ms, commit %.1f ms)%s\n",
	       "from scratch:", t2 - t0, t1 - t0, t2 - t1, verdict(t2 - t0, 5000, b->n == 10000));
}

struct opts {
	size_t n, batch;
	int rounds, keep, no_fsync;
	const char *base;
};

static int usage(void)
{
	fprintf(stderr, "usage: git_bench [-k] [-s] [-n FILES] [-b BATCH] [-r ROUNDS] [DIR]\n");
	return 2;
}

static int parse_args(struct opts *o, int argc, char **argv)
{
	int opt;
	while ((opt = getopt(argc, argv, "ksn:b:r:")) != -1) {
		if (opt == 'k')
			o->keep = 1;
		else if (opt == 's')
			o->no_fsync = 1;
		else if (opt == 'n')
			o->n = strtoul(optarg, NULL, 10);
		else if (opt == 'b')
			o->batch = strtoul(optarg, NULL, 10);
		else if (opt == 'r')
			o->rounds = (int)strtol(optarg, NULL, 10);
		else
			return usage();
	}
	if (optind < argc)
		o->base = argv[optind++];
	if (optind < argc || o->n < o->batch || o->batch == 0 || o->rounds < 1)
		return usage();
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {.n = 10000, .batch = 100, .rounds = 10, .base = "/tmp"};
	struct err e = {0};
	if (parse_args(&o, argc, argv))
		return 2;
	if (fileio_mkdirs(o.base, &e))
		die("mkdir", &e);
	char *tmpl = xasprintf("%s/portolan-gitbench.XXXXXX", o.base);
	struct bench b = {.dir = mkdtemp(tmpl), .n = o.n, .no_fsync = o.no_fsync};
	if (!b.dir)
		return perror("git_bench: mkdtemp"), 1;
	buf_init(&b.yml, 0);
	b.paths = xcalloc(o.n, sizeof(*b.paths));
	for (size_t i = 0; i < o.n; i++)
		b.paths[i] = xasprintf("services/docker%02zu/svc%05zu.yml", i % HOSTS, i);
	printf("git_bench: %zu files, batches of %zu, %d rounds, in %s, files written %s\n", o.n,
	       o.batch, o.rounds, b.dir, o.no_fsync ? "without fsync" : "with fsync");

	unsigned rev = 0;
	from_scratch(&b);
	run_batches(&b, o.batch, o.rounds, &rev, "change batch:");
	reopen(&b);
	run_batches(&b, 1, o.rounds, &rev, "change batch of 1:");
	run_batches(&b, o.batch, 1, &rev, "change batch after reopen:");

	double t0 = now_ms();
	int c = commit(&b, (const char *const *)b.paths, o.batch, "bench: nothing");
	printf("%-34s commit %7.1f ms  (committed=%d)\n", "unchanged batch:", now_ms() - t0, c);
	t0 = now_ms();
	c = commit(&b, (const char *const *)b.paths, o.n, "bench: nothing");
	printf("%-34s commit %7.1f ms  (committed=%d)\n", "restage all, unchanged:", now_ms() - t0,
	       c);

	store_git_free(b.g);
	for (size_t i = 0; i < o.n; i++)
		free(b.paths[i]);
	free(b.paths);
	buf_release(&b.yml);
	if (o.keep)
		printf("kept %s\n", b.dir);
	else if (fileio_remove_tree(b.dir, &e))
		die("cleanup", &e);
	free(tmpl);
	return 0;
}
