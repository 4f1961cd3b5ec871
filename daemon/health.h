/*
 * The URL health checker of `portolan serve`: one thread owning one curl
 * multi handle. Every service URL whose check is enabled is fetched on a
 * pass right after start-up and then every URL_HEALTHCHECK_INTERVAL
 * seconds, at most HEALTHCHECK_CONCURRENCY at once; when there are more
 * URLs than that, later passes spread their starts over the interval. The
 * list of URLs comes from the store at each pass and on a cheap re-scan
 * (every few seconds, or soon after health_wake) that checks new or
 * changed URLs right away. Results go to the writer asynchronously
 * (store_health_record), so the curl loop never waits for a disk.
 *
 * The thread owns every curl handle; other threads only call health_wake
 * and health_stop. Stop it before the writer: it submits to it.
 * curl_global_init must have run before health_start.
 */
#ifndef DAEMON_HEALTH_H
#define DAEMON_HEALTH_H

#include <stdint.h>

#include <jansson.h>

#include "../common/err.h"
#include "../store/db.h"

struct daemon;
struct health;

/* Start the checker thread (first pass at once). ERR_IO when it cannot start. */
int health_start(struct health **out, struct daemon *d, struct err *e);
/* Services were added or changed: re-scan the store soon. Any thread; NULL is fine. */
void health_wake(struct health *h);
/* Abandon the checks in flight, stop the thread, free. NULL is fine. */
void health_stop(struct health *h);
/* Checks finished and checks in flight (for /metrics). */
void health_stats(struct health *h, unsigned long long *checks, unsigned *in_flight);

/*
 * GET /api/v1/health: {"services": [{"id","host","container_name",
 * "internal","external"}]}, each direction store_health_to_json without
 * history or null. ERR_STORE on a read failure.
 */
int health_list_json(struct store_txn *t, json_t **out, struct err *e);
/*
 * GET /api/v1/services/<id>/health: {"internal","external"} with history,
 * null when never checked. ERR_NOTFOUND for an unknown id.
 */
int health_service_json(struct store_txn *t, uint64_t id, json_t **out, struct err *e);

#endif
