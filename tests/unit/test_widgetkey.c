/*
 * Widget API keys at rest (store/widgetkey.h): the key file (created 0600,
 * stable, refused when group/other may read it or its size is wrong), put /
 * get / isset / delete, ERR_AUTH under another key file or for a ciphertext
 * moved to another service, plaintext checks, and no plaintext anywhere in
 * the LMDB data file.
 * Run one case: ./test_widgetkey.t <name-glob>.
 */
#include <dirent.h>
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
#include <sodium.h>

#include "../../common/buf.h"
#include "../../common/err.h"
#include "../../common/fileio.h"
#include "../../store/db.h"
#include "../../store/widgetkey.h"

#define SECRET "pihole-api-token-3f9c2a1b7e"

struct fx {
	char tmp[64];
	char dir[128];
	char keyfile[160];
	struct store_db *db;
	struct store_txn *t; /* open write txn, aborted by teardown if left */
	struct err e;
	unsigned char key[crypto_secretbox_KEYBYTES];
	char *plain; /* freed by teardown */
};

#define OK(f, call)                                                                                \
	do {                                                                                       \
		int rc_ = (call);                                                                  \
		if (rc_)                                                                           \
			fail_msg("%s: %d %s", #call, rc_, (f)->e.msg);                             \
	} while (0)

/* call fails with code and a message containing part. */
#define FAILS(f, code, part, call)                                                                 \
	do {                                                                                       \
		int rc_ = (call);                                                                  \
		if (rc_ != (code))                                                                 \
			fail_msg("%s: got %d (%s), want %d", #call, rc_, (f)->e.msg, (code));      \
		if (!strstr((f)->e.msg, (part)))                                                   \
			fail_msg("%s: message '%s' lacks '%s'", #call, (f)->e.msg, (part));        \
	} while (0)

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->tmp, sizeof(f->tmp), "/tmp/portolan-test-widgetkey-XXXXXX");
	if (!mkdtemp(f->tmp))
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/services.lmdb", f->tmp);
	snprintf(f->keyfile, sizeof(f->keyfile), "%s/%s", f->tmp, STORE_WIDGET_KEYFILE);
	if (store_db_open(&f->db, f->dir, &f->e) || store_txn_begin(f->db, 1, &f->t, &f->e) ||
	    store_widget_keyfile_load(f->key, f->tmp, &f->e))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	store_widget_key_free(f->plain);
	store_txn_abort(f->t);
	store_db_close(f->db);
	fileio_remove_tree(f->tmp, NULL);
	free(f);
	return 0;
}

static void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	unlink(path);
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	fclose(fp);
	assert_int_equal(chmod(path, mode), 0);
}

static void keyfile_created_and_stable(void **state)
{
	struct fx *f = *state;
	struct stat st;
	assert_int_equal(stat(f->keyfile, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, crypto_secretbox_KEYBYTES);
	unsigned char again[crypto_secretbox_KEYBYTES], zero[crypto_secretbox_KEYBYTES] = {0};
	OK(f, store_widget_keyfile_load(again, f->tmp, &f->e));
	assert_memory_equal(again, f->key, sizeof(again));
	assert_memory_not_equal(f->key, zero, sizeof(zero));
	/* No temp file left beside it. */
	DIR *d = opendir(f->tmp);
	assert_non_null(d);
	int entries = 0;
	for (struct dirent *de; (de = readdir(d));)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			entries++;
			if (strcmp(de->d_name, "services.lmdb") &&
			    strcmp(de->d_name, STORE_WIDGET_KEYFILE))
				fail_msg("unexpected file '%s'", de->d_name);
		}
	closedir(d);
	assert_int_equal(entries, 2);
	/* A config dir that does not exist yet is created. */
	char sub[200];
	snprintf(sub, sizeof(sub), "%s/new/config", f->tmp);
	OK(f, store_widget_keyfile_load(again, sub, &f->e));
	assert_memory_not_equal(again, f->key, sizeof(again));
}

