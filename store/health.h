/*
 * URL health results (live state: LMDB only, never in git). For each
 * service URL (id, direction) the store keeps the URL that was checked,
 * the last STORE_HEALTH_HISTORY results (a ring) and the state they put
 * it in. A result that changes the state (unknown/up/degraded/down)
 * appends a journal entry (kind STORE_CHANGE_HEALTH, no inventory flag,
 * so the git mirror ignores it) so the site re-renders and
 * /api/v1/events fires; an unchanged state journals nothing.
 */
#ifndef STORE_HEALTH_H
#define STORE_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../common/err.h"
#include "db.h"

/* Results kept per URL: a day at the default 300 s interval. */
#define STORE_HEALTH_HISTORY 288

enum store_health_dir { STORE_HEALTH_INTERNAL = 0, STORE_HEALTH_EXTERNAL = 1 };

/* Why a check got no HTTP status. */
enum store_health_error {
	STORE_HEALTH_OK = 0, /* an HTTP status was received */
	STORE_HEALTH_DNS,
	STORE_HEALTH_REFUSED,
	STORE_HEALTH_TIMEOUT,
	STORE_HEALTH_TLS,
	STORE_HEALTH_TOO_MANY_REDIRECTS,
	STORE_HEALTH_OTHER,
};

/* What a URL's latest result means (views.md colours: up green, degraded amber, down red). */
enum store_health_state {
	STORE_HEALTH_UNKNOWN = 0, /* never checked */
	STORE_HEALTH_UP,          /* HTTP status < 400 */
	STORE_HEALTH_DEGRADED,    /* TLS failure */
	STORE_HEALTH_DOWN,        /* any other status or error */
};

struct store_health_result {
	int64_t at;    /* unix seconds (UTC) when the check finished */
	int status;    /* HTTP status, 0 when none */
	int ms;        /* response time in milliseconds */
	int error;     /* enum store_health_error */
	char msg[160]; /* curl's message when error != OK, else "" (stored for the last result only)
	                */
};

struct store_health {
	char *url; /* the URL these results are for */
	int state; /* enum store_health_state of the last result */
	struct store_health_result last;
	size_t n;                            /* results in history (<= STORE_HEALTH_HISTORY) */
	struct store_health_result *history; /* oldest first; msg empty */
};

/* The state a result puts its URL in. */
enum store_health_state store_health_state_of(const struct store_health_result *r);
/* "dns", "refused", "timeout", "tls", "too_many_redirects", "other"; NULL for OK. */
const char *store_health_error_name(int error);
/* "unknown", "up", "degraded", "down". */
const char *store_health_state_name(int state);

/*
 * Record a result for (id, dir) checked at url. When url differs from the
 * stored one, the history restarts. *state_changed (optional) is 1 when
 * the state differs from before (and a journal entry was appended).
 * ERR_NOTFOUND when the service does not exist (a check that raced a
 * delete: nothing written); ERR_INVAL for a bad dir, error or url. A
 * malformed stored value is replaced (the history restarts, from unknown).
 */
int store_health_record(struct store_txn *t, uint64_t id, int dir, const char *url,
                        const struct store_health_result *r, int *state_changed, struct err *e);
/*
 * The results of (id, dir); ERR_NOTFOUND when never checked, ERR_STORE
 * when the stored value is malformed. out is released by the caller.
 */
int store_health_get(struct store_txn *t, uint64_t id, int dir, struct store_health *out,
                     struct err *e);
/* Forget both directions of id (the service was deleted). Missing is fine. */
int store_health_forget(struct store_txn *t, uint64_t id, struct err *e);
/* Free what out holds and zero it. */
void store_health_release(struct store_health *h);
/* Percentage of history results that were up (0..100), or -1 with no history. */
double store_health_uptime(const struct store_health *h);
/*
 * JSON: {"url","state","status","ms","error","message","checked_at" (ISO),
 * "uptime"} plus "history": [{"at","status","ms","error"}...] when
 * with_history. "status" is null when 0, "error" and "message" null when
 * none, "uptime" null with no history; "checked_at" is ISO 8601 UTC
 * ("2026-11-23T17:40:00Z"), history "at" unix seconds. New reference.
 */
json_t *store_health_to_json(const struct store_health *h, int with_history);

#endif
