/*
 * Backups in STD's format (store/stdbackup.h) under BACKUP_PATH.
 *
 * A thread writes <BACKUP_PATH>/<YYYY-MM-DD>-std_backup.yml (local date)
 * every day at BACKUP_TIME (local, default 00:05) and then deletes the
 * daily files whose date is BACKUP_DAYS_TO_KEEP days old or older (by the
 * date in the name; no other file is ever touched). A daemon that was not
 * running at BACKUP_TIME writes the day's file when it starts, once the
 * time has passed (STD only writes on its schedule, so a restart at the
 * wrong moment cost it a day). A failed run is logged and tried again an
 * hour later. POST /api/v1/backups and the UI's "save a backup on the
 * server" run the same job at once (backup_run).
 *
 * The thread only reads the store; settings are read under the daemon's
 * settings lock at each run, so a SIGHUP's new BACKUP_TIME, BACKUP_PATH or
 * BACKUP_DAYS_TO_KEEP apply from the next check (within 30 s).
 */
#ifndef DAEMON_BACKUP_H
#define DAEMON_BACKUP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "../common/buf.h"
#include "../common/err.h"
#include "../store/db.h"

struct daemon;
struct backup;

/* What one run did. */
struct backup_result {
	char name[64];   /* the file written, e.g. "2026-11-23-std_backup.yml" */
	size_t services; /* records in it */
	size_t pruned;   /* old daily files deleted */
};

/* Start the daily thread for d. ERR_IO when it cannot start. */
int backup_start(struct backup **out, struct daemon *d, struct err *e);
/* Stop the thread (a run in progress finishes) and free. NULL is fine. */
void backup_stop(struct backup *b);
/* Write today's daily file now and prune old ones; logs what it did. ERR_* on failure. */
int backup_run(struct backup *b, struct backup_result *r, struct err *e);
/* Runs and failures so far, and when the last good run finished (unix seconds, 0 = never). */
void backup_stats(struct backup *b, unsigned long long *runs, unsigned long long *failures,
                  int64_t *last_success);

/* The whole inventory as a backup into out; *n (optional) gets the number of services. */
int backup_export(struct store_db *db, struct buf *out, size_t *n, struct err *e);
/*
 * 1 when name is a backup file name the UI may restore from:
 * <YYYY-MM-DD>-std_backup.yml, service_backup_all_<YYYYMMDD>_<HHMMSS>.yaml
 * or backup.yml. Anything else (a path, "..") is 0.
 */
int backup_name_ok(const char *name);
/* The download name for a backup made at now: service_backup_all_YYYYMMDD_HHMMSS.yaml. */
void backup_download_name(time_t now, char *out, size_t size);
/*
 * The backup files in dir (names backup_name_ok accepts), newest first
 * by the date in the name: [{"name", "size"}]. An unreadable or missing dir gives [].
 */
json_t *backup_list(const char *dir);
/*
 * Delete the daily files in dir whose date is keep_days or more days
 * before the local date of now. *pruned gets how many. ERR_IO when the
 * dir cannot be read or a file cannot be deleted (the others still are).
 */
int backup_prune(const char *dir, int keep_days, time_t now, size_t *pruned, struct err *e);

#endif
