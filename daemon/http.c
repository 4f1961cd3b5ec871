#include "http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/xalloc.h"
#include "../common/banned.h"

/* How long http_stop() lets ended streams close gracefully before MHD closes them. */
#define STOP_GRACE_MS 1000
/* How long it may take a resumed stream to run again (it is immediate in practice). */
#define STOP_ASLEEP_MS 5000
/* Bytes handed to libmicrohttpd per read of a stream. */
#define STREAM_BLOCK 16384

struct http_server {
	struct MHD_Daemon *mhd;
	http_handler handler;
	void *arg;
	int port;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	unsigned pending;            /* deferred replies not yet built */
	struct http_stream *streams; /* live streams (an MHD response holds them) */
	int stopping;                /* no new streams */
};

/*
 * Two references: the producer's (http_stream_release) and the MHD
 * response's (dropped in stream_ended, when libmicrohttpd frees it).
 * The queue is data[off..len) of q. The reader suspends the connection
 * when q is empty; whoever queues data or ends the stream resumes it.
 */
struct http_stream {
	pthread_mutex_t lock;
	struct http_server *server;
	struct MHD_Connection *conn;
	struct buf q;
	size_t off;
	size_t max_queued;
	int suspended; /* suspended by the reader, not resumed yet */
	int waking;    /* resumed, the reader has not run since */
	int closed;    /* no more writes; end once q is sent */
	int failed;    /* end now, without sending q */
	int ended;     /* the MHD response is gone */
	int refs;
	http_stream_closed_fn closed_fn;
	void *closed_arg;
	struct http_stream *prev, *next; /* in server->streams */
};

/* Per-request state, from the first callback to the completion callback. */
struct request_ctx {
	struct http_request req;
	char ip[INET6_ADDRSTRLEN];
	struct http_server *server;
	http_finish_fn finish; /* set by http_defer */
	void *finish_arg;
	int resumed;
	struct http_stream *stream; /* set by http_stream_open */
};

static void client_ip(struct MHD_Connection *conn, char *out, size_t size)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(out, size, "?");
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
		          (socklen_t)size);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		          out, (socklen_t)size);
}

static void response_init(struct http_response *res)
{
	memset(res, 0, sizeof(*res));
	res->status = 500;
	res->file_fd = -1;
	buf_init(&res->body, 0);
}

static void response_release(struct http_response *res)
{
	buf_release(&res->body);
	free(res->allow);
	free(res->www_authenticate);
	for (size_t i = 0; i < res->nheaders; i++) {
		free(res->headers[i].name);
		free(res->headers[i].value);
	}
	free(res->headers);
	if (res->has_file && res->file_fd >= 0)
		close(res->file_fd);
	res->allow = res->www_authenticate = NULL;
	res->headers = NULL;
	res->nheaders = 0;
	res->has_file = 0;
	res->file_fd = -1;
}

void http_response_header(struct http_response *res, const char *name, const char *value)
{
	res->headers = xrealloc(res->headers, (res->nheaders + 1) * sizeof(*res->headers));
	res->headers[res->nheaders].name = xstrdup(name);
	res->headers[res->nheaders].value = xstrdup(value);
	res->nheaders++;
}

void http_response_file(struct http_response *res, int fd, uint64_t size)
{
	if (res->has_file && res->file_fd >= 0)
		close(res->file_fd);
	res->has_file = 1;
	res->file_fd = fd;
	res->file_size = size;
}

static int has_header(const struct http_response *res, const char *name)
{
	for (size_t i = 0; i < res->nheaders; i++)
		if (!strcasecmp(res->headers[i].name, name))
			return 1;
	return 0;
}

/* Headers every reply gets, then the handler's. */
static void add_headers(struct MHD_Response *r, const struct http_response *res)
{
	int bodiless = res->status == 204 || res->status == 304;
	if (res->content_type || !bodiless)
		MHD_add_response_header(r, "Content-Type",
		                        res->content_type ? res->content_type : "application/json");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	/* Security headers on every reply; pages set a CSP that lets their own files load. */
	MHD_add_response_header(r, "Referrer-Policy", "same-origin");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	/* Not on a 304: its headers update the cached reply's, and would replace the page's CSP. */
	if (!has_header(res, "Content-Security-Policy") && res->status != 304)
		MHD_add_response_header(r, "Content-Security-Policy",
		                        "default-src 'none'; frame-ancestors 'none'");
	if (!has_header(res, "Cache-Control"))
		MHD_add_response_header(r, "Cache-Control", "no-store");
	if (res->allow)
		MHD_add_response_header(r, "Allow", res->allow);
	if (res->www_authenticate)
		MHD_add_response_header(r, "WWW-Authenticate", res->www_authenticate);
	for (size_t i = 0; i < res->nheaders; i++)
		MHD_add_response_header(r, res->headers[i].name, res->headers[i].value);
}

