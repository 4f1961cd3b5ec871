/*
 * Prometheus counters for /metrics: requests by route and status, and
 * registrations by outcome. Thread-safe; the rest (services, journal lag,
 * commit durations) is read from their owners when /metrics is served.
 */
#ifndef DAEMON_METRICS_H
#define DAEMON_METRICS_H

#include <pthread.h>

#include "../common/buf.h"

#define METRICS_MAX_SERIES 128

struct hooks;

struct metrics {
	pthread_mutex_t lock;
	struct {
		const char *route; /* a static route pattern, e.g. "/api/v1/services/{id}" */
		int status;
		unsigned long long count;
	} requests[METRICS_MAX_SERIES];
	size_t nrequests;
	unsigned long long registrations[4]; /* by enum store_merge_status */
};

/* Initialise (no allocation). */
void metrics_init(struct metrics *m);
/* Release the lock. */
void metrics_release(struct metrics *m);
/* Count one request; route must be a string with static lifetime. */
void metrics_request(struct metrics *m, const char *route, int status);
/* Count one registration outcome. */
void metrics_registration(struct metrics *m, int status);
/* Append the counters in Prometheus text format. */
void metrics_write(struct metrics *m, struct buf *out);
/* Append portolan_hook_runs_total{hook,result} from the hooks worker (NULL: all zero). */
void metrics_write_hooks(struct hooks *h, struct buf *out);

#endif
