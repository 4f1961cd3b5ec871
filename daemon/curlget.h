/*
 * How portolan fetches a URL with libcurl, in one place for every worker
 * (health checks, icons, later widgets): a GET that follows up to 5
 * redirects, verifies TLS, speaks only http and https (redirects too),
 * sends a portolan/<version> User-Agent and gives up after a timeout (to
 * connect and in all). No signals: the workers are threads.
 */
#ifndef DAEMON_CURLGET_H
#define DAEMON_CURLGET_H

#include <curl/curl.h>

#define CURLGET_USER_AGENT "portolan/0.1.0"

/*
 * Set up easy handle x for a GET of url: body to write(…, arg), curl's
 * message into errbuf (CURL_ERROR_SIZE), priv as CURLOPT_PRIVATE. -1 when
 * libcurl refuses an option.
 */
int curlget_setup(CURL *x, const char *url, long timeout_s, curl_write_callback write, void *arg,
                  char *errbuf, void *priv);

#endif
