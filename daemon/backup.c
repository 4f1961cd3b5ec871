#include "backup.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/fileio.h"
#include "../common/log.h"
#include "../common/xalloc.h"
#include "../store/stdbackup.h"
#include "serve.h"
#include "settings.h"
#include "../common/banned.h"

/* How often the thread looks at the clock: a run starts at most this late. */
#define CHECK_MS 30000
/* After a failed run, the next try. */
#define RETRY_S 3600
/* The daily file's name after its date: "2026-11-23" + this. */
#define DAILY_SUFFIX "-std_backup.yml"

struct backup {
	struct daemon *d;
	pthread_t thread;
	pthread_mutex_t lock; /* everything below */
	pthread_cond_t wake;
	int stop;
	long done_day;   /* local YYYYMMDD of the last scheduled run (0: none yet) */
	time_t retry_at; /* after a failure: when to try again (0: none) */
	unsigned long long runs, failures;
	int64_t last_success;
	pthread_mutex_t run_lock; /* one run at a time (the thread, the API, the UI) */
};

/* The local date of t as YYYYMMDD, and its minutes after midnight. */
static long local_day(time_t t, int *minutes)
{
	struct tm tm;
	if (!localtime_r(&t, &tm))
		return 0;
	if (minutes)
		*minutes = tm.tm_hour * 60 + tm.tm_min;
	return (tm.tm_year + 1900L) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

static void daily_name(long day, char *out, size_t size)
{
	snprintf(out, size, "%04ld-%02ld-%02ld" DAILY_SUFFIX, day / 10000, day / 100 % 100,
	         day % 100);
}

/* Days since 1970-01-01 of the calendar date y-m-d (no time zone involved). */
static long day_number(int y, int m, int d)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = 12;
	return (long)(timegm(&tm) / 86400);
}

static int all_digits(const char *s, size_t n)
{
	return strspn(s, "0123456789") >= n;
}

/* The date of a daily file name as a day number, or -1 when name is not one. */
static long daily_date(const char *name)
{
	if (strlen(name) != 10 + strlen(DAILY_SUFFIX) || strcmp(name + 10, DAILY_SUFFIX) ||
	    !all_digits(name, 4) || name[4] != '-' || !all_digits(name + 5, 2) || name[7] != '-' ||
	    !all_digits(name + 8, 2))
		return -1;
	int y = (int)strtol(name, NULL, 10), m = (int)strtol(name + 5, NULL, 10),
	    d = (int)strtol(name + 8, NULL, 10);
	if (m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	return day_number(y, m, d);
}

int backup_name_ok(const char *name)
{
	static const char manual[] = "service_backup_all_";
	size_t n = strlen(name);
	if (!strcmp(name, "backup.yml") || daily_date(name) >= 0)
		return 1;
	/* service_backup_all_YYYYMMDD_HHMMSS.yaml */
	return n == strlen(manual) + 8 + 1 + 6 + 5 && !strncmp(name, manual, strlen(manual)) &&
	       all_digits(name + 19, 8) && name[27] == '_' && all_digits(name + 28, 6) &&
	       !strcmp(name + 34, ".yaml");
}

void backup_download_name(time_t now, char *out, size_t size)
{
	struct tm tm;
	char stamp[32] = "19700101_000000";
	if (localtime_r(&now, &tm))
		strftime(stamp, sizeof(stamp), "%Y%m%d_%H%M%S", &tm);
	snprintf(out, size, "service_backup_all_%s.yaml", stamp);
}

/* When a backup name says it was made, as "YYYYMMDDHHMMSS" ("" for backup.yml). */
static void name_stamp(const char *name, char out[16])
{
	out[0] = '\0';
	if (daily_date(name) >= 0)
		snprintf(out, 16, "%.4s%.2s%.2s000000", name, name + 5, name + 8);
	else if (strcmp(name, "backup.yml"))
		snprintf(out, 16, "%.8s%.6s", name + 19, name + 28);
}

/* Newest first by the time in the name, then by name. */
static int cmp_newest(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	char sx[16], sy[16];
	name_stamp(x, sx);
	name_stamp(y, sy);
	int c = strcmp(sy, sx);
	return c ? c : strcmp(y, x);
}

json_t *backup_list(const char *dir)
{
	json_t *list = json_array();
	DIR *dh = opendir(dir);
	if (!dh)
		return list;
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(dh))) {
		if (!backup_name_ok(de->d_name))
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(dh);
	if (n)
		qsort(names, n, sizeof(*names), cmp_newest);
	for (size_t i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]);
		struct stat st;
		if (!stat(path, &st) && S_ISREG(st.st_mode))
			json_array_append_new(list, json_pack("{s:s,s:I}", "name", names[i], "size",
			                                      (json_int_t)st.st_size));
		free(path);
		free(names[i]);
	}
	free(names);
	return list;
}

int backup_prune(const char *dir, int keep_days, time_t now, size_t *pruned, struct err *e)
{
	long today = local_day(now, NULL);
	long today_n =
	    day_number((int)(today / 10000), (int)(today / 100 % 100), (int)(today % 100));
	DIR *dh = opendir(dir);
	if (!dh)
		return err_set(e, ERR_IO, "cannot read '%s': %s", dir, strerror(errno));
	int rc = 0;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(dh))) {
		long date = daily_date(de->d_name);
		if (date < 0 || today_n - date < keep_days)
			continue;
		char *path = xasprintf("%s/%s", dir, de->d_name);
		if (unlink(path) && errno != ENOENT)
			rc = err_set(e, ERR_IO, "cannot delete '%s': %s", path, strerror(errno));
		else
			n++, log_info("backup: deleted '%s' (BACKUP_DAYS_TO_KEEP is %d)", path,
			              keep_days);
		free(path);
	}
	closedir(dh);
	if (pruned)
		*pruned = n;
	return rc;
}

