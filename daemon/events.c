#include "events.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/buf.h"
#include "../common/log.h"
#include "../common/xalloc.h"
#include "../common/banned.h"

struct events {
	pthread_mutex_t lock;
	pthread_cond_t wake; /* CLOCK_MONOTONIC: the heartbeat's timer */
	struct http_stream **subs;
	size_t nsubs;
	uint64_t last_id;
	int stop;
	pthread_t heartbeat;
};

/* With ev->lock held: forget subscriber i and drop the hub's reference. */
static void drop_locked(struct events *ev, size_t i)
{
	struct http_stream *s = ev->subs[i];
	ev->subs[i] = ev->subs[--ev->nsubs];
	http_stream_release(s);
}

/* With ev->lock held: write to everyone; a subscriber that cannot take it is dropped. */
static void broadcast_locked(struct events *ev, const char *data, size_t len)
{
	for (size_t i = 0; i < ev->nsubs;) {
		int rc = http_stream_write(ev->subs[i], data, len);
		if (rc == ERR_TOOBIG)
			log_info("events: dropping a subscriber more than %d KiB behind",
			         EVENTS_MAX_QUEUED / 1024);
		if (rc)
			drop_locked(ev, i);
		else
			i++;
	}
}

static void *heartbeat_main(void *arg)
{
	struct events *ev = arg;
	static const char ping[] = ": ping\n\n";
	pthread_mutex_lock(&ev->lock);
	while (!ev->stop) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += EVENTS_HEARTBEAT_S;
		while (!ev->stop && pthread_cond_timedwait(&ev->wake, &ev->lock, &until) == 0)
			;
		if (!ev->stop)
			broadcast_locked(ev, ping, sizeof(ping) - 1);
	}
	pthread_mutex_unlock(&ev->lock);
	return NULL;
}

struct events *events_new(void)
{
	struct events *ev = xcalloc(1, sizeof(*ev));
	pthread_mutex_init(&ev->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ev->wake, &ca);
	pthread_condattr_destroy(&ca);
	ev->subs = xcalloc(EVENTS_MAX_SUBSCRIBERS, sizeof(*ev->subs));
	if (pthread_create(&ev->heartbeat, NULL, heartbeat_main, ev)) {
		log_error("events: cannot start the heartbeat thread");
		abort();
	}
	return ev;
}

void events_free(struct events *ev)
{
	if (!ev)
		return;
	pthread_mutex_lock(&ev->lock);
	ev->stop = 1;
	pthread_cond_signal(&ev->wake);
	pthread_mutex_unlock(&ev->lock);
	pthread_join(ev->heartbeat, NULL);
	/* Normally none are left: http_stop() ended them all. */
	while (ev->nsubs) {
		http_stream_close(ev->subs[0]);
		drop_locked(ev, 0);
	}
	free(ev->subs);
	pthread_cond_destroy(&ev->wake);
	pthread_mutex_destroy(&ev->lock);
	free(ev);
}

void events_publish(struct events *ev, const char *type, const char *json_data)
{
	if (!ev)
		return;
	if (strpbrk(type, "\r\n")) {
		log_error("events: bad event type '%s'", type);
		return;
	}
	struct buf msg;
	buf_init(&msg, 0);
	pthread_mutex_lock(&ev->lock);
	buf_addf(&msg, "id: %llu\nevent: %s\n", (unsigned long long)++ev->last_id, type);
	/* A newline in the data would end the field: each line is its own data: field. */
	for (const char *p = json_data;;) {
		size_t n = strcspn(p, "\r\n");
		buf_adds(&msg, "data: ");
		buf_add(&msg, p, n);
		buf_addc(&msg, '\n');
		p += n;
		if (!*p)
			break;
		p += (p[0] == '\r' && p[1] == '\n') ? 2 : 1;
	}
	buf_addc(&msg, '\n');
	broadcast_locked(ev, msg.data, msg.len);
	pthread_mutex_unlock(&ev->lock);
	buf_release(&msg);
}

/* The http layer ended the stream (client gone, dropped, server stopping). */
static void subscriber_closed(void *arg, struct http_stream *s)
{
	struct events *ev = arg;
	pthread_mutex_lock(&ev->lock);
	for (size_t i = 0; i < ev->nsubs; i++)
		if (ev->subs[i] == s) {
			drop_locked(ev, i);
			break;
		}
	pthread_mutex_unlock(&ev->lock);
}

int events_subscribe(struct events *ev, const struct http_request *req, struct http_response *res,
                     struct err *e)
{
	static const char hello[] = "retry: 3000\n: portolan events\n\n";
	pthread_mutex_lock(&ev->lock);
	if (ev->nsubs == EVENTS_MAX_SUBSCRIBERS) {
		pthread_mutex_unlock(&ev->lock);
		return err_set(e, ERR_BUSY, "Too many event subscribers (at most %d)",
		               EVENTS_MAX_SUBSCRIBERS);
	}
	/* The stream cannot end before this handler returns: the lock order is safe. */
	struct http_stream *s =
	    http_stream_open(req, res, EVENTS_MAX_QUEUED, subscriber_closed, ev);
	if (!s) {
		pthread_mutex_unlock(&ev->lock);
		return err_set(e, ERR_BUSY, "Server is stopping");
	}
	res->status = 200;
	res->content_type = "text/event-stream; charset=utf-8";
	http_response_header(res, "Cache-Control", "no-store");
	http_response_header(res, "X-Accel-Buffering", "no");
	http_stream_write(s, hello, sizeof(hello) - 1);
	ev->subs[ev->nsubs++] = s;
	pthread_mutex_unlock(&ev->lock);
	return 0;
}

size_t events_subscribers(struct events *ev)
{
	pthread_mutex_lock(&ev->lock);
	size_t n = ev->nsubs;
	pthread_mutex_unlock(&ev->lock);
	return n;
}
