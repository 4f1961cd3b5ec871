/*
 * The generated site, served from the site dir: GET and HEAD of plain
 * files, STD's dashboard URLs ("/", "/tiled_dash", "/compact_dash" with
 * group_by and show_urlless) mapped onto the page files, a directory's
 * index.html, validators (ETag from size and mtime, Last-Modified; 304 on
 * If-None-Match, else If-Modified-Since), a precompressed "<file>.gz"
 * sibling for clients that accept gzip, and security headers on HTML.
 *
 * Nothing outside the site dir is ever read: a path with a ".." or
 * dot-file component, a backslash or a control byte (a decoded %00) is a
 * 404 before the filesystem is touched, and files are opened relative to
 * the site dir without following any symlink (openat2 RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS, else a per-component O_NOFOLLOW walk). Only
 * regular files are served.
 */
#ifndef DAEMON_STATIC_H
#define DAEMON_STATIC_H

#include "http.h"

/* Content-Security-Policy of every HTML page the daemon serves. */
#define STATIC_CSP                                                                                 \
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "          \
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "             \
	"frame-ancestors 'none'"

/*
 * Answer req from site_dir: the file (200 or 304), a redirect for a
 * directory without its trailing slash, 404 (small HTML page) when there
 * is nothing safe to serve, 405 for methods other than GET and HEAD.
 */
void static_handle(const char *site_dir, const struct http_request *req, struct http_response *res);

#endif