int backup_export(struct store_db *db, struct buf *out, size_t *n, struct err *e)
{
	struct store_txn *t;
	int rc = store_txn_begin(db, 0, &t, e);
	if (rc)
		return rc;
	rc = store_std_emit(t, out, n, e);
	store_txn_abort(t);
	return rc;
}

int backup_run(struct backup *b, struct backup_result *r, struct err *e)
{
	if (!b)
		return err_set(e, ERR_BUSY, "the backup job is not running");
	struct daemon *d = b->d;
	pthread_rwlock_rdlock(&d->settings_lock);
	char *dir = xstrdup(d->settings->backup_path);
	int keep = d->settings->backup_days_to_keep;
	pthread_rwlock_unlock(&d->settings_lock);
	struct backup_result res;
	memset(&res, 0, sizeof(res));
	time_t now = time(NULL);
	daily_name(local_day(now, NULL), res.name, sizeof(res.name));
	char *path = xasprintf("%s/%s", dir, res.name);
	struct buf yaml;
	buf_init(&yaml, 0);
	pthread_mutex_lock(&b->run_lock);
	int rc = backup_export(d->app.db, &yaml, &res.services, e);
	if (!rc)
		rc = fileio_write_atomic(path, yaml.data, yaml.len, NULL, e);
	if (!rc)
		rc = backup_prune(dir, keep, now, &res.pruned, e);
	pthread_mutex_unlock(&b->run_lock);
	pthread_mutex_lock(&b->lock);
	b->runs++;
	if (rc)
		b->failures++;
	else
		b->last_success = (int64_t)time(NULL);
	pthread_mutex_unlock(&b->lock);
	if (rc) {
		log_error("backup: %s", e->msg);
	} else {
		log_info("backup: wrote '%s' (%zu services), deleted %zu old file(s)", path,
		         res.services, res.pruned);
		if (r)
			*r = res;
	}
	buf_release(&yaml);
	free(path);
	free(dir);
	return rc;
}

/* Whether the scheduled run is due at now (called with b->lock held). */
static int due(struct backup *b, time_t now)
{
	pthread_rwlock_rdlock(&b->d->settings_lock);
	int at = 5;
	settings_parse_clock(b->d->settings->backup_time, &at);
	pthread_rwlock_unlock(&b->d->settings_lock);
	int minutes = 0;
	long today = local_day(now, &minutes);
	if (b->retry_at)
		return now >= b->retry_at || (today != b->done_day && minutes >= at);
	return today != b->done_day && minutes >= at;
}

static void *backup_main(void *arg)
{
	struct backup *b = arg;
	pthread_mutex_lock(&b->lock);
	while (!b->stop) {
		time_t now = time(NULL);
		if (!due(b, now)) {
			struct timespec until;
			clock_deadline_ms(&until, CHECK_MS);
			pthread_cond_timedwait(&b->wake, &b->lock, &until);
			continue;
		}
		b->done_day = local_day(now, NULL);
		pthread_mutex_unlock(&b->lock);
		struct err e = {0};
		int rc = backup_run(b, NULL, &e);
		pthread_mutex_lock(&b->lock);
		b->retry_at = rc ? time(NULL) + RETRY_S : 0;
		if (rc)
			log_warn("backup: trying again in %d minutes", RETRY_S / 60);
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

int backup_start(struct backup **out, struct daemon *d, struct err *e)
{
	struct backup *b = xcalloc(1, sizeof(*b));
	b->d = d;
	pthread_mutex_init(&b->lock, NULL);
	pthread_mutex_init(&b->run_lock, NULL);
	pthread_cond_init(&b->wake, NULL);
	/* Today's file already there (a restart after the run): nothing to catch up. */
	char name[64];
	long today = local_day(time(NULL), NULL);
	daily_name(today, name, sizeof(name));
	pthread_rwlock_rdlock(&d->settings_lock);
	char *path = xasprintf("%s/%s", d->settings->backup_path, name);
	pthread_rwlock_unlock(&d->settings_lock);
	if (fileio_exists(path))
		b->done_day = today;
	free(path);
	if (pthread_create(&b->thread, NULL, backup_main, b)) {
		pthread_mutex_destroy(&b->lock);
		pthread_mutex_destroy(&b->run_lock);
		pthread_cond_destroy(&b->wake);
		free(b);
		return err_set(e, ERR_IO, "cannot start the backup thread");
	}
	*out = b;
	return 0;
}

void backup_stop(struct backup *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&b->lock);
	b->stop = 1;
	pthread_cond_signal(&b->wake);
	pthread_mutex_unlock(&b->lock);
	pthread_join(b->thread, NULL);
	pthread_mutex_destroy(&b->lock);
	pthread_mutex_destroy(&b->run_lock);
	pthread_cond_destroy(&b->wake);
	free(b);
}

void backup_stats(struct backup *b, unsigned long long *runs, unsigned long long *failures,
                  int64_t *last_success)
{
	*runs = *failures = 0;
	*last_success = 0;
	if (!b)
		return;
	pthread_mutex_lock(&b->lock);
	*runs = b->runs;
	*failures = b->failures;
	*last_success = b->last_success;
	pthread_mutex_unlock(&b->lock);
}