static void keyfile_refused(void **state)
{
	struct fx *f = *state;
	unsigned char k[crypto_secretbox_KEYBYTES];
	unsigned char bytes[40] = {7};
	write_file(f->keyfile, bytes, 32, 0644);
	FAILS(f, ERR_AUTH, "accessible by group or others (mode 0644): run chmod 600",
	      store_widget_keyfile_load(k, f->tmp, &f->e));
	write_file(f->keyfile, bytes, 32, 0620);
	FAILS(f, ERR_AUTH, "mode 0620", store_widget_keyfile_load(k, f->tmp, &f->e));
	write_file(f->keyfile, bytes, 31, 0600);
	FAILS(f, ERR_INVAL, "must hold exactly 32 bytes",
	      store_widget_keyfile_load(k, f->tmp, &f->e));
	write_file(f->keyfile, bytes, 33, 0600);
	FAILS(f, ERR_INVAL, "must hold exactly 32 bytes",
	      store_widget_keyfile_load(k, f->tmp, &f->e));
	write_file(f->keyfile, bytes, 0, 0600);
	FAILS(f, ERR_INVAL, "must hold exactly 32 bytes",
	      store_widget_keyfile_load(k, f->tmp, &f->e));
	unlink(f->keyfile);
	assert_int_equal(mkdir(f->keyfile, 0700), 0);
	FAILS(f, ERR_INVAL, "is not a regular file", store_widget_keyfile_load(k, f->tmp, &f->e));
	rmdir(f->keyfile);
	/* Owner read-only is fine, and the bytes are the key. */
	write_file(f->keyfile, bytes, 32, 0400);
	OK(f, store_widget_keyfile_load(k, f->tmp, &f->e));
	assert_memory_equal(k, bytes, 32);
}

static void round_trip(void **state)
{
	struct fx *f = *state;
	assert_int_equal(store_widget_key_isset(f->t, 4), 0);
	FAILS(f, ERR_NOTFOUND, "no widget api key for service 4",
	      store_widget_key_get(f->t, 4, f->key, &f->plain, &f->e));
	OK(f, store_widget_key_put(f->t, 4, SECRET, f->key, &f->e));
	OK(f, store_widget_key_put(f->t, 5, "other", f->key, &f->e));
	assert_int_equal(store_widget_key_isset(f->t, 4), 1);
	OK(f, store_widget_key_get(f->t, 4, f->key, &f->plain, &f->e));
	assert_string_equal(f->plain, SECRET);
	store_widget_key_free(f->plain);
	f->plain = NULL;

	/* Replace, then persist across a reopen. */
	OK(f, store_widget_key_put(f->t, 4, "replaced ~!@#$%^&*()", f->key, &f->e));
	OK(f, store_txn_commit(f->t, &f->e));
	f->t = NULL;
	store_db_close(f->db);
	OK(f, store_db_open(&f->db, f->dir, &f->e));
	OK(f, store_txn_begin(f->db, 1, &f->t, &f->e));
	OK(f, store_widget_key_get(f->t, 4, f->key, &f->plain, &f->e));
	assert_string_equal(f->plain, "replaced ~!@#$%^&*()");
	/* A rebuild of the inventory keeps it. */
	OK(f, store_db_clear_inventory(f->t, &f->e));
	assert_int_equal(store_widget_key_isset(f->t, 4), 1);

	/* Delete: gone, the neighbour stays; deleting again is fine. */
	OK(f, store_widget_key_put(f->t, 4, NULL, f->key, &f->e));
	assert_int_equal(store_widget_key_isset(f->t, 4), 0);
	assert_int_equal(store_widget_key_get(f->t, 4, f->key, &f->plain, &f->e), ERR_NOTFOUND);
	OK(f, store_widget_key_put(f->t, 4, NULL, NULL, &f->e));
	assert_int_equal(store_widget_key_isset(f->t, 5), 1);
}

static void wrong_key_is_auth(void **state)
{
	struct fx *f = *state;
	OK(f, store_widget_key_put(f->t, 4, SECRET, f->key, &f->e));
	/* Another key file (lost and recreated). */
	unlink(f->keyfile);
	unsigned char other[crypto_secretbox_KEYBYTES];
	OK(f, store_widget_keyfile_load(other, f->tmp, &f->e));
	assert_memory_not_equal(other, f->key, sizeof(other));
	FAILS(f, ERR_AUTH, "cannot decrypt the widget api key of service 4",
	      store_widget_key_get(f->t, 4, other, &f->plain, &f->e));
	assert_null(f->plain);
	assert_null(strstr(f->e.msg, SECRET));

	/* A ciphertext copied onto another service does not decrypt there. */
	unsigned char k4[8] = {0, 0, 0, 0, 0, 0, 0, 4}, k9[8] = {0, 0, 0, 0, 0, 0, 0, 9};
	struct buf b;
	buf_init(&b, 0);
	OK(f, store_kv_get(f->t, STORE_KV_WIDGETKEYS, k4, 8, &b, &f->e));
	OK(f, store_kv_put(f->t, STORE_KV_WIDGETKEYS, k9, 8, b.data, b.len, &f->e));
	FAILS(f, ERR_AUTH, "service 9", store_widget_key_get(f->t, 9, f->key, &f->plain, &f->e));
	/* A damaged ciphertext: one bit flipped. */
	b.data[b.len - 1] ^= 1;
	OK(f, store_kv_put(f->t, STORE_KV_WIDGETKEYS, k4, 8, b.data, b.len, &f->e));
	FAILS(f, ERR_AUTH, "service 4", store_widget_key_get(f->t, 4, f->key, &f->plain, &f->e));
	/* A truncated or unknown-version value is malformed. */
	OK(f, store_kv_put(f->t, STORE_KV_WIDGETKEYS, k4, 8, "\x01short", 6, &f->e));
	FAILS(f, ERR_STORE, "malformed", store_widget_key_get(f->t, 4, f->key, &f->plain, &f->e));
	b.data[0] = 2;
	OK(f, store_kv_put(f->t, STORE_KV_WIDGETKEYS, k4, 8, b.data, b.len, &f->e));
	FAILS(f, ERR_STORE, "malformed", store_widget_key_get(f->t, 4, f->key, &f->plain, &f->e));
	buf_release(&b);
}

