/*
 * Store benchmarks for the foundation issue, all in one run so the ratios
 * are comparable on a noisy machine:
 *   - register merges/s, 10,000 distinct services, batched transactions
 *   - register merges/s with one durable transaction per merge, against the
 *     disk's own 4 KiB O_DSYNC write rate measured in the same directory
 *   - mirror: 10,000 services written and committed from scratch; then a
 *     batch of 100 changed services
 *   - rebuild of LMDB from the 10,000-service repo
 * usage: store_bench DIR   (DIR is created and must not exist)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/fileio.h"
#include "../common/xalloc.h"
#include "../store/db.h"
#include "../store/mirror.h"
#include "../store/ops.h"
#include "../store/repo.h"

#define NSERVICES 10000

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const struct err *e)
{
	fprintf(stderr, "store_bench: %s: %s\n", what, e ? e->msg : "failed");
	exit(1);
}

static void make_payload(struct store_payload *p, int i, int round)
{
	static const char *const hosts[] = {"docker01", "docker02", "nas", "edge", "pi4"};
	json_t *body = json_pack(
	    "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:s,s:i,s:[{s:s,s:[s]}],s:[s],"
	    "s:[{s:i,s:s,s:s,s:i}],s:[{s:s,s:s,s:b,s:n,s:n,s:n}]}",
	    "host", hosts[i % 5], "container_name", "svc", "stack_name", "stack", "container_id",
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "docker_status",
	    round ? "running" : "created", "image_name",
	    round ? "ghcr.io/example/app:1.1" : "ghcr.io/example/app:1.0", "internalurl",
	    "http://10.0.0.1:8080/", "internal_health_check_enabled", 1, "group_name", "Media",
	    "sort_priority", i % 10, "networks", "name", "proxy", "aliases", "app", "exposed_ports",
	    "8080/tcp", "published_ports", "container_port", 8080, "protocol", "tcp", "host_ip",
	    "0.0.0.0", "host_port", 8080 + i % 1000, "exposure_observations", "layer", "traefik",
	    "hostname", "app.lab.example", "tls", 1, "path_prefix", "auth", "details");
	char name[32];
	snprintf(name, sizeof(name), "svc-%05d", i);
	json_object_set_new(body, "container_name", json_string(name));
	struct store_verr v;
	store_verr_init(&v);
	if (store_payload_from_json(p, body, &v))
		die("payload", NULL);
	store_verr_release(&v);
	json_decref(body);
}

static double apply_batched(struct store_db *db, struct store_payload *ps, int n, int batch)
{
	struct err e = {0};
	double t0 = now_s();
	for (int start = 0; start < n; start += batch) {
		struct store_txn *t;
		if (store_txn_begin(db, 1, &t, &e))
			die("begin", &e);
		for (int i = start; i < start + batch && i < n; i++) {
			int st;
			if (store_ops_register(t, &ps[i], 0, 1700000000 + i, NULL, &st, &e))
				die("register", &e);
		}
		if (store_txn_commit(t, &e))
			die("commit", &e);
	}
	return now_s() - t0;
}

/* The disk's synchronous 4 KiB write rate in dir (what `dd oflag=dsync` measures). */
static double dsync_rate(const char *dir, int n)
{
	char *path = xasprintf("%s/dsync.bin", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_DSYNC, 0600);
	if (fd < 0)
		die("open dsync file", NULL);
	char block[4096];
	memset(block, 'x', sizeof(block));
	double t0 = now_s();
	for (int i = 0; i < n; i++)
		if (pwrite(fd, block, sizeof(block), (off_t)i * 4096) != (ssize_t)sizeof(block))
			die("dsync write", NULL);
	double dt = now_s() - t0;
	close(fd);
	unlink(path);
	free(path);
	return n / dt;
}

static double drain(struct store_mirror *m, struct store_db *db, int *commits)
{
	struct err e = {0};
	double t0 = now_s();
	if (store_mirror_drain(m, db, commits, &e))
		die("mirror", &e);
	return now_s() - t0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: store_bench DIR\n");
		return 2;
	}
	const char *dir = argv[1];
	struct err e = {0};
	if (fileio_mkdirs(dir, &e))
		die("mkdir", &e);
	char *lmdb = xasprintf("%s/services.lmdb", dir), *repo = xasprintf("%s/inventory", dir);
	char *lock = xasprintf("%s/inventory.lock", dir);
	struct store_db *db;
	struct store_mirror *m;
	if (store_db_open(&db, lmdb, &e) || store_mirror_open(&m, repo, lock, &e))
		die("open", &e);

	struct store_payload *created = xcalloc(NSERVICES, sizeof(*created));
	struct store_payload *updated = xcalloc(NSERVICES, sizeof(*updated));
	for (int i = 0; i < NSERVICES; i++) {
		make_payload(&created[i], i, 0);
		make_payload(&updated[i], i, 1);
	}
	double t_create = apply_batched(db, created, NSERVICES, 1000);
	printf("store apply, batched 1000/txn: %d creates in %.3f s = %.0f merges/s\n", NSERVICES,
	       t_create, NSERVICES / t_create);

	int commits = 0;
	double t_mirror = drain(m, db, &commits);
	printf("mirror from scratch: %d services, %d commit(s) in %.3f s (target <= 5 s)\n",
	       NSERVICES, commits, t_mirror);

	double t_update = apply_batched(db, updated, NSERVICES, 1000);
	printf("store apply, batched 1000/txn: %d updates in %.3f s = %.0f merges/s (target >= "
	       "50000)\n",
	       NSERVICES, t_update, NSERVICES / t_update);
	drain(m, db, NULL);

	/* 100 changed services: flip them back to the created payload. */
	apply_batched(db, created, 100, 100);
	double t_small = drain(m, db, &commits);
	printf("mirror batch of 100 changed services: %d commit(s) in %.1f ms (target <= 100 ms)\n",
	       commits, t_small * 1000);

	int ndurable = 300;
	double t_durable = apply_batched(db, updated, ndurable, 1);
	double durable_rate = ndurable / t_durable;
	double disk_rate = dsync_rate(dir, 300);
	printf("durable merges, 1 txn each: %.0f/s; disk 4 KiB O_DSYNC writes: %.0f/s; ratio "
	       "%.2f (target >= 0.33)\n",
	       durable_rate, disk_rate, durable_rate / disk_rate);
	drain(m, db, NULL);
	store_db_close(db);

	/* Rebuild from the repo into a fresh store. */
	char *lmdb2 = xasprintf("%s/rebuilt.lmdb", dir);
	double t0 = now_s();
	struct store_repo r;
	struct buf problems;
	buf_init(&problems, 0);
	if (store_db_open(&db, lmdb2, &e) || store_repo_load(&r, repo, &problems, &e) ||
	    store_repo_rebuild(db, &r, NULL, &e))
		die("rebuild", &e);
	double t_rebuild = now_s() - t0;
	printf("rebuild LMDB from a %zu-service repo: %.3f s (target <= 2 s)\n", r.n, t_rebuild);
	store_repo_release(&r);
	buf_release(&problems);
	store_db_close(db);
	store_mirror_free(m);
	for (int i = 0; i < NSERVICES; i++) {
		store_payload_release(&created[i]);
		store_payload_release(&updated[i]);
	}
	free(created);
	free(updated);
	free(lmdb);
	free(lmdb2);
	free(repo);
	free(lock);
	return 0;
}
