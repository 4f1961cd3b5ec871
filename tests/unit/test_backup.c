/*
 * The daily backup's file names, pruning and listing (daemon/backup.h).
 * Run one case: ./test_backup.t <name-glob>.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "../../common/err.h"
#include "../../common/fileio.h"
#include "../../common/xalloc.h"
#include "../../common/log.h"
#include "../../daemon/backup.h"

#define NOW 1700000000 /* 2023-11-14 22:13:20 UTC */

static void names(void **state)
{
	(void)state;
	static const char *const good[] = {
	    "2023-11-14-std_backup.yml",
	    "1999-01-31-std_backup.yml",
	    "service_backup_all_20231114_221320.yaml",
	    "backup.yml",
	};
	static const char *const bad[] = {
	    "",
	    "..",
	    "/etc/passwd",
	    "../2023-11-14-std_backup.yml",
	    "2023-11-14-std_backup.yml/",
	    "2023-11-14-std_backup.yaml",
	    "2023-13-14-std_backup.yml",
	    "2023-1-14-std_backup.yml",
	    "2023-11-14-std_backup.yml.orig",
	    "x2023-11-14-std_backup.yml",
	    "service_backup_all_20231114_22132.yaml",
	    "service_backup_all_20231114-221320.yaml",
	    "service_backup_all_2023111a_221320.yaml",
	    "service_backup_all_20231114_221320.yml",
	    "Backup.yml",
	    "notes.txt",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		if (!backup_name_ok(good[i]))
			fail_msg("refused %s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (backup_name_ok(bad[i]))
			fail_msg("accepted %s", bad[i]);
	char name[64];
	backup_download_name(NOW, name, sizeof(name));
	assert_string_equal(name, "service_backup_all_20231114_221320.yaml");
}

static void touch(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	struct err e = {0};
	if (fileio_write_atomic(path, "[]\n", 3, NULL, &e))
		fail_msg("%s", e.msg);
	free(path);
}

static void prune_and_list(void **state)
{
	(void)state;
	char dir[] = "/tmp/portolan-test-backup-XXXXXX";
	assert_non_null(mkdtemp(dir));
	static const char *const files[] = {
	    "2023-11-14-std_backup.yml", /* today */
	    "2023-11-13-std_backup.yml",
	    "2023-11-12-std_backup.yml",
	    "2023-11-11-std_backup.yml", /* 3 days old: pruned with keep 3 */
	    "2022-02-28-std_backup.yml",
	    "service_backup_all_20000101_000000.yaml",
	    "service_backup_all_20231114_230000.yaml",
	    "backup.yml",
	    "2000-01-01-std_backup.yml.orig",
	    "notes.txt",
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++)
		touch(dir, files[i]);
	size_t pruned = 0;
	struct err e = {0};
	assert_int_equal(backup_prune(dir, 3, NOW, &pruned, &e), 0);
	assert_int_equal(pruned, 2);
	json_t *list = backup_list(dir);
	char *text = json_dumps(list, JSON_COMPACT);
	assert_string_equal(text,
	                    "[{\"name\":\"service_backup_all_20231114_230000.yaml\",\"size\":3},"
	                    "{\"name\":\"2023-11-14-std_backup.yml\",\"size\":3},"
	                    "{\"name\":\"2023-11-13-std_backup.yml\",\"size\":3},"
	                    "{\"name\":\"2023-11-12-std_backup.yml\",\"size\":3},"
	                    "{\"name\":\"service_backup_all_20000101_000000.yaml\",\"size\":3},"
	                    "{\"name\":\"backup.yml\",\"size\":3}]");
	free(text);
	json_decref(list);
	/* keep 1: only today's daily file stays */
	assert_int_equal(backup_prune(dir, 1, NOW, &pruned, &e), 0);
	assert_int_equal(pruned, 2);
	char *orig = xasprintf("%s/2000-01-01-std_backup.yml.orig", dir);
	char *notes = xasprintf("%s/notes.txt", dir);
	assert_true(fileio_exists(orig) && fileio_exists(notes));
	free(orig);
	free(notes);
	fileio_remove_tree(dir, NULL);
	/* a missing dir: an error to prune, an empty list */
	assert_int_equal(backup_prune(dir, 3, NOW, &pruned, &e), ERR_IO);
	list = backup_list(dir);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
}

int main(int argc, char **argv)
{
	setenv("TZ", "UTC", 1);
	tzset();
	log_set_level(LOG_WARN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(names),
	    cmocka_unit_test(prune_and_list),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
