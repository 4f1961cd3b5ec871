#!/bin/bash
test_description='serve: the static site over HTTP

Files from the site dir: content types, validators and 304s, HEAD, 405,
precompressed .gz siblings, STD dashboard URLs, directory indexes, and
every way out of the site dir refused. The files are written by the test
itself (the renderer may or may not rewrite the pages: page checks
compare with what is on disk).'
. "$(dirname "$0")/lib.sh"

export API_TOKEN=t0400-token-abcdefghijklmnop
SITE=$DAEMON_CONFIG/site
SECRET=t0400-secret-never-served

# fetch PATH [curl args...]: the status into $status, headers into hdr, body into body.
fetch () {
	local path=$1
	shift
	rm -f body hdr &&
	status=$(curl -s --path-as-is -o body -D hdr -w "%{http_code}" "$@" "$BASE_URL$path") &&
	touch body # curl writes no file for an empty body
}

# raw_head PATH: a HEAD request over HTTP/1.0, everything the server sent into raw.
raw_head () {
	exec 3<>"/dev/tcp/127.0.0.1/$PORT" &&
	printf "HEAD %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" "$1" >&3 &&
	cat <&3 >raw
	local rc=$?
	exec 3<&-
	return $rc
}

# header NAME: the (last) value of header NAME in hdr.
header () {
	grep -i "^$1:" hdr | tail -n 1 | sed "s/^[^:]*: *//" | tr -d "\r"
}

status_is () {
	test "$status" = "$1" || {
		echo "status $status, wanted $1" >&2
		cat hdr body >&2
		return 1
	}
}

# page_is PATH FILE: PATH serves exactly the site's FILE (retried: a render may land between).
page_is () {
	wait_for "fetch \"$1\" && test \"\$status\" = 200 && cmp -s body \"$SITE/$2\"" 5
}

test_expect_success 'set up a site, secrets outside it, and links out' '
	mkdir -p "$SITE/t/sub" "$SITE/t/empty" "$TRASH/outside/dir" &&
	echo "# $SECRET" >"$DAEMON_CONFIG/settings.yml" &&
	echo "$SECRET" >"$TRASH/outside/secret.txt" &&
	echo "$SECRET" >"$TRASH/outside/dir/secret.txt" &&
	echo "$SECRET" >"$SITE/.hidden" &&
	echo "$SECRET" >"$SITE/t/.hidden" &&
	ln -s "$TRASH/outside/secret.txt" "$SITE/t/link-file" &&
	ln -s "$TRASH/outside/dir" "$SITE/t/link-dir" &&
	ln -s "$TRASH/outside/dir" "$SITE/link-top" &&
	echo "<!doctype html><title>page</title>" >"$SITE/t/page.html" &&
	ln -s page.html "$SITE/t/inner-link.html" &&
	mkfifo "$SITE/t/fifo.html" &&
	echo "<!doctype html><title>sub</title>" >"$SITE/t/sub/index.html" &&
	for ext in css js svg png jpg jpeg gif webp ico json txt webmanifest bin; do
		echo "content of $ext" >"$SITE/t/file.$ext" || return 1
	done &&
	echo "upper" >"$SITE/t/UPPER.PNG" &&
	for i in $(seq 1 200); do echo "console.log($i);"; done >"$SITE/t/big.js" &&
	gzip -9 -n -k "$SITE/t/big.js" &&
	echo "body { color: red }" >"$SITE/t/old.css" &&
	gzip -n -k "$SITE/t/old.css" &&
	touch -d "2001-01-01 00:00:00" "$SITE/t/old.css.gz" &&
	echo "console.log(1)" | gzip -n >"$SITE/t/only.js.gz" &&
	for f in index table-group-urls table-stack table-stack-urls table-host table-host-urls \
		tiled-group tiled-group-urls tiled-stack tiled-stack-urls tiled-host tiled-host-urls \
		compact-group compact-group-urls compact-stack compact-stack-urls compact-host \
		compact-host-urls; do
		echo "<!doctype html><title>$f</title>" >"$SITE/$f.html" || return 1
	done
'

test_expect_success 'start' '
	start_daemon
'

test_expect_success 'content types by extension' '
	while read -r ext type; do
		fetch "/t/file.$ext" && status_is 200 &&
		test "$(header Content-Type)" = "$type" &&
		test "$(cat body)" = "content of $ext" || return 1
	done <<-\EOF &&
	css text/css; charset=utf-8
	js text/javascript; charset=utf-8
	svg image/svg+xml
	png image/png
	jpg image/jpeg
	jpeg image/jpeg
	gif image/gif
	webp image/webp
	ico image/x-icon
	json application/json
	txt text/plain; charset=utf-8
	webmanifest application/manifest+json
	bin application/octet-stream
	EOF
	fetch /t/page.html && status_is 200 &&
	test "$(header Content-Type)" = "text/html; charset=utf-8" &&
	fetch /t/UPPER.PNG && test "$(header Content-Type)" = "image/png"
'

