/*
 * The thin HTTP layer: the only module that knows libmicrohttpd. It turns
 * a request into a struct http_request (method, path, query, headers, a
 * size-limited body) and sends back whatever struct http_response the
 * handler fills: a buffer, or a file (http_response_file), with extra
 * headers (http_response_header). A small pool of epoll threads serves
 * every connection, so handlers must not block for long: one that waits
 * for something (a durable write) defers its reply with http_defer() and
 * the connection is suspended until http_resume().
 *
 * A long-lived reply (server-sent events) is a struct http_stream: the
 * handler opens it, producers on any thread write to it, and the
 * connection sleeps (suspended, no polling) while nothing is queued. A
 * stream ends when the client leaves, falls too far behind, the producer
 * closes it, or the server stops; http_stop() ends every stream before it
 * stops libmicrohttpd.
 *
 * The request path is percent-decoded once; a decoded NUL byte becomes
 * 0x01 so that "%00" can never silently cut a path short.
 */
#ifndef DAEMON_HTTP_H
#define DAEMON_HTTP_H

#include <stddef.h>
#include <stdint.h>

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

struct http_header {
	char *name;
	char *value;
};

/*
 * What a handler fills. Zeroed (body empty) before the handler runs and
 * released by the http layer after the reply is sent, whatever happened.
 * Defaults: Content-Type application/json (none for 204 and 304),
 * Cache-Control no-store unless a Cache-Control header is added,
 * Content-Security-Policy "default-src 'none'; frame-ancestors 'none'"
 * unless one is added, and X-Content-Type-Options nosniff,
 * Referrer-Policy same-origin and X-Frame-Options DENY always. For HEAD, libmicrohttpd sends the
 * headers (with the body's Content-Length) and no body.
 */
struct http_response {
	int status;
	const char *content_type; /* static storage */
	struct buf body;
	char *allow; /* Allow header for a 405, or NULL */
	char *www_authenticate;
	struct http_header *headers; /* added with http_response_header() */
	size_t nheaders;
	int file_fd; /* the body comes from this fd when has_file */
	int has_file;
	uint64_t file_size;
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
/*
 * Stop accepting, finish in-flight requests, end every stream (its closed
 * callback runs), free. NULL is fine.
 */
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

/* Add a response header (both strings copied). Repeated names are sent repeatedly. */
void http_response_header(struct http_response *res, const char *name, const char *value);
/*
 * The body is size bytes of the open file fd, from offset 0; the http
 * layer owns fd from now on and closes it, even when the reply fails.
 */
void http_response_file(struct http_response *res, int fd, uint64_t size);

struct http_stream;
/*
 * Runs exactly once per stream, on a server thread, when it has ended: the
 * client left (noticed at the next write), fell behind, the producer
 * closed it, or the server stops. No http lock is held; the stream stays
 * valid until the producer's http_stream_release().
 */
typedef void (*http_stream_closed_fn)(void *arg, struct http_stream *s);

/*
 * From a handler: reply with an endless body fed by http_stream_write().
 * res->status (200 when 0), content_type and headers apply; res->body is
 * ignored. The caller owns one reference (http_stream_release). At most
 * max_queued bytes may wait for a slow client. NULL when the server is
 * stopping (res is then untouched: reply as usual).
 */
struct http_stream *http_stream_open(const struct http_request *req, struct http_response *res,
                                     size_t max_queued, http_stream_closed_fn closed, void *arg);
/*
 * From any thread: queue len bytes and wake the connection. ERR_TOOBIG
 * when the client fell more than max_queued behind (the stream is then
 * dropped), ERR_BUSY when the stream has ended.
 */
int http_stream_write(struct http_stream *s, const void *data, size_t len);
/* From any thread: end the stream once what is queued has been sent. */
void http_stream_close(struct http_stream *s);
/* Drop the producer's reference; NULL is fine. */
void http_stream_release(struct http_stream *s);

/* A query-string argument, or NULL. */
const char *http_query(const struct http_request *req, const char *name);
/* A request header (case-insensitive), or NULL. */
const char *http_header(const struct http_request *req, const char *name);
/* The port actually bound (useful with port 0). */
int http_port(const struct http_server *s);

#endif
