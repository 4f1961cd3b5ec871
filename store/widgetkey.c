#include "widgetkey.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/buf.h"
#include "../common/fileio.h"
#include "../common/xalloc.h"
#include "../common/banned.h"

#define FORMAT_V1 1
#define ID_BYTES  8
/* version || nonce || MAC || id || plaintext */
#define HEAD_BYTES (1 + crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
#define VALUE_MAX  (HEAD_BYTES + ID_BYTES + STORE_WIDGET_KEY_MAX)

static void id_be(uint64_t v, unsigned char out[ID_BYTES])
{
	for (int i = ID_BYTES - 1; i >= 0; i--, v >>= 8)
		out[i] = (unsigned char)(v & 0xff);
}

/* Read exactly n bytes of an open file; -1 on a short file or an error. */
static int read_full(int fd, unsigned char *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Read an existing key file; ERR_NOTFOUND when there is none. */
static int keyfile_read(unsigned char *key, const char *path, struct err *e)
{
	/* O_NONBLOCK: opening a FIFO planted there must not hang start-up. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)
		return ERR_NOTFOUND;
	if (fd < 0)
		return err_set(e, ERR_IO, "cannot open widget key file '%s': %s", path,
		               strerror(errno));
	struct stat st;
	int rc = 0;
	unsigned char extra;
	if (fstat(fd, &st))
		rc = err_set(e, ERR_IO, "cannot stat widget key file '%s': %s", path,
		             strerror(errno));
	else if (!S_ISREG(st.st_mode))
		rc = err_set(e, ERR_INVAL, "widget key file '%s' is not a regular file", path);
	else if (st.st_mode & 077)
		rc = err_set(e, ERR_AUTH,
		             "widget key file '%s' is accessible by group or others (mode %04o): "
		             "run chmod 600 on it",
		             path, (unsigned)(st.st_mode & 07777));
	else if (st.st_size != crypto_secretbox_KEYBYTES ||
	         read_full(fd, key, crypto_secretbox_KEYBYTES) || read(fd, &extra, 1) != 0)
		rc = err_set(e, ERR_INVAL, "widget key file '%s' must hold exactly %d bytes", path,
		             crypto_secretbox_KEYBYTES);
	close(fd);
	if (rc)
		sodium_memzero(key, crypto_secretbox_KEYBYTES);
	return rc;
}

/*
 * Write a fresh random key beside path and link(2) it into place: unlike
 * rename, link never replaces a key another process created meanwhile (we
 * then read theirs), so two racing starts cannot end up with two keys.
 */
static int keyfile_create(const char *dir, const char *path, struct err *e)
{
	unsigned char key[crypto_secretbox_KEYBYTES];
	char *tmp = xasprintf("%s/.widget_secret.key.XXXXXX", dir);
	int rc = 0;
	int fd = mkstemp(tmp); /* mode 0600 */
	if (fd < 0) {
		rc = err_set(e, ERR_IO, "cannot create widget key file in '%s': %s", dir,
		             strerror(errno));
		goto out;
	}
	randombytes_buf(key, sizeof(key));
	if (fchmod(fd, 0600) || write(fd, key, sizeof(key)) != (ssize_t)sizeof(key) || fsync(fd))
		rc = err_set(e, ERR_IO, "cannot write widget key file '%s': %s", tmp,
		             strerror(errno));
	sodium_memzero(key, sizeof(key));
	if (close(fd) && !rc)
		rc = err_set(e, ERR_IO, "cannot write widget key file '%s': %s", tmp,
		             strerror(errno));
	if (!rc && link(tmp, path) && errno != EEXIST)
		rc = err_set(e, ERR_IO, "cannot create widget key file '%s': %s", path,
		             strerror(errno));
	unlink(tmp);
	if (!rc) {
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
out:
	free(tmp);
	return rc;
}

int store_widget_keyfile_load(unsigned char key[crypto_secretbox_KEYBYTES], const char *config_dir,
                              struct err *e)
{
	char *path = xasprintf("%s/%s", config_dir, STORE_WIDGET_KEYFILE);
	int rc = keyfile_read(key, path, e);
	if (rc == ERR_NOTFOUND) {
		rc = fileio_mkdirs(config_dir, e);
		if (!rc)
			rc = keyfile_create(config_dir, path, e);
		if (!rc)
			rc = keyfile_read(key, path, e);
		if (rc == ERR_NOTFOUND)
			rc = err_set(e, ERR_IO, "widget key file '%s' vanished after creation",
			             path);
	}
	free(path);
	return rc;
}

static int plaintext_check(const char *p, size_t *len, struct err *e)
{
	size_t n = 0;
	for (; p[n]; n++)
		if (n == STORE_WIDGET_KEY_MAX || p[n] < 0x20 || p[n] > 0x7e)
			break;
	if (p[n] && n == STORE_WIDGET_KEY_MAX)
		return err_set(e, ERR_INVAL, "widget api key: must be at most %d bytes",
		               STORE_WIDGET_KEY_MAX);
	if (p[n])
		return err_set(e, ERR_INVAL,
		               "widget api key: must be printable ASCII (no control or non-ASCII "
		               "characters)");
	if (!n)
		return err_set(e, ERR_INVAL, "widget api key: must not be empty");
	*len = n;
	return 0;
}

int store_widget_key_put(struct store_txn *t, uint64_t service_id, const char *plaintext,
                         const unsigned char *key, struct err *e)
{
	unsigned char kb[ID_BYTES];
	id_be(service_id, kb);
	if (!plaintext) {
		int rc = store_kv_del(t, STORE_KV_WIDGETKEYS, kb, sizeof(kb), e);
		return rc == ERR_NOTFOUND ? 0 : rc;
	}
	size_t n = 0;
	int rc = plaintext_check(plaintext, &n, e);
	if (rc)
		return rc;
	unsigned char msg[ID_BYTES + STORE_WIDGET_KEY_MAX];
	unsigned char val[VALUE_MAX];
	memcpy(msg, kb, ID_BYTES);
	memcpy(msg + ID_BYTES, plaintext, n);
	val[0] = FORMAT_V1;
	randombytes_buf(val + 1, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(val + 1 + crypto_secretbox_NONCEBYTES, msg, ID_BYTES + n, val + 1,
	                      key);
	sodium_memzero(msg, sizeof(msg));
	return store_kv_put(t, STORE_KV_WIDGETKEYS, kb, sizeof(kb), val, HEAD_BYTES + ID_BYTES + n,
	                    e);
}

int store_widget_key_get(struct store_txn *t, uint64_t service_id, const unsigned char *key,
                         char **plaintext, struct err *e)
{
	unsigned char kb[ID_BYTES];
	id_be(service_id, kb);
	struct buf b;
	buf_init(&b, VALUE_MAX);
	unsigned char msg[ID_BYTES + STORE_WIDGET_KEY_MAX];
	int rc = store_kv_get(t, STORE_KV_WIDGETKEYS, kb, sizeof(kb), &b, NULL);
	if (rc == ERR_NOTFOUND) {
		rc = err_set(e, ERR_NOTFOUND, "no widget api key for service %llu",
		             (unsigned long long)service_id);
		goto out;
	}
	if (rc || b.len <= HEAD_BYTES + ID_BYTES || (unsigned char)b.data[0] != FORMAT_V1) {
		rc = err_set(e, ERR_STORE, "malformed widget api key of service %llu",
		             (unsigned long long)service_id);
		goto out;
	}
	const unsigned char *v = (const unsigned char *)b.data;
	size_t mlen = b.len - HEAD_BYTES;
	if (crypto_secretbox_open_easy(msg, v + 1 + crypto_secretbox_NONCEBYTES,
	                               b.len - 1 - crypto_secretbox_NONCEBYTES, v + 1, key) ||
	    memcmp(msg, kb, ID_BYTES)) {
		rc =
		    err_set(e, ERR_AUTH,
		            "cannot decrypt the widget api key of service %llu (was the widget key "
		            "file replaced?)",
		            (unsigned long long)service_id);
		goto out;
	}
	char *p = xmalloc(mlen - ID_BYTES + 1);
	memcpy(p, msg + ID_BYTES, mlen - ID_BYTES);
	p[mlen - ID_BYTES] = '\0';
	*plaintext = p;
out:
	sodium_memzero(msg, sizeof(msg));
	buf_release(&b);
	return rc;
}

int store_widget_key_isset(struct store_txn *t, uint64_t service_id)
{
	unsigned char kb[ID_BYTES];
	id_be(service_id, kb);
	struct buf b;
	buf_init(&b, VALUE_MAX);
	int rc = store_kv_get(t, STORE_KV_WIDGETKEYS, kb, sizeof(kb), &b, NULL);
	buf_release(&b);
	return rc == 0;
}

void store_widget_key_free(char *plaintext)
{
	if (!plaintext)
		return;
	sodium_memzero(plaintext, strlen(plaintext));
	free(plaintext);
}