test_expect_success 'headers: nosniff and CSP everywhere, no-cache on HTML, max-age on assets' '
	fetch /t/page.html && status_is 200 &&
	test "$(header X-Content-Type-Options)" = nosniff &&
	test "$(header Cache-Control)" = no-cache &&
	header Content-Security-Policy >csp &&
	grep -F "default-src '"'"'self'"'"'" csp &&
	grep -F "frame-ancestors '"'"'none'"'"'" csp &&
	grep -F "object-src '"'"'none'"'"'" csp &&
	test "$(grep -ci "^Content-Security-Policy:" hdr)" = 1 &&
	test "$(grep -ci "^Cache-Control:" hdr)" = 1 &&
	fetch /t/file.css && status_is 200 &&
	test "$(header X-Content-Type-Options)" = nosniff &&
	test "$(header Cache-Control)" = "public, max-age=3600" &&
	grep -qi "^Content-Security-Policy: default-src" hdr
'

test_expect_success 'ETag and Last-Modified; If-None-Match gives 304' '
	fetch /t/page.html && status_is 200 &&
	etag=$(header ETag) && lm=$(header Last-Modified) &&
	case $etag in \"*\") ;; *) false ;; esac &&
	test "$lm" = "$(TZ=UTC date -u -r "$SITE/t/page.html" "+%a, %d %b %Y %H:%M:%S GMT")" &&
	fetch /t/page.html -H "If-None-Match: $etag" && status_is 304 &&
	test ! -s body && test "$(header ETag)" = "$etag" &&
	fetch /t/page.html -H "If-None-Match: \"other\", W/$etag" && status_is 304 &&
	fetch /t/page.html -H "If-None-Match: *" && status_is 304 &&
	fetch /t/page.html -H "If-None-Match: \"other\"" && status_is 200 &&
	cmp body "$SITE/t/page.html"
'

test_expect_success 'If-Modified-Since (only without If-None-Match)' '
	fetch /t/page.html && lm=$(header Last-Modified) &&
	fetch /t/page.html -H "If-Modified-Since: $lm" && status_is 304 && test ! -s body &&
	fetch /t/page.html -H "If-Modified-Since: Thu, 01 Jan 2004 00:00:00 GMT" && status_is 200 &&
	fetch /t/page.html -H "If-Modified-Since: yesterday" && status_is 200 &&
	fetch /t/page.html -H "If-Modified-Since: $lm" -H "If-None-Match: \"other\"" &&
	status_is 200
'

test_expect_success 'a changed file gets a new ETag' '
	fetch /t/file.txt && old=$(header ETag) &&
	echo "changed" >"$SITE/t/file.txt" &&
	fetch /t/file.txt -H "If-None-Match: $old" && status_is 200 &&
	test "$(cat body)" = changed && test "$(header ETag)" != "$old"
'

test_expect_success 'HEAD: the headers of GET, no body' '
	fetch /t/page.html --head && status_is 200 &&
	test "$(header Content-Length)" = "$(wc -c <"$SITE/t/page.html")" &&
	test "$(header Content-Type)" = "text/html; charset=utf-8" &&
	test -n "$(header ETag)" &&
	raw_head /t/page.html &&
	head -n 1 raw | grep "^HTTP/1.[01] 200" &&
	# nothing after the blank line that ends the headers
	test "$(tail -c 4 raw | od -An -c | tr -d " ")" = "\r\n\r\n" &&
	test "$(grep -c "</title>" raw)" = 0
'

test_expect_success 'other methods: 405 with Allow' '
	for m in POST PUT DELETE PATCH; do
		fetch /t/page.html -X $m -d x && status_is 405 &&
		test "$(header Allow)" = "GET, HEAD" || return 1
	done &&
	test_jq ".error == \"Method not allowed\"" body &&
	fetch / -X POST -d x -H "Accept: text/html" && status_is 405 &&
	grep "<title>Method not allowed" body &&
	fetch /nothing-here -X POST -d x && status_is 405
'

test_expect_success 'gzip sibling: only for clients that accept gzip' '
	fetch /t/big.js && status_is 200 && cmp body "$SITE/t/big.js" &&
	test -z "$(header Content-Encoding)" &&
	test "$(header Vary)" = Accept-Encoding && plain=$(header ETag) &&
	fetch /t/big.js -H "Accept-Encoding: gzip, deflate" && status_is 200 &&
	cmp body "$SITE/t/big.js.gz" &&
	test "$(header Content-Encoding)" = gzip &&
	test "$(header Vary)" = Accept-Encoding &&
	test "$(header Content-Type)" = "text/javascript; charset=utf-8" &&
	gz=$(header ETag) && test "$gz" != "$plain" &&
	case $gz in *-gz\") ;; *) false ;; esac &&
	fetch /t/big.js -H "Accept-Encoding: gzip" -H "If-None-Match: $gz" && status_is 304 &&
	fetch /t/big.js -H "Accept-Encoding: gzip" -H "If-None-Match: $plain" && status_is 200 &&
	curl -sf --compressed "$BASE_URL/t/big.js" >decoded && cmp decoded "$SITE/t/big.js"
'

