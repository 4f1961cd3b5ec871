/*
 * Widget value storage (store/widgetvals.h) at the scale:
 *   - fill 500 services x 4 fields x 30 days x 96 samples (15 minutes), in
 *     time order as the sampler would, one write txn per simulated day;
 *     values are slowly varying integers, 1-decimal readings and, on every
 *     tenth service, a ratio that needs the raw 8-byte encoding
 *   - the LMDB data file's size (target: under 50 MB)
 *   - one sampling round: 500 x 4 values in one durable txn
 *   - reading the last 7 days of one field (the sparkline), and the state
 *   - pruning the oldest day
 * usage: widget_bench DIR   (DIR is created and must not exist)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "../common/err.h"
#include "../store/db.h"
#include "../store/widgetvals.h"

#define NSERVICES 500
#define NFIELDS   4
#define DAYS      30
#define PER_DAY   96
#define STEP      900
#define DAY       86400
#define T0        1700006400 /* a UTC midnight */

static const char *const fields[NFIELDS] = {"queries_today", "blocked", "cpu_pct", "clients"};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const struct err *e)
{
	fprintf(stderr, "widget_bench: %s: %s\n", what, e ? e->msg : "failed");
	exit(1);
}

/* Per-series random walk: what a widget's numbers look like between samples. */
struct walk {
	double v[NSERVICES][NFIELDS];
	unsigned seed;
};

static int rnd(struct walk *w, int n)
{
	w->seed = w->seed * 1103515245u + 12345u;
	return (int)((w->seed >> 16) % (unsigned)n);
}

static double next_value(struct walk *w, int s, int f)
{
	double *v = &w->v[s][f];
	switch (f) {
	case 0: /* a counter that mostly climbs */
		*v += rnd(w, 40);
		return *v;
	case 1: /* small integers, often unchanged */
		if (!rnd(w, 4))
			*v += rnd(w, 3) - 1;
		return *v < 0 ? (*v = 0) : *v;
	case 2: /* a 1-decimal reading; every tenth service a raw ratio */
		*v = 20 + rnd(w, 600) / 10.0;
		return s % 10 ? *v : *v / 3.0;
	default: /* nearly constant */
		if (!rnd(w, 20))
			*v = 5 + rnd(w, 5);
		return *v;
	}
}

static void round_at(struct store_txn *t, struct walk *w, int64_t when, int *changed)
{
	struct err e = {0};
	for (int s = 0; s < NSERVICES; s++)
		for (int f = 0; f < NFIELDS; f++) {
			int ch;
			/* The sampler's jitter: a second or two either way. */
			int64_t at = when + rnd(w, 3) - 1;
			if (store_widget_record(t, (uint64_t)s + 1, fields[f], at < T0 ? T0 : at,
			                        next_value(w, s, f), &ch, &e))
				die("record", &e);
			*changed += ch;
		}
}

static long long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) ? -1 : (long long)st.st_size;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: widget_bench DIR\n");
		return 2;
	}
	struct err e = {0};
	struct store_db *db;
	struct store_txn *t;
	static struct walk w = {.seed = 42};
	char data[4096];
	snprintf(data, sizeof(data), "%s/data.mdb", argv[1]);
	if (store_db_open(&db, argv[1], &e))
		die("open", &e);

	double t0 = now_s();
	int changed = 0;
	for (int d = 0; d < DAYS; d++) {
		if (store_txn_begin(db, 1, &t, &e))
			die("begin", &e);
		for (int r = 0; r < PER_DAY; r++)
			round_at(t, &w, T0 + (int64_t)d * DAY + (int64_t)r * STEP, &changed);
		if (store_txn_commit(t, &e))
			die("commit", &e);
	}
	double fill = now_s() - t0;
	long long size = file_size(data);
	long samples = (long)NSERVICES * NFIELDS * DAYS * PER_DAY;
	printf("fill: %ld samples (%d services x %d fields x %d days x %d) in %.1f s, "
	       "%.0f samples/s, %.0f%% changed a value\n",
	       samples, NSERVICES, NFIELDS, DAYS, PER_DAY, fill, samples / fill,
	       100.0 * changed / samples);
	printf("data.mdb: %.1f MB (%.1f bytes/sample; target < 50 MB): %s\n", size / 1e6,
	       (double)size / samples, size < 50000000 ? "ok" : "OVER");

	/* Sampling rounds after the fill: one durable txn each. */
	int64_t end = T0 + (int64_t)DAYS * DAY;
	double best = 1e9, sum = 0;
	const int rounds = 10;
	for (int r = 0; r < rounds; r++) {
		double a = now_s();
		if (store_txn_begin(db, 1, &t, &e))
			die("begin", &e);
		round_at(t, &w, end + (int64_t)r * STEP, &changed);
		if (store_txn_commit(t, &e))
			die("commit", &e);
		double dt = now_s() - a;
		sum += dt;
		best = dt < best ? dt : best;
	}
	printf("one sampling round (%d values, one durable txn): %.1f ms mean, %.1f ms best\n",
	       NSERVICES * NFIELDS, sum / rounds * 1e3, best * 1e3);

	/* The sparkline: the last 7 days of one field, and a service's state. */
	if (store_txn_begin(db, 0, &t, &e))
		die("begin", &e);
	const int reads = 200;
	size_t points = 0;
	double a = now_s();
	for (int i = 0; i < reads; i++) {
		json_t *h;
		if (store_widget_history(t, (uint64_t)(i % NSERVICES) + 1, "queries_today",
		                         end - 7 * DAY, &h, &e))
			die("history", &e);
		points = json_array_size(json_object_get(h, "queries_today"));
		json_decref(h);
	}
	double hist = (now_s() - a) / reads;
	a = now_s();
	for (int i = 0; i < reads; i++) {
		json_t *s;
		if (store_widget_state(t, (uint64_t)(i % NSERVICES) + 1, &s, &e))
			die("state", &e);
		json_decref(s);
	}
	double state = (now_s() - a) / reads;
	store_txn_abort(t);
	printf("read last 7 days of one field (%zu points, as JSON): %.2f ms; "
	       "state of one service: %.3f ms\n",
	       points, hist * 1e3, state * 1e3);

	/* Retention: drop the oldest day. */
	size_t removed = 0;
	a = now_s();
	if (store_txn_begin(db, 1, &t, &e) || store_widget_prune(t, T0 + DAY, &removed, &e) ||
	    store_txn_commit(t, &e))
		die("prune", &e);
	printf("prune one day (%zu chunks, one durable txn): %.1f ms\n", removed,
	       (now_s() - a) * 1e3);
	store_db_close(db);
	return 0;
}