static enum MHD_Result send_response(struct MHD_Connection *conn, struct http_response *res)
{
	struct MHD_Response *r;
	if (res->has_file) {
		r = MHD_create_response_from_fd64(res->file_size, res->file_fd);
		if (r)
			res->has_file = 0; /* MHD closes it now */
	} else {
		size_t len;
		char *body = buf_detach(&res->body, &len);
		r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
		if (!r)
			free(body);
	}
	if (!r)
		return MHD_NO;
	add_headers(r, res);
	enum MHD_Result rc = MHD_queue_response(conn, (unsigned)res->status, r);
	MHD_destroy_response(r);
	return rc;
}

/* Build a deferred reply (exactly once) and let http_stop() know. */
static void run_finish(struct http_server *s, struct request_ctx *ctx, struct http_response *res)
{
	ctx->finish(ctx->finish_arg, res);
	ctx->finish = NULL;
	pthread_mutex_lock(&s->lock);
	if (--s->pending == 0)
		pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
}

/* --- streams ------------------------------------------------------------ */

static void stream_unref(struct http_stream *st)
{
	pthread_mutex_lock(&st->lock);
	int last = --st->refs == 0;
	pthread_mutex_unlock(&st->lock);
	if (!last)
		return;
	buf_release(&st->q);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

/*
 * Mark st ended for writers (and for http_stop), tell the producer, drop
 * the response's reference. Runs once, when MHD frees the response (or
 * could not create it), with no lock held.
 */
static void stream_ended(void *cls)
{
	struct http_stream *st = cls;
	struct http_server *s = st->server;
	pthread_mutex_lock(&st->lock);
	st->closed = st->ended = 1;
	st->suspended = st->waking = 0;
	pthread_mutex_unlock(&st->lock);
	pthread_mutex_lock(&s->lock);
	if (st->prev)
		st->prev->next = st->next;
	else
		s->streams = st->next;
	if (st->next)
		st->next->prev = st->prev;
	pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
	if (st->closed_fn)
		st->closed_fn(st->closed_arg, st);
	stream_unref(st);
}

/*
 * MHD asks for more of the body. Nothing queued: suspend the connection
 * (a writer resumes it) rather than return 0, which would spin.
 */
static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	(void)pos;
	struct http_stream *st = cls;
	ssize_t n;
	pthread_mutex_lock(&st->lock);
	st->waking = 0;
	size_t avail = st->q.len - st->off;
	if (st->failed) {
		n = MHD_CONTENT_READER_END_WITH_ERROR;
	} else if (avail) {
		size_t k = avail < max ? avail : max;
		memcpy(out, st->q.data + st->off, k);
		st->off += k;
		if (st->off == st->q.len) {
			buf_reset(&st->q);
			st->off = 0;
		}
		n = (ssize_t)k;
	} else if (st->closed) {
		n = MHD_CONTENT_READER_END_OF_STREAM;
	} else {
		/* Under the lock, so no writer resumes a connection not yet suspended. */
		st->suspended = 1;
		MHD_suspend_connection(st->conn);
		n = 0;
	}
	pthread_mutex_unlock(&st->lock);
	return n;
}

/* With st->lock held: the caller must resume the connection when this returns 1. */
static int stream_wake_locked(struct http_stream *st)
{
	if (!st->suspended)
		return 0;
	st->suspended = 0;
	st->waking = 1;
	return 1;
}

struct http_stream *http_stream_open(const struct http_request *req, struct http_response *res,
                                     size_t max_queued, http_stream_closed_fn closed, void *arg)
{
	struct request_ctx *ctx =
	    (struct request_ctx *)(void *)((char *)req - offsetof(struct request_ctx, req));
	struct http_server *s = ctx->server;
	struct http_stream *st = xcalloc(1, sizeof(*st));
	pthread_mutex_init(&st->lock, NULL);
	st->server = s;
	st->conn = req->conn;
	buf_init(&st->q, 0); /* bounded by max_queued in http_stream_write */
	st->max_queued = max_queued;
	st->refs = 2;
	st->closed_fn = closed;
	st->closed_arg = arg;
	pthread_mutex_lock(&s->lock);
	if (s->stopping) {
		pthread_mutex_unlock(&s->lock);
		pthread_mutex_destroy(&st->lock);
		free(st);
		return NULL;
	}
	st->next = s->streams;
	if (s->streams)
		s->streams->prev = st;
	s->streams = st;
	pthread_mutex_unlock(&s->lock);
	if (!res->status)
		res->status = 200;
	ctx->stream = st;
	return st;
}

