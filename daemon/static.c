#include "static.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#ifdef SYS_openat2
#include <linux/openat2.h>
#endif

#include "../common/log.h"
#include "../common/xalloc.h"
#include "../render/pages.h"
#include "../common/banned.h"

/* Longer request paths are a 404 without a look at the disk. */
#define STATIC_MAX_PATH 1024

struct content_type {
	const char *ext;
	const char *type;
};

static const struct content_type content_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"ico", "image/x-icon"},
    {"json", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
    {"webmanifest", "application/manifest+json"},
    {"gz", "application/gzip"},
};

static const char *content_type_of(const char *name)
{
	const char *dot = strrchr(name, '.');
	const char *slash = strrchr(name, '/');
	if (dot && (!slash || dot > slash))
		for (size_t i = 0; i < sizeof(content_types) / sizeof(content_types[0]); i++)
			if (!strcasecmp(dot + 1, content_types[i].ext))
				return content_types[i].type;
	return "application/octet-stream";
}

static int is_html(const char *type)
{
	return !strncmp(type, "text/html", 9);
}

static void reply_html(struct http_response *res, int status, const char *html)
{
	res->status = status;
	res->content_type = "text/html; charset=utf-8";
	buf_adds(&res->body, html);
	http_response_header(res, "Content-Security-Policy", STATIC_CSP);
}

/*
 * An error page for browsers (Accept names text/html), JSON like the
 * API's for everyone else (curl, scripts, fetch()).
 */
static void reply_error(const struct http_request *req, struct http_response *res, int status,
                        const char *title)
{
	const char *accept = http_header(req, "Accept");
	if (accept && strcasestr(accept, "text/html")) {
		char html[256];
		snprintf(
		    html, sizeof(html),
		    "<!doctype html>\n<meta charset=\"utf-8\">\n<title>%s</title>\n<h1>%s</h1>\n",
		    title, title);
		reply_html(res, status, html);
	} else {
		res->status = status;
		res->content_type = "application/json";
		buf_addf(&res->body, "{\"error\":\"%s\"}\n", title);
	}
}

/*
 * The request path as a relative path under the site dir ("" for the
 * root), empty components dropped; NULL when any component is unsafe:
 * "." or ".." or any dot-file, a backslash, a control byte. *dir_slash
 * says whether the path ended with "/".
 */
static char *safe_relative(const char *path, int *dir_slash)
{
	size_t len = strlen(path);
	if (path[0] != '/' || len > STATIC_MAX_PATH)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			return NULL;
	char *rel = xmalloc(len + 1);
	size_t n = 0;
	for (const char *p = path; *p;) {
		while (*p == '/')
			p++;
		size_t k = strcspn(p, "/");
		if (!k)
			break;
		if (p[0] == '.') {
			free(rel);
			return NULL;
		}
		if (n)
			rel[n++] = '/';
		memcpy(rel + n, p, k);
		n += k;
		p += k;
	}
	rel[n] = '\0';
	*dir_slash = path[len - 1] == '/';
	return rel;
}

/*
 * Open rel (no "..", no dot components) below dirfd one component at a
 * time, never following a symlink: for kernels without openat2.
 */
static int open_walk(int dirfd, const char *rel, int flags)
{
	char *copy = xstrdup(rel);
	int cur = dirfd, fd = -1;
	for (char *p = copy;;) {
		char *slash = strchr(p, '/');
		if (slash)
			*slash = '\0';
		int f = slash ? O_RDONLY | O_DIRECTORY : flags;
		fd = openat(cur, p, f | O_NOFOLLOW | O_CLOEXEC);
		if (cur != dirfd)
			close(cur);
		if (fd < 0 || !slash)
			break;
		cur = fd;
		p = slash + 1;
	}
	free(copy);
	return fd;
}

/*
 * Open rel below dirfd with flags; no symlink is followed anywhere on the
 * way and nothing outside dirfd can be reached. -1 with errno on failure.
 */
static int open_beneath(int dirfd, const char *rel, int flags)
{
#if defined(SYS_openat2) && !defined(STATIC_NO_OPENAT2)
	static atomic_int no_openat2;
	if (!atomic_load(&no_openat2)) {
		struct open_how how;
		memset(&how, 0, sizeof(how));
		how.flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC);
		how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
		long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		/* Older kernels, or a seccomp filter that does not know it. */
		if (errno != ENOSYS && errno != EPERM)
			return -1;
		atomic_store(&no_openat2, 1);
		log_debug("static: openat2 unavailable, walking paths with O_NOFOLLOW");
	}
#endif
	return open_walk(dirfd, rel, flags);
}

