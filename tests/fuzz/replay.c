/*
 * Replays a fuzz target's corpus without libFuzzer, so that `make test`
 * (gcc, no sanitizer unless `make asan`) checks every saved input on
 * every run. Arguments are files or directories (not recursive); with
 * none, the corpus the Makefile compiled in as CORPUS, relative to the
 * repository root. TAP: one test per file, in name order. An input that
 * breaks an invariant aborts the binary, which prove reports with the
 * plan unfinished and the last "ok" naming the input before it.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../common/buf.h"
#include "../../common/xalloc.h"
#include "fuzz.h"
#include "../../common/banned.h"

#ifndef CORPUS
#error "build with -DCORPUS=\"tests/fuzz/corpus/<target>\""
#endif

/* Larger than any input worth keeping; libFuzzer's default -max_len is 4096. */
#define REPLAY_MAX_INPUT (1 << 20)

struct list {
	char **v;
	size_t n, alloc;
};

static void list_add(struct list *l, char *s)
{
	if (l->n == l->alloc) {
		l->alloc = l->alloc ? 2 * l->alloc : 64;
		l->v = xrealloc(l->v, l->alloc * sizeof(*l->v));
	}
	l->v[l->n++] = s;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add path, or the regular files of the directory path, to l. */
static int collect(struct list *l, const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		fprintf(stderr, "cannot stat '%s': %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		list_add(l, xstrdup(path));
		return 0;
	}
	DIR *d = opendir(path);
	if (!d) {
		fprintf(stderr, "cannot open '%s': %s\n", path, strerror(errno));
		return -1;
	}
	size_t first = l->n;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char *file = xasprintf("%s/%s", path, de->d_name);
		if (!stat(file, &st) && S_ISREG(st.st_mode))
			list_add(l, file);
		else
			free(file);
	}
	closedir(d);
	qsort(l->v + first, l->n - first, sizeof(*l->v), cmp_str);
	return 0;
}

static int read_input(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	char chunk[8192];
	size_t n;
	int rc = 0;
	if (!f)
		return -1;
	while (!rc && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = buf_add(b, chunk, n);
	if (ferror(f))
		rc = -1;
	fclose(f);
	return rc;
}

int main(int argc, char **argv)
{
	struct list l = {0};
	struct buf b;
	int failed = 0;
	if (argc < 2) {
		if (collect(&l, CORPUS) < 0)
			return 1;
	}
	for (int i = 1; i < argc; i++)
		if (collect(&l, argv[i]) < 0)
			return 1;
	printf("1..%zu\n", l.n);
	fflush(stdout);
	buf_init(&b, REPLAY_MAX_INPUT);
	for (size_t i = 0; i < l.n; i++) {
		buf_reset(&b);
		if (read_input(l.v[i], &b) < 0) {
			printf("not ok %zu - %s (cannot read, or over %d bytes)\n", i + 1, l.v[i],
			       REPLAY_MAX_INPUT);
			failed = 1;
		} else {
			/* A copy of exactly the input's size, so ASan sees reads past its end. */
			uint8_t *data = xmalloc(b.len ? b.len : 1);
			memcpy(data, b.data, b.len);
			LLVMFuzzerTestOneInput(data, b.len);
			free(data);
			printf("ok %zu - %s\n", i + 1, l.v[i]);
		}
		fflush(stdout);
		free(l.v[i]);
	}
	free(l.v);
	buf_release(&b);
	return failed;
}
