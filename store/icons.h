/*
 * Service and group icons: what a valid icon name is, what an icon file
 * may contain, and the fetcher's memory of names that could not be
 * fetched (live state in LMDB, so a restart does not hit the network
 * again before the retry time).
 *
 * An icon name is a plain file name ("sonarr", "sonarr.svg"): it is joined
 * to <config>/images/ and to the site's images/, so no path, no dot file,
 * nothing a URL would need escaped.
 */
#ifndef STORE_ICONS_H
#define STORE_ICONS_H

#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "db.h"

#define STORE_ICON_NAME_MAX 128
/* Largest icon file accepted (fetched or copied into the site). */
#define STORE_ICON_MAX_BYTES (1024 * 1024)

/* What an icon file holds, judged by its bytes. */
enum store_icon_kind {
	STORE_ICON_KIND_UNKNOWN = 0,
	STORE_ICON_KIND_SVG,
	STORE_ICON_KIND_PNG,
	STORE_ICON_KIND_WEBP,
};

/* 1 when name is 1..128 bytes of [A-Za-z0-9._-] not starting with '.' or '-'. */
int store_icon_name_ok(const char *name);
/* 1 when name is a valid name that is also all lowercase (the only names fetched). */
int store_icon_name_fetchable(const char *name);
/*
 * 1 when name has no image extension (.svg .png .webp .ico): its file is
 * then name + one of store_icon_bare_exts (derived names are bare), else
 * the file is name itself.
 */
int store_icon_name_bare(const char *name);
/* The extensions a bare name's file may have, most preferred first; NULL-terminated. */
extern const char *const store_icon_bare_exts[];
/* The kind an extension names ("svg", "png", "webp"; NULL or other: UNKNOWN). */
enum store_icon_kind store_icon_kind_of_ext(const char *ext);
/* "svg", "png", "webp"; NULL for UNKNOWN. */
const char *store_icon_kind_ext(enum store_icon_kind kind);
/*
 * Check an icon file's bytes: at most STORE_ICON_MAX_BYTES, and an SVG,
 * PNG or WebP by content; an SVG must not carry script, event handlers,
 * javascript: URLs, foreignObject, entity declarations or references to
 * anything outside itself. *kind (optional) gets what it is. ERR_TOOBIG
 * or ERR_INVAL with the reason.
 */
int store_icon_check(const void *data, size_t len, enum store_icon_kind *kind, struct err *e);

/* Remember that name could not be fetched at `at` (unix s) and why. */
int store_icon_fail_put(struct store_txn *t, const char *name, int64_t at, const char *why,
                        struct err *e);
/*
 * When name last failed and why (*why malloc'd, optional). ERR_NOTFOUND
 * when it never failed (or was forgotten).
 */
int store_icon_fail_get(struct store_txn *t, const char *name, int64_t *at, char **why,
                        struct err *e);
/* Forget a failure (refresh asked for, or a fetch worked). Missing is fine. */
int store_icon_fail_del(struct store_txn *t, const char *name, struct err *e);

#endif