/* Open a regular file below dirfd: fd and *st, or -1 (missing, special, symlink...). */
static int open_regular(int dirfd, const char *rel, struct stat *st)
{
	/* O_NONBLOCK: opening a FIFO must not hang the thread. */
	int fd = open_beneath(dirfd, rel, O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, st) || !S_ISREG(st->st_mode)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* In the parameters [p, end) of one Accept-Encoding element: a q=0 (0, 0.0, 0.000)? */
static int q_is_zero(const char *p, const char *end)
{
	for (; p < end; p++) {
		if (*p != ';')
			continue;
		const char *q = p + 1 + strspn(p + 1, " \t");
		if ((*q == 'q' || *q == 'Q') && q[1] == '=') {
			q += 2;
			if (*q++ != '0')
				return 0;
			if (*q == '.')
				for (q++; q < end && *q == '0'; q++)
					;
			return q >= end || *q == ' ' || *q == '\t' || *q == ';';
		}
	}
	return 0;
}

/* Whether an Accept-Encoding header lists gzip (or x-gzip) with a q-value other than 0. */
static int accepts_gzip(const char *h)
{
	for (const char *p = h; p && *p;) {
		p += strspn(p, " \t,");
		size_t elem = strcspn(p, ",");
		size_t k = strcspn(p, " \t;,");
		if ((k == 4 && !strncasecmp(p, "gzip", 4)) ||
		    (k == 6 && !strncasecmp(p, "x-gzip", 6)))
			return !q_is_zero(p + k, p + elem);
		p += elem;
	}
	return 0;
}

/* Does If-None-Match list etag (weak comparison, or "*")? */
static int etag_matches(const char *inm, const char *etag)
{
	size_t elen = strlen(etag);
	for (const char *p = inm; *p;) {
		p += strspn(p, " \t,");
		if (*p == '*')
			return 1;
		if (!strncmp(p, "W/", 2))
			p += 2;
		if (*p != '"')
			return 0;
		const char *close = strchr(p + 1, '"');
		if (!close)
			return 0;
		if ((size_t)(close + 1 - p) == elen && !memcmp(p, etag, elen))
			return 1;
		p = close + 1;
	}
	return 0;
}

static const char day_names[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char month_names[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* IMF-fixdate, whatever the locale. */
static void format_http_date(time_t t, char *out, size_t size)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(out, size, "%s, %02d %s %04d %02d:%02d:%02d GMT", day_names[tm.tm_wday],
	         tm.tm_mday, month_names[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	         tm.tm_sec);
}

/* Parse an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"); -1 when it is not one. */
static int parse_http_date(const char *s, time_t *out)
{
	char wday[4], mon[4], zone[4];
	int day, year, h, m, sec;
	if (sscanf(s, "%3s, %2d %3s %4d %2d:%2d:%2d %3s", wday, &day, mon, &year, &h, &m, &sec,
	           zone) != 8 ||
	    strcmp(zone, "GMT"))
		return -1;
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	tm.tm_mon = -1;
	for (int i = 0; i < 12; i++)
		if (!strcmp(mon, month_names[i]))
			tm.tm_mon = i;
	if (tm.tm_mon < 0 || day < 1 || day > 31 || year < 1970 || h > 23 || m > 59 || sec > 60)
		return -1;
	tm.tm_mday = day;
	tm.tm_year = year - 1900;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	*out = timegm(&tm);
	return 0;
}

/* The file chosen to answer with, and how to describe it. */
struct representation {
	int fd;
	struct stat st;
	const char *type;
	int gzip;     /* the .gz sibling */
	int has_gzip; /* a usable sibling exists: the answer varies by Accept-Encoding */
	char etag[64];
};

static int newer_or_same(const struct stat *a, const struct stat *b)
{
	return a->st_mtim.tv_sec > b->st_mtim.tv_sec ||
	       (a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec >= b->st_mtim.tv_nsec);
}

/*
 * Describe file rel (open as fd, stat st; r owns fd from now on), or
 * swap in its .gz sibling when the client takes gzip and the sibling is
 * a regular file not older than rel.
 */
static void choose(int dirfd, const char *rel, int fd, const struct stat *st,
                   const struct http_request *req, struct representation *r)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->st = *st;
	r->type = content_type_of(rel);
	char *gz = xasprintf("%s.gz", rel);
	struct stat gst;
	int gfd = open_regular(dirfd, gz, &gst);
	free(gz);
	if (gfd >= 0 && newer_or_same(&gst, st)) {
		r->has_gzip = 1;
		if (accepts_gzip(http_header(req, "Accept-Encoding"))) {
			close(r->fd);
			r->fd = gfd;
			r->st = gst;
			r->gzip = 1;
			gfd = -1;
		}
	}
	if (gfd >= 0)
		close(gfd);
	unsigned long long ns = (unsigned long long)r->st.st_mtim.tv_sec * 1000000000ull +
	                        (unsigned long long)r->st.st_mtim.tv_nsec;
	snprintf(r->etag, sizeof(r->etag), "\"%llx-%llx%s\"", (unsigned long long)r->st.st_size, ns,
	         r->gzip ? "-gz" : "");
}

/* 304 when the client's copy is current: If-None-Match decides, else If-Modified-Since. */
static int not_modified(const struct http_request *req, const struct representation *r)
{
	const char *inm = http_header(req, "If-None-Match");
	if (inm)
		return etag_matches(inm, r->etag);
	const char *ims = http_header(req, "If-Modified-Since");
	time_t since;
	return ims && !parse_http_date(ims, &since) && r->st.st_mtim.tv_sec <= since;
}

static void send_file(const struct http_request *req, struct http_response *res,
                      struct representation *r)
{
	char date[40];
	format_http_date(r->st.st_mtim.tv_sec, date, sizeof(date));
	http_response_header(res, "ETag", r->etag);
	http_response_header(res, "Last-Modified", date);
	/*
	 * Pages change with every render: revalidate. Icons change only when an
	 * operator replaces one: a week (the ETag still answers a reload), in the
	 * browser only: behind a login a shared cache must not hand them out.
	 */
	http_response_header(res, "Cache-Control",
	                     is_html(r->type)                     ? "no-cache"
	                     : !strncmp(req->path, "/images/", 8) ? "private, max-age=604800"
	                                                          : "public, max-age=3600");
	if (r->has_gzip)
		http_response_header(res, "Vary", "Accept-Encoding");
	if (not_modified(req, r)) {
		res->status = 304;
		close(r->fd);
		return;
	}
	res->status = 200;
	res->content_type = r->type;
	if (r->gzip)
		http_response_header(res, "Content-Encoding", "gzip");
	/*
	 * On every file, not only pages: an SVG icon opened by itself is a document
	 * too, and its scripts would run in the API's origin.
	 */
	http_response_header(res, "Content-Security-Policy", STATIC_CSP);
	http_response_file(res, r->fd, (uint64_t)r->st.st_size);
}

/* "/a/b" is a directory: send the client to "/a/b/" so relative links resolve in it. */
static void redirect_to_dir(const char *rel, struct http_response *res)
{
	struct buf loc;
	buf_init(&loc, 0);
	buf_addc(&loc, '/');
	for (const unsigned char *p = (const unsigned char *)rel; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~/!$&'()*+,;=:@", *p))
			buf_addc(&loc, (char)*p);
		else
			buf_addf(&loc, "%%%02X", *p);
	}
	buf_addc(&loc, '/');
	reply_html(res, 301, "<!doctype html>\n<title>Moved</title>\n");
	http_response_header(res, "Location", loc.data);
	buf_release(&loc);
}

/* The file that answers path rel ("" = root): itself, or its directory's index.html. */
static void serve_path(int dirfd, const char *rel, int dir_slash, const struct http_request *req,
                       struct http_response *res)
{
	char *index = NULL;
	struct stat st;
	int fd = open_beneath(dirfd, *rel ? rel : ".", O_RDONLY | O_NONBLOCK);
	if (fd >= 0 && fstat(fd, &st)) {
		close(fd);
		fd = -1;
	}
	if (fd >= 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		fd = -1;
		if (*rel && !dir_slash) {
			redirect_to_dir(rel, res);
			return;
		}
		index = *rel ? xasprintf("%s/index.html", rel) : xstrdup("index.html");
		fd = open_regular(dirfd, index, &st);
	} else if (fd >= 0 && (!S_ISREG(st.st_mode) || dir_slash)) {
		close(fd); /* a device, a FIFO, or "/page.html/" */
		fd = -1;
	}
	if (fd < 0) {
		reply_error(req, res, 404, "Not found");
	} else {
		struct representation r;
		choose(dirfd, index ? index : rel, fd, &st, req, &r);
		send_file(req, res, &r);
	}
	free(index);
}

void static_handle(const char *site_dir, const struct http_request *req, struct http_response *res)
{
	if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
		reply_error(req, res, 405, "Method not allowed");
		res->allow = xstrdup("GET, HEAD");
		return;
	}
	struct render_page page;
	char *rel = NULL;
	int dir_slash = 0;
	if (!render_page_from_std(req->path, http_query(req, "group_by"),
	                          http_query(req, "show_urlless"), &page))
		rel = xstrdup(render_page_file(page));
	else if (!(rel = safe_relative(req->path, &dir_slash))) {
		reply_error(req, res, 404, "Not found");
		return;
	}
	int dirfd = open(site_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		log_debug("cannot open site dir '%s': %s", site_dir, strerror(errno));
		reply_error(req, res, 404, "Not found");
	} else {
		serve_path(dirfd, rel, dir_slash, req, res);
		close(dirfd);
	}
	free(rel);
}