test_expect_success 'gzip refused (q=0) or not offered: identity' '
	for ae in "gzip;q=0" "gzip; q=0.000, br" "br" "identity" "gzipx"; do
		fetch /t/big.js -H "Accept-Encoding: $ae" && status_is 200 &&
		cmp body "$SITE/t/big.js" && test -z "$(header Content-Encoding)" || return 1
	done &&
	fetch /t/big.js -H "Accept-Encoding: br;q=1, GZIP;q=0.5" &&
	test "$(header Content-Encoding)" = gzip
'

test_expect_success 'a .gz older than its file is ignored; a .gz alone is no page' '
	fetch /t/old.css -H "Accept-Encoding: gzip" && status_is 200 &&
	cmp body "$SITE/t/old.css" && test -z "$(header Content-Encoding)" &&
	test -z "$(header Vary)" &&
	fetch /t/only.js -H "Accept-Encoding: gzip" && status_is 404
'

test_expect_success 'STD dashboard URLs map onto the page files' '
	page_is / index.html &&
	page_is "/?group_by=host" table-host.html &&
	page_is /tiled_dash tiled-group.html &&
	page_is "/tiled_dash?group_by=host&show_urlless=false" tiled-host-urls.html &&
	page_is "/compact_dash?group_by=stack&show_urlless=true" compact-stack.html &&
	page_is "/compact_dash?show_urlless=OFF" compact-group-urls.html &&
	page_is /index.html index.html
'

test_expect_success 'STD URLs: unknown values fall back to the defaults' '
	page_is "/tiled_dash?group_by=bogus&show_urlless=maybe" tiled-group.html &&
	page_is "/compact_dash?group_by=&show_urlless=" compact-group.html
'

test_expect_success 'a directory serves its index.html; without the slash, a redirect' '
	fetch /t/sub/ && status_is 200 && cmp body "$SITE/t/sub/index.html" &&
	test "$(header Content-Type)" = "text/html; charset=utf-8" &&
	fetch /t/sub && status_is 301 && test "$(header Location)" = /t/sub/ &&
	curl -sfL "$BASE_URL/t/sub" >followed && cmp followed "$SITE/t/sub/index.html" &&
	fetch /t/empty/ && status_is 404 &&
	fetch /t/page.html/ && status_is 404
'

test_expect_success 'missing files: 404, a small HTML page for browsers, else JSON' '
	fetch /t/nope.html -H "Accept: text/html,application/xhtml+xml,*/*;q=0.8" &&
	status_is 404 &&
	test "$(header Content-Type)" = "text/html; charset=utf-8" &&
	grep -i "<title>not found" body &&
	test -n "$(header Content-Security-Policy)" &&
	fetch /t/nope.html && status_is 404 &&
	test "$(header Content-Type)" = application/json &&
	test_jq ".error == \"Not found\"" body &&
	fetch /nope/deeper/still.css && status_is 404
'

test_expect_success 'no way out of the site dir: traversal, dot files, symlinks' '
	for p in "/../settings.yml" "/%2e%2e/settings.yml" "/%2E%2E/settings.yml" \
		"/%252e%252e/settings.yml" "/%252e%252e/" "/t/..%2f..%2fsettings.yml" \
		"/%2e%2e%2fsettings.yml" "/t/../../settings.yml" "/..%5csettings.yml" \
		"/t/..\\..\\settings.yml" "/./t/page.html" "/t/./page.html" "/t/../t/page.html" \
		"/.hidden" "/%2ehidden" "/t/.hidden" "//.hidden" "/t/link-file" \
		"/t/link-dir/secret.txt" "/t/link-dir/" "/link-top/secret.txt" \
		"/t/inner-link.html" "//etc/passwd" "//../../../../etc/passwd" \
		"/t/page.html%00.png" "/t/page.html%00" "/%00/../settings.yml"; do
		fetch "$p" --max-time 5 &&
		{ test "$status" = 404 || { echo "$p: $status" >&2; false; }; } &&
		! grep -F "$SECRET" body &&
		! grep -q "root:" body || return 1
	done
'

test_expect_success 'a FIFO is not a file: 404 at once' '
	fetch /t/fifo.html --max-time 5 && status_is 404
'

test_expect_success 'API routes keep precedence' '
	fetch /healthz && status_is 200 && test_jq ".status == \"ok\"" body &&
	fetch /healthz --head && status_is 200 &&
	fetch /api/v1/services && status_is 401 && test_jq ".error == \"Unauthorized\"" body &&
	fetch /api/v1/nope -H "Authorization: Bearer $API_TOKEN" && status_is 404 &&
	test_jq ".error == \"Not found\"" body &&
	fetch /metrics && status_is 200 && grep "^portolan_http_requests_total" body
'

test_expect_success 'no site dir at all: 404, the daemon keeps serving' '
	mv "$SITE" "$TRASH/site.away" &&
	test_when_finished "rm -rf \"$SITE\" && mv \"$TRASH/site.away\" \"$SITE\"" &&
	fetch /t/page.html && status_is 404 &&
	curl -sf "$BASE_URL/healthz" >/dev/null
'

test_expect_success 'stop' '
	stop_daemon
'

test_done