int http_stream_write(struct http_stream *st, const void *data, size_t len)
{
	int rc = 0;
	pthread_mutex_lock(&st->lock);
	if (st->closed) {
		rc = ERR_BUSY;
	} else if (st->q.len - st->off + len > st->max_queued) {
		/* A slow client is dropped, not buffered for without end. */
		st->closed = st->failed = 1;
		rc = ERR_TOOBIG;
	} else {
		if (st->off && st->off >= st->q.len / 2) {
			memmove(st->q.data, st->q.data + st->off, st->q.len - st->off);
			st->q.len -= st->off;
			st->q.data[st->q.len] = '\0';
			st->off = 0;
		}
		buf_add(&st->q, data, len);
	}
	int wake = (rc == 0 || rc == ERR_TOOBIG) && stream_wake_locked(st);
	pthread_mutex_unlock(&st->lock);
	/* Suspended and not woken by anyone else: the connection cannot go away meanwhile. */
	if (wake)
		MHD_resume_connection(st->conn);
	return rc;
}

void http_stream_close(struct http_stream *st)
{
	pthread_mutex_lock(&st->lock);
	int wake = 0;
	if (!st->ended) {
		st->closed = 1; /* the reader ends the body once q is sent */
		wake = stream_wake_locked(st);
	}
	pthread_mutex_unlock(&st->lock);
	if (wake)
		MHD_resume_connection(st->conn);
}

void http_stream_release(struct http_stream *st)
{
	if (st)
		stream_unref(st);
}

/* Reply to the request with its stream; the stream ends if that fails. */
static enum MHD_Result send_stream(struct MHD_Connection *conn, struct request_ctx *ctx,
                                   struct http_response *res)
{
	struct http_stream *st = ctx->stream;
	ctx->stream = NULL;
	struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK,
	                                                           stream_read, st, stream_ended);
	if (!r) {
		stream_ended(st);
		return MHD_NO;
	}
	add_headers(r, res);
	enum MHD_Result rc = MHD_queue_response(conn, (unsigned)res->status, r);
	MHD_destroy_response(r); /* the connection holds it; stream_ended runs when it is done */
	return rc;
}

/* --- requests ----------------------------------------------------------- */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
	(void)version;
	struct http_server *s = cls;
	struct request_ctx *ctx = *con_cls;
	if (!ctx) {
		ctx = xcalloc(1, sizeof(*ctx));
		buf_init(&ctx->req.body, HTTP_MAX_BODY);
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		                                             MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > HTTP_MAX_BODY)
			ctx->req.body_too_large = 1;
		*con_cls = ctx;
		return MHD_YES;
	}
	if (*upload_size) {
		/* Past the limit the rest is read and dropped; the reply is a 413. */
		if (!ctx->req.body_too_large && buf_add(&ctx->req.body, upload, *upload_size))
			ctx->req.body_too_large = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	struct http_response res;
	response_init(&res);
	if (ctx->finish && ctx->resumed) {
		run_finish(s, ctx, &res);
	} else {
		client_ip(conn, ctx->ip, sizeof(ctx->ip));
		ctx->req.method = method;
		ctx->req.path = url;
		ctx->req.remote_ip = ctx->ip;
		ctx->req.conn = conn;
		ctx->server = s;
		s->handler(&ctx->req, &res, s->arg);
		if (ctx->finish) {
			/* Deferred: http_resume() brings us back here to build the reply. */
			response_release(&res);
			return MHD_YES;
		}
	}
	enum MHD_Result rc = ctx->stream ? send_stream(conn, ctx, &res) : send_response(conn, &res);
	response_release(&res);
	return rc;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	(void)conn;
	(void)toe;
	struct request_ctx *ctx = *con_cls;
	if (!ctx)
		return;
	if (ctx->finish) {
		/*
		 * The client left while its reply was deferred. MHD only gets here
		 * after http_resume(), so the work is done: finish it for nothing.
		 */
		struct http_response res;
		response_init(&res);
		run_finish(cls, ctx, &res);
		response_release(&res);
	}
	buf_release(&ctx->req.body);
	free(ctx);
	*con_cls = NULL;
}

