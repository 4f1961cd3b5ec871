/*
 * Server-sent events (GET /api/v1/events): a hub that fans every
 * published event out to each subscriber as
 *
 *	id: <counter>\nevent: <type>\ndata: <json>\n\n
 *
 * Any thread may publish ("change" after each durable write, "render"
 * after the site is rewritten). A subscriber first gets "retry: 3000" and
 * a comment; a heartbeat comment every EVENTS_HEARTBEAT_S seconds (from
 * the hub's own thread, sleeping in between) keeps proxies from timing
 * the stream out and lets a vanished client be noticed. A subscriber
 * that falls more than EVENTS_MAX_QUEUED bytes behind is dropped. There
 * is no history: a client that reconnects reloads what it shows.
 *
 * The hub owns its subscribers' stream references. It must be freed only
 * after http_stop(), which ends every stream first.
 */
#ifndef DAEMON_EVENTS_H
#define DAEMON_EVENTS_H

#include <stddef.h>

#include "../common/err.h"
#include "http.h"

#define EVENTS_MAX_SUBSCRIBERS 256
#define EVENTS_MAX_QUEUED      (256 * 1024)
#define EVENTS_HEARTBEAT_S     25

struct events;

/* A hub with no subscribers, its heartbeat thread started. Never NULL. */
struct events *events_new(void);
/* Stop the heartbeat, end and drop any subscriber left; NULL is fine. */
void events_free(struct events *ev);

/*
 * Send event `type` (a word, no newline) with data `json_data` (one JSON
 * value) to every subscriber; ids count up from 1. Thread-safe; never
 * blocks on a client. NULL ev is fine (no-op).
 */
void events_publish(struct events *ev, const char *type, const char *json_data);

/*
 * From a handler: make the request a subscriber (res gets the stream's
 * headers). ERR_BUSY when EVENTS_MAX_SUBSCRIBERS are connected or the
 * server is stopping; res is then untouched for the caller's error reply.
 */
int events_subscribe(struct events *ev, const struct http_request *req, struct http_response *res,
                     struct err *e);

/* Subscribers connected now (for /metrics). */
size_t events_subscribers(struct events *ev);

#endif
