#!/bin/bash
test_description='site: nginx serves a rendered site with examples/nginx.conf

A real nginx (no root needed) runs the documented server block from
examples/nginx.conf, only root and listen replaced, over the site rendered
from the 200 example payloads: every internal link resolves, gzip_static
sends the .gz siblings byte for byte, and the headers (CSP, caching) are
the documented ones.'
. "$(dirname "$0")/lib.sh"

NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
BROWSER_DIR=$REPO/tests/browser
SITE=$TRASH/site
NGX=$TRASH/nginx
CSP="default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

if ! test -x "$NGINX"; then
	skip_all='nginx is not installed (tests/deps.sh installs it)'
	test_done
fi
command -v node >/dev/null 2>&1 && test_set_prereq NODE
if test_have_prereq NODE && test -x "${CHROMIUM:-/usr/bin/chromium}" &&
	test -d "$BROWSER_DIR/node_modules/playwright-core"; then
	test_set_prereq BROWSER
fi

NGINX_PID=
# start_nginx: run nginx in the foreground of a background job on
# $NGX/nginx.conf; wait until it answers. Sets NGINX_PID and NGINX_URL.
start_nginx () {
	"$NGINX" -p "$NGX/" -c "$NGX/nginx.conf" -g "daemon off;" </dev/null >>"$NGX/stderr" 2>&1 &
	NGINX_PID=$!
	if ! wait_for "curl -s -o /dev/null \"$NGINX_URL/\"" 10; then
		cat "$NGX/stderr" "$NGX/error.log" >&2
		stop_nginx
		return 1
	fi
}

# stop_nginx: TERM (a fast shutdown), then reap; KILL if it lingers.
stop_nginx () {
	test -n "$NGINX_PID" || return 0
	kill -TERM "$NGINX_PID" 2>/dev/null
	wait_for "! _test_pid_alive $NGINX_PID" 10 || kill -KILL "$NGINX_PID" 2>/dev/null
	wait "$NGINX_PID" 2>/dev/null
	NGINX_PID=
	return 0
}

test_expect_success 'render the 200 example services' '
	"$PORTOLAN" import "$EXAMPLES/payloads" >/dev/null &&
	"$PORTOLAN" render --out "$SITE" >out &&
	grep "rendered 200 services" out &&
	test_path_is_file "$SITE/index.html.gz"
'

test_expect_success 'the config is examples/nginx.conf with root and listen replaced' '
	NGINX_PORT=$(free_port) &&
	NGINX_URL=http://127.0.0.1:$NGINX_PORT &&
	mkdir -p "$NGX/tmp" &&
	sed -e "s|^\([[:space:]]*\)root /srv/portolan/site;|\1root $SITE;|" \
		-e "s|^\([[:space:]]*\)listen 80;|\1listen 127.0.0.1:$NGINX_PORT;|" \
		-e "/^[[:space:]]*listen \[::\]:80;/d" \
		"$EXAMPLES/nginx.conf" >"$NGX/portolan.conf" &&
	grep -q "root $SITE;" "$NGX/portolan.conf" &&
	grep -q "listen 127.0.0.1:$NGINX_PORT;" "$NGX/portolan.conf" &&
	! grep -q "listen .*:80;" "$NGX/portolan.conf" &&
	test "$(diff "$EXAMPLES/nginx.conf" "$NGX/portolan.conf" | grep -c "^[<>]")" -eq 5 &&
	{
		if test "$(id -u)" = 0; then echo "user root;"; fi
		cat <<-EOF
		worker_processes 1;
		pid $NGX/nginx.pid;
		error_log $NGX/error.log info;
		events { worker_connections 64; }
		http {
			include /etc/nginx/mime.types;
			default_type application/octet-stream;
			access_log $NGX/access.log;
			client_body_temp_path $NGX/tmp/body;
			proxy_temp_path $NGX/tmp/proxy;
			fastcgi_temp_path $NGX/tmp/fastcgi;
			uwsgi_temp_path $NGX/tmp/uwsgi;
			scgi_temp_path $NGX/tmp/scgi;
			include $NGX/portolan.conf;
		}
		EOF
	} >"$NGX/nginx.conf" &&
	"$NGINX" -t -p "$NGX/" -c "$NGX/nginx.conf" 2>&1
'

test_expect_success NODE 'every internal link of every page answers 200' '
	start_nginx &&
	test_when_finished stop_nginx &&
	{ node "$BROWSER_DIR/crawl.mjs" "$NGINX_URL/index.html" >out 2>&1; rc=$?; } &&
	cat out &&
	test "$rc" = 0 &&
	grep -q "^crawl: ok$" out &&
	pages=$(sed -n "s/.* \([0-9]*\) pages).*/\1/p" out) &&
	test "$pages" -eq 18
'

