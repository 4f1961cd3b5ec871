/*
 * Tests for common/log.c: level names, the line format, the level filter,
 * the log file with size rotation (path → path.1 → … → path.keep), and
 * whole lines under concurrent writers. stderr is sent to /dev/null while
 * a case runs so the TAP output stays readable.
 * Run one case: ./test_log.t <name-glob>.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../common/buf.h"
#include "../../common/err.h"
#include "../../common/fileio.h"
#include "../../common/log.h"
#include "../../common/xalloc.h"
#include "../../common/banned.h"

struct fx {
	char tmp[64];
	char *path; /* <tmp>/portolan.log */
	int saved_stderr;
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	snprintf(f->tmp, sizeof(f->tmp), "/tmp/portolan-log.XXXXXX");
	if (!mkdtemp(f->tmp))
		return -1;
	f->path = xasprintf("%s/portolan.log", f->tmp);
	fflush(stderr);
	f->saved_stderr = dup(2);
	int null = open("/dev/null", O_WRONLY);
	dup2(null, 2);
	close(null);
	log_set_level(LOG_DEBUG);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	log_close_file();
	log_set_level(LOG_INFO);
	dup2(f->saved_stderr, 2);
	close(f->saved_stderr);
	fileio_remove_tree(f->tmp, NULL);
	free(f->path);
	free(f);
	return 0;
}

static char *slurp(const char *path)
{
	struct buf b;
	buf_init(&b, 0);
	if (fileio_read(path, &b, NULL)) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

static char *rotated(const struct fx *f, int n)
{
	return xasprintf("%s.%d", f->path, n);
}

static long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) < 0 ? -1 : (long)st.st_size;
}

static size_t count_lines(const char *text)
{
	size_t n = 0;
	for (; text && *text; text++)
		n += *text == '\n';
	return n;
}

/* "2026-11-23T14:19:43Z <level> <message>" */
static void assert_line(const char *line, const char *level, const char *message)
{
	assert_true(strlen(line) > 21);
	for (int i = 0; i < 20; i++) {
		char c = line[i];
		switch (i) {
		case 4:
		case 7:
			assert_int_equal(c, '-');
			break;
		case 10:
			assert_int_equal(c, 'T');
			break;
		case 13:
		case 16:
			assert_int_equal(c, ':');
			break;
		case 19:
			assert_int_equal(c, 'Z');
			break;
		default:
			assert_true(c >= '0' && c <= '9');
		}
	}
	char *want = xasprintf(" %s %s\n", level, message);
	assert_string_equal(line + 20, want);
	free(want);
}

static void level_names(void **state)
{
	(void)state;
	assert_int_equal(log_level_parse("debug"), LOG_DEBUG);
	assert_int_equal(log_level_parse("INFO"), LOG_INFO);
	assert_int_equal(log_level_parse("Warn"), LOG_WARN);
	assert_int_equal(log_level_parse("warning"), LOG_WARN);
	assert_int_equal(log_level_parse("error"), LOG_ERROR);
	assert_int_equal(log_level_parse("loud"), -1);
	assert_int_equal(log_level_parse(""), -1);
	assert_int_equal(log_level_parse(NULL), -1);
	assert_string_equal(log_level_name(LOG_WARN), "warn");
	assert_string_equal(log_level_name(9), "?");
	log_set_level(LOG_ERROR);
	assert_int_equal(log_get_level(), LOG_ERROR);
}

static void line_format(void **state)
{
	struct fx *f = *state;
	assert_int_equal(log_open_file(f->path, 1 << 20, 4), 0);
	log_info("registered '%s' on '%s'", "nginx", "docker01");
	log_close_file();
	char *text = slurp(f->path);
	assert_non_null(text);
	assert_line(text, "info", "registered 'nginx' on 'docker01'");
	free(text);
}

static void one_event_one_line(void **state)
{
	struct fx *f = *state;
	assert_int_equal(log_open_file(f->path, 1 << 20, 4), 0);
	log_warn("first\nforged 2026-01-01T00:00:00Z error line\r");
	log_close_file();
	char *text = slurp(f->path);
	assert_int_equal(count_lines(text), 1);
	assert_line(text, "warn", "first forged 2026-01-01T00:00:00Z error line ");
	free(text);
}

static void level_filter(void **state)
{
	struct fx *f = *state;
	assert_int_equal(log_open_file(f->path, 1 << 20, 4), 0);
	log_set_level(LOG_WARN);
	log_debug("not this");
	log_info("nor this");
	log_warn("this");
	log_error("and this");
	log_close_file();
	char *text = slurp(f->path);
	assert_int_equal(count_lines(text), 2);
	assert_null(strstr(text, "not this"));
	assert_null(strstr(text, "nor this"));
	assert_non_null(strstr(text, " warn this\n"));
	assert_non_null(strstr(text, " error and this\n"));
	free(text);
}

static void appends_to_an_existing_file(void **state)
{
	struct fx *f = *state;
	assert_int_equal(fileio_write_atomic(f->path, "old\n", 4, NULL, NULL), 0);
	assert_int_equal(log_open_file(f->path, 1 << 20, 4), 0);
	log_info("new");
	log_close_file();
	char *text = slurp(f->path);
	assert_int_equal(strncmp(text, "old\n", 4), 0);
	assert_int_equal(count_lines(text), 2);
	free(text);
}

/* Each line: time (20) + " info " (6) + message (46) + newline = 73 bytes. */
#define LINE_LEN 73
static void write_numbered(int from, int to)
{
	for (int i = from; i < to; i++)
		log_info("line %04d ....................................", i);
}

