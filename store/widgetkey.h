/*
 * Widget API keys at rest. A service's widget may need a secret (an API
 * key or token) to read its numbers; it is stored in LMDB only (the
 * widgetkeys database: never in git, backups, logs, HTML or API bodies),
 * encrypted with libsodium's secretbox (XSalsa20-Poly1305) under a 32-byte
 * key kept in <config>/widget_secret.key (mode 0600, created on first use).
 *
 * Stored value: version (1 byte, 1) || nonce (24 random bytes) ||
 * secretbox(service id (u64 BE) || plaintext). The id inside the box binds
 * a ciphertext to its service: one copied onto another service's key does
 * not decrypt (ERR_AUTH), so a store edit cannot move a secret to a widget
 * that would send it elsewhere. A lost or replaced key file makes every
 * stored key fail with ERR_AUTH; operators re-enter them.
 *
 * Invariants: plaintexts are 1 to STORE_WIDGET_KEY_MAX bytes of printable
 * ASCII (0x20-0x7e), so they can go in an HTTP header as they are; every
 * plaintext copy this module makes is zeroed (sodium_memzero) before it is
 * freed. libsodium must be initialised (sodium_init) by the program. Every
 * function returns 0 or a negative ERR_* with a message in e; messages
 * never contain a plaintext.
 */
#ifndef STORE_WIDGETKEY_H
#define STORE_WIDGETKEY_H

#include <stdint.h>

#include <sodium.h>

#include "../common/err.h"
#include "db.h"

#define STORE_WIDGET_KEYFILE "widget_secret.key"
#define STORE_WIDGET_KEY_MAX 512 /* plaintext bytes */

/*
 * Read <config_dir>/widget_secret.key into key, creating it (32 random
 * bytes, mode 0600, atomically: no reader ever sees a partial file, and
 * two processes racing both end up with the same key) when it is missing.
 * ERR_AUTH when group or others have any access to the file (it would
 * hand out every stored key), ERR_INVAL when it is not a regular file
 * (symbolic links are followed) of exactly 32 bytes, ERR_IO otherwise.
 */
int store_widget_keyfile_load(unsigned char key[crypto_secretbox_KEYBYTES], const char *config_dir,
                              struct err *e);

/*
 * Store (replace) the widget API key of service_id, encrypted under key;
 * plaintext NULL deletes it (no error when there was none). ERR_INVAL for
 * an empty, too long or non-printable plaintext, ERR_STORE.
 */
int store_widget_key_put(struct store_txn *t, uint64_t service_id, const char *plaintext,
                         const unsigned char *key, struct err *e);
/*
 * Decrypt the widget API key of service_id into *plaintext (malloc'd,
 * NUL-terminated; the caller frees it with store_widget_key_free).
 * ERR_NOTFOUND when none is set, ERR_AUTH when it does not decrypt under
 * key (another key file, or a ciphertext of another service), ERR_STORE.
 */
int store_widget_key_get(struct store_txn *t, uint64_t service_id, const unsigned char *key,
                         char **plaintext, struct err *e);
/* 1 when service_id has a widget API key stored (without decrypting it), else 0. */
int store_widget_key_isset(struct store_txn *t, uint64_t service_id);
/* Zero and free a plaintext from store_widget_key_get. NULL is fine. */
void store_widget_key_free(char *plaintext);

#endif
