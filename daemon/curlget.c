#include "curlget.h"

#include "../common/banned.h"

#define MAX_REDIRS 5L
#define PROTOCOLS  "http,https"

int curlget_setup(CURL *x, const char *url, long timeout_s, curl_write_callback write, void *arg,
                  char *errbuf, void *priv)
{
	int bad = curl_easy_setopt(x, CURLOPT_URL, url) ||
	          curl_easy_setopt(x, CURLOPT_HTTPGET, 1L) ||
	          curl_easy_setopt(x, CURLOPT_FOLLOWLOCATION, 1L) ||
	          curl_easy_setopt(x, CURLOPT_MAXREDIRS, MAX_REDIRS) ||
	          curl_easy_setopt(x, CURLOPT_SSL_VERIFYPEER, 1L) ||
	          curl_easy_setopt(x, CURLOPT_SSL_VERIFYHOST, 2L) ||
	          curl_easy_setopt(x, CURLOPT_USERAGENT, CURLGET_USER_AGENT) ||
	          curl_easy_setopt(x, CURLOPT_WRITEFUNCTION, write) ||
	          curl_easy_setopt(x, CURLOPT_WRITEDATA, arg) ||
	          curl_easy_setopt(x, CURLOPT_CONNECTTIMEOUT, timeout_s) ||
	          curl_easy_setopt(x, CURLOPT_TIMEOUT, timeout_s) ||
	          curl_easy_setopt(x, CURLOPT_PROTOCOLS_STR, PROTOCOLS) ||
	          curl_easy_setopt(x, CURLOPT_REDIR_PROTOCOLS_STR, PROTOCOLS) ||
	          curl_easy_setopt(x, CURLOPT_NOSIGNAL, 1L) ||
	          curl_easy_setopt(x, CURLOPT_ERRORBUFFER, errbuf) ||
	          curl_easy_setopt(x, CURLOPT_PRIVATE, priv);
	return bad ? -1 : 0;
}
