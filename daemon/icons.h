/*
 * The icon fetcher of `portolan serve`: one thread owning one curl multi
 * handle. It looks at the icon names services and groups use; a name with
 * no file in <config>/images/ is fetched from the ICON_SOURCES templates
 * in order (a register never waits for it), checked (store_icon_check)
 * and written there, and the site re-renders with it. A name that could
 * not be fetched is recorded in LMDB and not tried again before
 * ICON_RETRY_AFTER, across restarts; a fetched file is kept until an
 * operator asks for a refresh. Files already in images/ (the operator's)
 * are never fetched over, except by a refresh the operator asked for.
 *
 * The thread owns every curl handle; other threads call icons_wake,
 * icons_refresh and icons_stop only. Stop it before the writer and the
 * site generator: it uses both.
 */
#ifndef DAEMON_ICONS_H
#define DAEMON_ICONS_H

#include <jansson.h>

#include "../common/err.h"
#include "../store/db.h"

struct daemon;
struct icons;

/* Start the fetcher thread (it scans at once). ERR_IO when it cannot start. */
int icons_start(struct icons **out, struct daemon *d, struct err *e);
/* Services or groups changed: look for new icon names soon. Any thread; NULL is fine. */
void icons_wake(struct icons *ic);
/*
 * Fetch name again (forgetting a failure) even when its file exists; the
 * file is replaced only when the fetch works. ERR_INVAL for a name that is
 * not fetchable, ERR_BUSY when fetching is off (ICON_SOURCES=none) or the
 * fetcher is not running.
 */
int icons_refresh(struct icons *ic, const char *name, struct err *e);
/* Abandon fetches in flight, stop the thread, free. NULL is fine. */
void icons_stop(struct icons *ic);
/* Icons fetched and fetches that failed since start (for /metrics). */
void icons_stats(struct icons *ic, unsigned long long *fetched, unsigned long long *failed);

/* The file icon name has in images_dir (malloc'd: "sonarr.svg" for "sonarr"), or NULL. */
char *icons_local_file(const char *images_dir, const char *name);

/*
 * GET /api/v1/icons: {"icons": [{"name", "file", "failed_at", "error"}]}
 * for every icon name a service or group uses, sorted by name; "file" is
 * the file in images_dir (null when none), "failed_at" (ISO 8601) and
 * "error" the last failed fetch (null when none). ERR_STORE on a read failure.
 */
int icons_list_json(struct store_txn *t, const char *images_dir, json_t **out, struct err *e);

#endif