static void plaintext_checked(void **state)
{
	struct fx *f = *state;
	char big[STORE_WIDGET_KEY_MAX + 2];
	memset(big, 'k', sizeof(big));
	big[STORE_WIDGET_KEY_MAX + 1] = '\0';
	FAILS(f, ERR_INVAL, "at most 512 bytes", store_widget_key_put(f->t, 1, big, f->key, &f->e));
	big[STORE_WIDGET_KEY_MAX] = '\0';
	OK(f, store_widget_key_put(f->t, 1, big, f->key, &f->e));
	OK(f, store_widget_key_get(f->t, 1, f->key, &f->plain, &f->e));
	assert_string_equal(f->plain, big);
	const char *bad[] = {"", "tab\there", "new\nline", "caf\xc3\xa9", "del\x7f"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(store_widget_key_put(f->t, 2, bad[i], f->key, &f->e), ERR_INVAL);
	assert_int_equal(store_widget_key_isset(f->t, 2), 0);
	OK(f, store_widget_key_put(f->t, 2, " spaces are printable ", f->key, &f->e));
}

/* 1 when needle occurs anywhere in the file at path. */
static int file_contains(const char *path, const char *needle)
{
	struct buf b;
	buf_init(&b, 0);
	if (fileio_read(path, &b, NULL))
		fail_msg("cannot read '%s'", path);
	int found = memmem(b.data, b.len, needle, strlen(needle)) != NULL;
	buf_release(&b);
	return found;
}

static void no_plaintext_on_disk(void **state)
{
	struct fx *f = *state;
	char data[200];
	snprintf(data, sizeof(data), "%s/data.mdb", f->dir);
	/* A control string written the same way in clear shows the scan works. */
	OK(f, store_live_put(f->t, "probe", 5, "clear-control-string", 20, &f->e));
	OK(f, store_widget_key_put(f->t, 1, SECRET, f->key, &f->e));
	OK(f, store_widget_key_put(f->t, 2, SECRET "-two", f->key, &f->e));
	OK(f, store_txn_commit(f->t, &f->e));
	/* Overwrite and delete in later txns: old pages stay in the file. */
	OK(f, store_txn_begin(f->db, 1, &f->t, &f->e));
	OK(f, store_widget_key_put(f->t, 1, SECRET "-new", f->key, &f->e));
	OK(f, store_widget_key_put(f->t, 2, NULL, f->key, &f->e));
	OK(f, store_txn_commit(f->t, &f->e));
	f->t = NULL;
	store_db_close(f->db);
	f->db = NULL;
	assert_true(file_contains(data, "clear-control-string"));
	assert_false(file_contains(data, "pihole-api-token"));
	assert_false(file_contains(data, "3f9c2a1b7e"));
	OK(f, store_db_open(&f->db, f->dir, &f->e));
	OK(f, store_txn_begin(f->db, 0, &f->t, &f->e));
	OK(f, store_widget_key_get(f->t, 1, f->key, &f->plain, &f->e));
	assert_string_equal(f->plain, SECRET "-new");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(keyfile_created_and_stable, setup, teardown),
	    cmocka_unit_test_setup_teardown(keyfile_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(wrong_key_is_auth, setup, teardown),
	    cmocka_unit_test_setup_teardown(plaintext_checked, setup, teardown),
	    cmocka_unit_test_setup_teardown(no_plaintext_on_disk, setup, teardown),
	};
	if (sodium_init() < 0)
		return 1;
	umask(022); /* the key file must be 0600 whatever the umask */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
