#include "http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../common/log.h"
#include "../common/xalloc.h"
#include "../common/banned.h"

struct http_server {
	struct MHD_Daemon *mhd;
	http_handler handler;
	void *arg;
	int port;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	unsigned pending; /* deferred replies not yet built */
};

/* Per-request state, from the first callback to the completion callback. */
struct request_ctx {
	struct http_request req;
	char ip[INET6_ADDRSTRLEN];
	struct http_server *server;
	http_finish_fn finish; /* set by http_defer */
	void *finish_arg;
	int resumed;
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

static enum MHD_Result send_response(struct MHD_Connection *conn, struct http_response *res)
{
	size_t len;
	char *body = buf_detach(&res->body, &len);
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type",
	                        res->content_type ? res->content_type : "application/json");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (res->allow)
		MHD_add_response_header(r, "Allow", res->allow);
	if (res->www_authenticate)
		MHD_add_response_header(r, "WWW-Authenticate", res->www_authenticate);
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
	struct http_response res = {0};
	res.status = 500;
	buf_init(&res.body, 0);
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
			buf_release(&res.body);
			return MHD_YES;
		}
	}
	enum MHD_Result rc = send_response(conn, &res);
	buf_release(&res.body);
	free(res.allow);
	free(res.www_authenticate);
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
		struct http_response res = {0};
		buf_init(&res.body, 0);
		run_finish(cls, ctx, &res);
		buf_release(&res.body);
		free(res.allow);
		free(res.www_authenticate);
	}
	buf_release(&ctx->req.body);
	free(ctx);
	*con_cls = NULL;
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
	    cfg->threads, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
	if (!s->mhd) {
		free(s);
		return err_set(e, ERR_IO, "cannot listen on '%s' port %d", cfg->host, cfg->port);
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di ? di->port : cfg->port;
	*out = s;
	return 0;
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