/*
 * Percent-decode once, like libmicrohttpd's own, but a decoded NUL byte
 * becomes 0x01: "/index.html%00.png" must not read as "/index.html".
 */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	(void)cls;
	(void)conn;
	size_t n = MHD_http_unescape(s);
	for (size_t i = 0; i < n; i++)
		if (!s[i])
			s[i] = '\x01';
	return n;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char line[512];
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("http: %s", line);
}

int http_start(struct http_server **out, const struct http_config *cfg, http_handler handler,
               void *arg, struct err *e)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	                 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, cfg->host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)cfg->port);
	} else if (inet_pton(AF_INET6, cfg->host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)cfg->port);
		flags |= MHD_USE_IPv6;
	} else {
		return err_set(e, ERR_INVAL, "cannot listen on '%s': not an IP address", cfg->host);
	}
	struct http_server *s = xcalloc(1, sizeof(*s));
	s->handler = handler;
	s->arg = arg;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->idle, NULL);
	s->mhd = MHD_start_daemon(
	    flags, (uint16_t)cfg->port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
	    (struct sockaddr *)&ss, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
	    MHD_OPTION_CONNECTION_LIMIT, cfg->connection_limit, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    cfg->per_ip_limit, MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout_s,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_THREAD_POOL_SIZE,
	    cfg->threads, MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_EXTERNAL_LOGGER,
	    mhd_log, NULL, MHD_OPTION_END);
	if (!s->mhd) {
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->idle);
		free(s);
		return err_set(e, ERR_IO, "cannot listen on '%s' port %d", cfg->host, cfg->port);
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di ? di->port : cfg->port;
	*out = s;
	return 0;
}

/* With s->lock held: a stream is suspended, or resumed but not yet running again. */
static int streams_asleep(struct http_server *s)
{
	for (struct http_stream *st = s->streams; st; st = st->next) {
		pthread_mutex_lock(&st->lock);
		int asleep = st->suspended || st->waking;
		pthread_mutex_unlock(&st->lock);
		if (asleep)
			return 1;
	}
	return 0;
}

/*
 * End every stream: what is queued is sent, then the chunked body ends
 * cleanly, for up to STOP_GRACE_MS. MHD must not stop with a suspended
 * connection, so then wait until each stream left has run again after
 * its resume (quick: the reader is called straight away); one whose
 * client does not read is closed by MHD_stop_daemon itself.
 */
static void stop_streams(struct http_server *s)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += STOP_GRACE_MS / 1000;
	until.tv_nsec += (STOP_GRACE_MS % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->lock);
	s->stopping = 1;
	for (struct http_stream *st = s->streams; st; st = st->next)
		http_stream_close(st);
	while (s->streams && pthread_cond_timedwait(&s->idle, &s->lock, &until) == 0)
		;
	/* Polls, but only while stopping, and only for the few ms a resume takes. */
	for (int ms = 0; streams_asleep(s); ms++) {
		if (ms == STOP_ASLEEP_MS) {
			log_error("http: a stream did not wake up; stopping anyway");
			break;
		}
		pthread_mutex_unlock(&s->lock);
		struct timespec one = {0, 1000000L};
		nanosleep(&one, NULL);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
}

void http_stop(struct http_server *s)
{
	if (!s)
		return;
	MHD_quiesce_daemon(s->mhd);
	/* Suspended connections must be resumed (their writes finish) before the stop. */
	pthread_mutex_lock(&s->lock);
	while (s->pending)
		pthread_cond_wait(&s->idle, &s->lock);
	pthread_mutex_unlock(&s->lock);
	stop_streams(s);
	MHD_stop_daemon(s->mhd);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->idle);
	free(s);
}

struct http_pending *http_defer(const struct http_request *req, http_finish_fn finish, void *arg)
{
	struct request_ctx *ctx =
	    (struct request_ctx *)(void *)((char *)req - offsetof(struct request_ctx, req));
	struct http_server *s = ctx->server;
	ctx->finish = finish;
	ctx->finish_arg = arg;
	pthread_mutex_lock(&s->lock);
	s->pending++;
	pthread_mutex_unlock(&s->lock);
	MHD_suspend_connection(req->conn);
	return (struct http_pending *)ctx;
}

void http_resume(struct http_pending *p)
{
	struct request_ctx *ctx = (struct request_ctx *)p;
	ctx->resumed = 1;
	MHD_resume_connection(ctx->req.conn);
}

const char *http_query(const struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_header(const struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

int http_port(const struct http_server *s)
{
	return s->port;
}
