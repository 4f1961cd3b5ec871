/*
 * The thin HTTP layer: the only module that knows libmicrohttpd. It turns
 * a request into a struct http_request (method, path, query, headers, a
 * size-limited body) and sends back whatever struct http_response the
 * handler fills. A small pool of epoll threads serves every connection, so
 * handlers must not block for long: one that waits for something (a
 * durable write) defers its reply with http_defer() and the connection is
 * suspended until http_resume().
 */
#ifndef DAEMON_HTTP_H
#define DAEMON_HTTP_H

#include <stddef.h>

#include "../common/buf.h"
#include "../common/err.h"

/* Largest request body accepted; more is a 413. */
#define HTTP_MAX_BODY (1024 * 1024)

struct http_request {
	const char *method;
	const char *path; /* decoded, without the query string */
	const char *remote_ip;
	struct buf body;
	int body_too_large;
	void *conn; /* opaque: for query and header lookups */
};

struct http_response {
	int status;
	const char *content_type;
	struct buf body;
	char *allow; /* Allow header for a 405, or NULL */
	char *www_authenticate;
};

struct http_config {
	const char *host; /* address to bind ("0.0.0.0", "::1", ...) */
	int port;
	unsigned connection_limit;
	unsigned per_ip_limit;
	unsigned timeout_s;
	unsigned threads; /* epoll threads in the pool */
};

typedef void (*http_handler)(const struct http_request *req, struct http_response *res, void *arg);

struct http_server;

/* Start listening; the handler runs on connection threads. ERR_IO on failure. */
int http_start(struct http_server **out, const struct http_config *cfg, http_handler handler,
               void *arg, struct err *e);
/* Stop accepting, finish in-flight requests, free. NULL is fine. */
void http_stop(struct http_server *s);
/* Builds a deferred reply, on a server thread, after http_resume(). */
typedef void (*http_finish_fn)(void *arg, struct http_response *res);
struct http_pending;

/*
 * From a handler: the reply will be built later by finish(arg, res). The
 * handler returns without filling res; the connection waits, suspended.
 * http_stop() waits for every deferred reply.
 */
struct http_pending *http_defer(const struct http_request *req, http_finish_fn finish, void *arg);
/* From any thread, once: the deferred reply can now be built. */
void http_resume(struct http_pending *p);

/* A query-string argument, or NULL. */
const char *http_query(const struct http_request *req, const char *name);
/* A request header (case-insensitive), or NULL. */
const char *http_header(const struct http_request *req, const char *name);
/* The port actually bound (useful with port 0). */
int http_port(const struct http_server *s);

#endif