static void rotation_keeps_the_newest_files(void **state)
{
	struct fx *f = *state;
	/* Three lines per file. */
	assert_int_equal(log_open_file(f->path, 3 * LINE_LEN + 10, 2), 0);
	write_numbered(0, 20);
	log_close_file();
	char *p1 = rotated(f, 1), *p2 = rotated(f, 2), *p3 = rotated(f, 3);
	char *cur = slurp(f->path), *one = slurp(p1), *two = slurp(p2);
	assert_non_null(cur);
	assert_non_null(one);
	assert_non_null(two);
	assert_int_equal(file_size(p3), -1);
	assert_true(file_size(f->path) <= 3 * LINE_LEN + 10);
	assert_true(file_size(p1) <= 3 * LINE_LEN + 10);
	assert_true(file_size(p2) <= 3 * LINE_LEN + 10);
	/* 20 lines: 18 in six full files (four dropped), 2 in the current one. */
	assert_int_equal(count_lines(cur), 2);
	assert_int_equal(count_lines(one), 3);
	assert_int_equal(count_lines(two), 3);
	assert_non_null(strstr(two, "line 0012"));
	assert_non_null(strstr(two, "line 0014"));
	assert_non_null(strstr(one, "line 0015"));
	assert_non_null(strstr(one, "line 0017"));
	assert_non_null(strstr(cur, "line 0018"));
	assert_non_null(strstr(cur, "line 0019"));
	assert_null(strstr(two, "line 0011"));
	free(cur);
	free(one);
	free(two);
	free(p1);
	free(p2);
	free(p3);
}

static void rotation_with_keep_zero_truncates(void **state)
{
	struct fx *f = *state;
	assert_int_equal(log_open_file(f->path, 2 * LINE_LEN, 0), 0);
	write_numbered(0, 5);
	log_close_file();
	char *p1 = rotated(f, 1);
	assert_int_equal(file_size(p1), -1);
	char *cur = slurp(f->path);
	assert_int_equal(count_lines(cur), 1);
	assert_non_null(strstr(cur, "line 0004"));
	free(cur);
	free(p1);
}

static void existing_size_counts_towards_the_limit(void **state)
{
	struct fx *f = *state;
	char old[150];
	memset(old, 'x', sizeof(old) - 1);
	old[sizeof(old) - 1] = '\n';
	assert_int_equal(fileio_write_atomic(f->path, old, sizeof(old), NULL, NULL), 0);
	assert_int_equal(log_open_file(f->path, 200, 1), 0);
	write_numbered(0, 1);
	log_close_file();
	char *p1 = rotated(f, 1);
	assert_int_equal(file_size(p1), (long)sizeof(old));
	assert_int_equal(file_size(f->path), LINE_LEN);
	free(p1);
}

static void a_line_longer_than_the_limit_is_written_whole(void **state)
{
	struct fx *f = *state;
	assert_int_equal(log_open_file(f->path, 10, 1), 0);
	write_numbered(0, 2);
	log_close_file();
	assert_int_equal(file_size(f->path), LINE_LEN);
	char *p1 = rotated(f, 1);
	assert_int_equal(file_size(p1), LINE_LEN);
	free(p1);
}

static void bad_arguments_and_paths(void **state)
{
	struct fx *f = *state;
	assert_int_equal(log_open_file(f->path, 0, 1), ERR_INVAL);
	assert_int_equal(log_open_file(f->path, 100, -1), ERR_INVAL);
	char *file = xasprintf("%s/plain", f->tmp);
	assert_int_equal(fileio_write_atomic(file, "x", 1, NULL, NULL), 0);
	char *under = xasprintf("%s/sub/portolan.log", file);
	assert_int_equal(log_open_file(under, 100, 1), ERR_IO);
	/* Logging without a file still works. */
	log_info("stderr only");
	free(file);
	free(under);
}

static void parent_dirs_created(void **state)
{
	struct fx *f = *state;
	char *deep = xasprintf("%s/a/b/portolan.log", f->tmp);
	assert_int_equal(log_open_file(deep, 100, 1), 0);
	log_info("x");
	log_close_file();
	assert_true(file_size(deep) > 0);
	free(deep);
}

#define THREADS    4
#define PER_THREAD 500

static void *writer(void *arg)
{
	int id = (int)(intptr_t)arg;
	for (int i = 0; i < PER_THREAD; i++)
		log_info("thread %d line %04d ..............................", id, i);
	return NULL;
}

static void concurrent_lines_stay_whole(void **state)
{
	struct fx *f = *state;
	assert_int_equal(log_open_file(f->path, 16 << 10, 50), 0);
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, writer, (void *)(intptr_t)i), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	log_close_file();
	size_t lines = 0;
	for (int n = 0; n <= 50; n++) {
		char *path = n ? rotated(f, n) : xstrdup(f->path);
		char *text = slurp(path);
		free(path);
		if (!text)
			continue;
		assert_true(strlen(text) <= 16 << 10);
		for (char *line = text; *line;) {
			char *nl = strchr(line, '\n');
			assert_non_null(nl);
			*nl = '\0';
			int id, i;
			assert_int_equal(sscanf(line + 20, " info thread %d line %d", &id, &i), 2);
			assert_int_equal((int)(nl - line), 20 + 6 + 49);
			lines++;
			line = nl + 1;
		}
		free(text);
	}
	assert_int_equal(lines, THREADS * PER_THREAD);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    T(level_names),
	    T(line_format),
	    T(one_event_one_line),
	    T(level_filter),
	    T(appends_to_an_existing_file),
	    T(rotation_keeps_the_newest_files),
	    T(rotation_with_keep_zero_truncates),
	    T(existing_size_counts_towards_the_limit),
	    T(a_line_longer_than_the_limit_is_written_whole),
	    T(bad_arguments_and_paths),
	    T(parent_dirs_created),
	    T(concurrent_lines_stay_whole),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
