/*
 * Widget values (live state: LMDB only, never in git or backups). A widget
 * samples a few numbers per service ("queries", "blocked", "cpu_pct"); each
 * (service, field) keeps a time series of (unix second, double) and a state:
 * the newest value with its time, and the last error (class, message, time)
 * when it is newer than that value. A failed sample never erases the value:
 * the state shows it marked stale until a newer sample succeeds.
 *
 * Layout (the widgetvals database; keys sort as bytes):
 *   'd' day (u32 BE) id (u64 BE) field  -> one UTC day of one series (a chunk)
 *   's' id (u64 BE) field               -> the field's state
 * day = floor(unix time / 86400). Day first, so that the oldest days are
 * one contiguous range (prune is a range delete at the front, and new days
 * are added at the end of the tree, where LMDB's pages stay full); one
 * service's fields of one day are adjacent (forget: one range per day).
 * A chunk is a version byte (1) then its samples in time order, each
 *   varint zigzag(dt - previous dt)    dt = seconds since the previous
 *                                       sample (the first: since 00:00 UTC)
 *   varint tag                          zigzag(dm) << 3 | k
 * where the value is m / 10^k for k in 0..3 (the smallest k that gives the
 * double back exactly) and dm = m - previous m when the previous sample had
 * the same k, else m; k = 7 (tag 7) means 8 raw IEEE bytes follow. Regular
 * samples of slowly varying integers cost 2 bytes; 1- to 3-decimal readings
 * like 45.3 are as small; only values like 0.1 + 0.2 cost 10. A sample
 * rewrites its day's chunk (decode, insert, encode): at the 15-minute
 * default a chunk holds 96 samples (~200 bytes), so that is cheap, and
 * reading a 7-day sparkline is 7 point lookups.
 *
 * Time order: samples are kept sorted by time with at most one per second;
 * one at a second that already has one replaces it (the newer call wins),
 * one older than the newest is inserted in place and leaves the state
 * alone. Errors are not part of the series.
 *
 * Retention: store_widget_prune(before) removes whole days whose every
 * second is before `before` (the daemon passes now - WIDGET_VALUE_RETENTION_DAYS
 * days, daily), so at least the retention period is always kept, and the
 * states of fields with nothing newer. store_widget_forget removes a
 * service's values and states (service deleted, widget removed).
 *
 * Field names: 1 to STORE_WIDGET_FIELD_MAX of [a-z0-9_]; error classes the
 * same, at most STORE_WIDGET_CLASS_MAX. Error messages are kept as valid
 * UTF-8 without control characters, cut to STORE_WIDGET_MESSAGE_MAX bytes.
 * Every function takes the caller's txn and returns 0 or a negative ERR_*
 * with a message in e.
 */
#ifndef STORE_WIDGETVALS_H
#define STORE_WIDGETVALS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../common/err.h"
#include "db.h"

#define STORE_WIDGET_FIELD_MAX   64
#define STORE_WIDGET_CLASS_MAX   32
#define STORE_WIDGET_MESSAGE_MAX 256
/* WIDGET_VALUE_RETENTION_DAYS when unset. */
#define STORE_WIDGET_RETENTION_DAYS 30

/* 0 when field is a valid field name, else ERR_INVAL naming the rule. */
int store_widget_check_field(const char *field, struct err *e);

/*
 * Record a good sample of field at when (unix seconds, >= 0). *changed
 * (optional) is set to 1 when what a page shows changed: the field's value
 * differs from its previous newest value (or it had none), or the field
 * stops being stale; 0 when only times moved (the daemon re-renders on 1).
 * ERR_INVAL for a bad field, a negative time or a non-finite value.
 */
int store_widget_record(struct store_txn *t, uint64_t service_id, const char *field, int64_t when,
                        double value, int *changed, struct err *e);
/*
 * Record a failed sample of field at when: the state keeps its value and
 * shows this error (stale) unless a value or error newer than when is
 * already there (then nothing changes). *changed (optional) is 1 when the
 * field became stale or its error class or message changed. ERR_INVAL for
 * a bad field or class.
 */
int store_widget_record_error(struct store_txn *t, uint64_t service_id, const char *field,
                              int64_t when, const char *error_class, const char *message,
                              int *changed, struct err *e);
/*
 * The state of every field of a service, a new reference:
 *   {"fields": {"<field>": {"value": n|null, "at": "2024-05-01T12:00:00Z"|null,
 *                           "error": {"class", "message", "at"}|null, "stale": bool}}}
 * (value null until a sample succeeded; stale when the last sample failed).
 * An empty "fields" for a service with no values.
 */
int store_widget_state(struct store_txn *t, uint64_t service_id, json_t **out, struct err *e);
/*
 * Samples at or after since, oldest first, a new reference:
 *   {"<field>": [[unix_time, value], ...], ...}
 * for one field (an empty list when it has none) or, field NULL, every
 * field that has a state. ERR_INVAL for a bad field name.
 */
int store_widget_history(struct store_txn *t, uint64_t service_id, const char *field, int64_t since,
                         json_t **out, struct err *e);
/* Delete every value and state of a service (none is fine). */
int store_widget_forget(struct store_txn *t, uint64_t service_id, struct err *e);
/*
 * Delete the day chunks that end at or before `before` and the states with
 * nothing newer than the start of before's day; *removed (optional) gets
 * how many entries (chunks + states) went.
 */
int store_widget_prune(struct store_txn *t, int64_t before, size_t *removed, struct err *e);

#endif