test_expect_success 'with Accept-Encoding: gzip, the .gz sibling byte for byte' '
	start_nginx &&
	test_when_finished stop_nginx &&
	for p in tiled-group.html index.html compact-host-urls.html; do
		curl -sf -H "Accept-Encoding: gzip" -D h -o body "$NGINX_URL/$p" &&
		grep -qi "^content-encoding: gzip" h &&
		grep -qi "^vary: accept-encoding" h &&
		cmp body "$SITE/$p.gz" || { cat h; return 1; }
	done &&
	curl -sf -H "Accept-Encoding: gzip, deflate, br" -D h -o body "$NGINX_URL/" &&
	grep -qi "^content-encoding: gzip" h &&
	cmp body "$SITE/index.html.gz" &&
	js=$(sed -n "s|.*<script src=\"\(assets/app.js[^\"]*\)\".*|\1|p" "$SITE/index.html" | sed "s/&#61;/=/") &&
	curl -sf -H "Accept-Encoding: gzip" -D h -o body "$NGINX_URL/$js" &&
	grep -qi "^content-encoding: gzip" h &&
	cmp body "$SITE/assets/app.js.gz"
'

test_expect_success 'without it, the plain file' '
	start_nginx &&
	test_when_finished stop_nginx &&
	curl -sf -D h -o body "$NGINX_URL/tiled-group.html" &&
	! grep -qi "^content-encoding:" h &&
	cmp body "$SITE/tiled-group.html" &&
	curl -sf -H "Accept-Encoding: identity" -D h -o body "$NGINX_URL/" &&
	! grep -qi "^content-encoding:" h &&
	cmp body "$SITE/index.html"
'

test_expect_success 'the CSP and security headers are on pages, assets and errors' '
	start_nginx &&
	test_when_finished stop_nginx &&
	for p in index.html assets/app.js assets/favicon.svg nope.html; do
		curl -s -D h -o /dev/null "$NGINX_URL/$p" &&
		tr -d "\r" <h >hh &&
		grep -qxF "Content-Security-Policy: $CSP" hh &&
		grep -qxi "X-Content-Type-Options: nosniff" hh &&
		grep -qxi "Referrer-Policy: no-referrer" hh || { cat hh; return 1; }
	done
'

test_expect_success 'caching: pages revalidate, versioned assets are kept for good' '
	start_nginx &&
	test_when_finished stop_nginx &&
	css=$(sed -n "s|.*<link rel=\"stylesheet\" href=\"\([^\"]*\)\".*|\1|p" "$SITE/index.html" | sed "s/&#61;/=/") &&
	case $css in assets/style.css\?v=*) ;; *) echo "no versioned css: $css"; false ;; esac &&
	curl -sf -D h -o /dev/null "$NGINX_URL/tiled-host.html" &&
	grep -qi "^cache-control: no-cache" h &&
	curl -sf -D h -o /dev/null "$NGINX_URL/$css" &&
	grep -qi "^cache-control: max-age=315360000" h &&
	curl -sf -D h -o /dev/null "$NGINX_URL/assets/favicon.svg" &&
	grep -qi "^cache-control: max-age=3600" h &&
	etag=$(tr -d "\r" <h | sed -n "s/^[Ee][Tt][Aa][Gg]: //p") &&
	test -n "$etag" &&
	test "$(curl -s -o /dev/null -w "%{http_code}" -H "If-None-Match: $etag" "$NGINX_URL/assets/favicon.svg")" = 304
'

test_expect_success 'dot files and unknown paths are 404; no event stream (204)' '
	start_nginx &&
	test_when_finished stop_nginx &&
	mkdir -p "$SITE/.tmp" && echo secret >"$SITE/.tmp/x" &&
	test_when_finished "rm -rf \"$SITE/.tmp/x\"" &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "$NGINX_URL/.tmp/x")" = 404 &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "$NGINX_URL/nope.html")" = 404 &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "$NGINX_URL/api/v1/events")" = 204
'

test_expect_success BROWSER 'Chromium: the pages run under the CSP, no request leaves' '
	start_nginx &&
	test_when_finished stop_nginx &&
	{ node "$BROWSER_DIR/xss.mjs" --base "$NGINX_URL/" --csp --clean-console --drawers 3 \
		index.html tiled-group.html compact-group.html >out 2>&1; rc=$?; } &&
	cat out &&
	test "$rc" = 0 &&
	grep -q "^xss http: ok$" out
'

test_expect_success BROWSER 'Chromium: an SVG icon with a script is held by the CSP' '
	start_nginx &&
	test_when_finished stop_nginx &&
	mkdir -p "$SITE/images" &&
	cp "$FIXTURES/xss/images/evil.svg" "$SITE/images/evil.svg" &&
	{ node "$BROWSER_DIR/xss.mjs" --base "$NGINX_URL/" --svg images/evil.svg >out 2>&1; rc=$?; } &&
	cat out &&
	test "$rc" = 0
'

test_expect_success 'nginx logged no error' '
	! grep -E "\[(emerg|alert|crit|error)\]" "$NGX/error.log"
'

test_done
