#!/bin/bash
test_description='serve: service icons fetched from ICON_SOURCES

The daemon fetches missing service icons into <config>/images/ from the URL
templates in ICON_SOURCES, here a stand-in for the dashboard-icons CDN on
loopback (tests/fixtures/icons/cdn.py), which counts every request. Covered:
the name derived from the image or the container, the templates tried in
order, what a fetched body must be (200, at most 1 MiB, an SVG/PNG/WebP by
content matching the extension, no script in an SVG), redirects, the
negative cache (ICON_RETRY_AFTER, kept across a restart), refresh, the icon
list, the site re-rendered with the icon and serving it, image_icon values
that are not plain file names, and an operator choice kept over a register.'
. "$(dirname "$0")/lib.sh"
. "$FIXTURES/register/helpers.sh"

use_configured_token t0510-token-abcdefghijklmnop
CDN_PY=$FIXTURES/icons/cdn.py
SAMPLES=$FIXTURES/icons/cdn
MIB=1048576

# details names image_icon: a list of {loc, type, msg} (as for every other
# register field) or an object keyed by field.
DETAILS_ICON='(.details | type) as $t |
	if $t == "array" then any(.details[]; .loc == ["image_icon"])
	elif $t == "object" then (.details | has("image_icon"))
	else false end'
ISO='test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}")'

# use_config DIR: the daemon's --config dir (and the CLI's) from now on.
use_config () {
	DAEMON_CONFIG=$1
	export PORTOLAN_CONFIG=$DAEMON_CONFIG
	IMAGES=$DAEMON_CONFIG/images
	SITE=$DAEMON_CONFIG/site
}
use_config "$DAEMON_CONFIG"

start_cdn () {
	python3 "$CDN_PY" "$TRASH/cdn.port" "$SAMPLES" "$TRASH/cdn-requests.log" \
		>>"$TRASH/cdn.log" 2>&1 &
	cdn_pid=$!
	wait_for "test -s \"$TRASH/cdn.port\"" &&
	CDN=http://127.0.0.1:$(cat "$TRASH/cdn.port")
}

cdn_counts () {
	curl -sSf --max-time 5 "$CDN/__counts"
}

# count PATH: requests the CDN saw for PATH.
count () {
	cdn_counts | jq -r --arg p "$1" '.[$p] // 0'
}

cdn_reset () {
	curl -sSf --max-time 5 -X POST "$CDN/__reset"
}

# expect_counts PATH N [PATH N...]: the CDN saw exactly N requests for each PATH.
expect_counts () {
	local want='{}'
	while test $# -ge 2; do
		want=$(jq -c --arg p "$1" --argjson n "$2" '. + {($p): $n}' <<<"$want") || return 1
		shift 2
	done
	cdn_counts >counts.json || return 1
	if jq -e --argjson w "$want" '. as $c | all($w | to_entries[]; ($c[.key] // 0) == .value)' \
		counts.json >/dev/null; then
		return 0
	fi
	echo "expect_counts: wanted $want; the CDN saw:" >&2
	cat counts.json >&2
	return 1
}

icons () {
	curl -sSf --max-time 5 -H "Authorization: Bearer $TOKEN" "$BASE_URL/api/v1/icons"
}

# icon NAME: NAME's entry in GET /api/v1/icons.
icon () {
	icons | jq -e --arg n "$1" '[.icons[] | select(.name == $n)] | if length == 1 then .[0] else empty end'
}

# icon_file_is NAME FILE: the list has NAME fetched as FILE.
icon_file_is () {
	icon "$1" | jq -e --arg f "$2" '.file == $f' >/dev/null
}

# icon_failed NAME: the list has NAME failed, with no file, a time and an error.
icon_failed () {
	icon "$1" | jq -e "(.file == null) and (.failed_at | type == \"string\" and $ISO) and
		(.error | type == \"string\" and length > 0)" >/dev/null
}

# svc HOST NAME [ICON [IMAGE [STATUS]]]: register a service (200 wanted); its
# id in $SVC_ID. A new STATUS (docker_status) makes a register an update, not
# "unchanged": the daemon looks at icon names after a change.
svc () {
	jq -n --arg h "$1" --arg c "$2" --arg i "${3-}" --arg m "${4-}" --arg s "${5-}" \
		'{host: $h, container_name: $c} + (if $i == "" then {} else {image_icon: $i} end) +
		(if $m == "" then {} else {image_name: $m} end) +
		(if $s == "" then {} else {docker_status: $s} end)' >svc.json &&
	register svc.json && status_is 200 && SVC_ID=$(jq -e .id body)
}

# barrier: register a service whose icon is found nowhere and wait until that
# fetch has failed; fetches queued before it are over by then.
barrier_n=0
barrier () {
	barrier_n=$((barrier_n + 1))
	svc barrier "b$barrier_n" "barrier-$barrier_n" &&
	wait_for "icon_failed barrier-$barrier_n"
}

# page_has PAGE FILE: the site page refers to the icon images/FILE.
page_has () {
	grep -qF "src=\"images/$2\"" "$SITE/$1"
}

# served FILE: GET /images/FILE into ./got, headers (no CR) in ./h.
served () {
	curl -sS --max-time 5 -D headers -o got -w "%{http_code}\n" "$BASE_URL/images/$1" >code &&
	tr -d "\r" <headers >h
}

# refresh NAME [curl args]: POST /api/v1/icons/NAME/refresh with the token.
refresh () {
	local name=$1
	shift
	call POST "/api/v1/icons/$name/refresh" -H "Authorization: Bearer $TOKEN" "$@"
}

# --- fixture ------------------------------------------------------------------

test_expect_success PYTHON3 'the CDN fixture serves files and counts requests' '
	start_cdn &&
	curl -sSf -o got "$CDN/svg/sonarr.svg" && cmp "$SAMPLES/svg/sonarr.svg" got &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "$CDN/svg/nowhere.svg")" = 404 &&
	expect_counts /svg/sonarr.svg 1 /svg/nowhere.svg 1 &&
	cdn_reset && cdn_counts | test_jq ". == {}"
'

# --- (k) ICON_SOURCES=none ----------------------------------------------------

test_expect_success PYTHON3 'ICON_SOURCES=none (the tests'"'"' default): a register fetches nothing' '
	use_config "$TRASH/config-none" &&
	test "$ICON_SOURCES" = none &&
	start_daemon &&
	svc media tv "" lscr.io/linuxserver/sonarr:latest &&
	stored "$SVC_ID" && test_jq ".image_icon == \"sonarr\"" stored &&
	wait_for "grep -q \"data-search=\\\"tv \" \"$SITE/tiled-group.html\"" &&
	icon sonarr | test_jq ".file == null and .failed_at == null" &&
	stop_daemon &&
	cdn_counts | test_jq ". == {}" &&
	test_path_is_missing "$IMAGES/sonarr.svg" &&
	test_path_is_missing "$SITE/images/sonarr.svg"
'

test_expect_success PYTHON3 'the daemon starts with ICON_SOURCES pointing at the CDN fixture' '
	use_config "$TRASH/config" &&
	export ICON_SOURCES="$CDN/svg/{name}.svg $CDN/png/{name}.png $CDN/webp/{name}.webp" &&
	start_daemon &&
	api GET /api/v1/settings && status_is 200 &&
	test_jq ".icon_sources.source == \"env\"" body
'

# --- (j) ----------------------------------------------------------------------

test_expect_success PYTHON3 'GET /images/unknown.svg: 404' '
	served unknown.svg && test "$(cat code)" = 404
'

# --- (a) derived from the image -----------------------------------------------

test_expect_success PYTHON3 'lscr.io/linuxserver/sonarr:latest: icon "sonarr" fetched once as sonarr.svg' '
	svc media tv "" lscr.io/linuxserver/sonarr:latest && SONARR_ID=$SVC_ID &&
	stored "$SONARR_ID" && test_jq ".image_icon == \"sonarr\"" stored &&
	wait_for "test -f \"$IMAGES/sonarr.svg\"" &&
	cmp "$SAMPLES/svg/sonarr.svg" "$IMAGES/sonarr.svg" &&
	wait_for "icon_file_is sonarr sonarr.svg" &&
	icon sonarr | test_jq ".file == \"sonarr.svg\" and .failed_at == null and .error == null" &&
	expect_counts /svg/sonarr.svg 1 /png/sonarr.png 0 /webp/sonarr.webp 0 &&
	test_path_is_missing "$IMAGES/sonarr.png"
'

test_expect_success PYTHON3 'the site re-renders: images/sonarr.svg copied, tiled and table pages use it' '
	wait_for "page_has tiled-group.html sonarr.svg" &&
	wait_for "page_has index.html sonarr.svg" &&
	cmp "$SAMPLES/svg/sonarr.svg" "$SITE/images/sonarr.svg"
'

test_expect_success PYTHON3 'GET /images/sonarr.svg: the same bytes, cached for a week' '
	served sonarr.svg && test "$(cat code)" = 200 &&
	cmp "$SAMPLES/svg/sonarr.svg" got &&
	grep -qix "cache-control: private, max-age=604800" h &&
	grep -qi "^content-type: image/svg+xml" h
'

# --- (b) the templates in order ------------------------------------------------

test_expect_success PYTHON3 'a bare name only there as PNG: the SVG is asked for, then pngonly.png saved' '
	svc media pngs pngonly &&
	wait_for "test -f \"$IMAGES/pngonly.png\"" &&
	cmp "$SAMPLES/png/pngonly.png" "$IMAGES/pngonly.png" &&
	wait_for "icon_file_is pngonly pngonly.png" &&
	expect_counts /svg/pngonly.svg 1 /png/pngonly.png 1 /webp/pngonly.webp 0 &&
	test_path_is_missing "$IMAGES/pngonly.svg" &&
	wait_for "page_has tiled-group.html pngonly.png" &&
	served pngonly.png && test "$(cat code)" = 200 &&
	cmp "$SAMPLES/png/pngonly.png" got &&
	grep -qi "^content-type: image/png" h
'

test_expect_success PYTHON3 'a bare name only there as WebP: SVG, PNG, then webponly.webp' '
	svc media webps webponly &&
	wait_for "test -f \"$IMAGES/webponly.webp\"" &&
	cmp "$SAMPLES/webp/webponly.webp" "$IMAGES/webponly.webp" &&
	wait_for "icon_file_is webponly webponly.webp" &&
	expect_counts /svg/webponly.svg 1 /png/webponly.png 1 /webp/webponly.webp 1
'

test_expect_success PYTHON3 'a name with an extension asks only the templates of that extension' '
	svc media pngs-ext pngonly.png &&
	svc media png-by-name sonarr.png &&
	wait_for "test -f \"$IMAGES/sonarr.png\"" &&
	wait_for "icon_file_is sonarr.png sonarr.png" &&
	cmp "$SAMPLES/png/sonarr.png" "$IMAGES/sonarr.png" &&
	barrier &&
	# pngonly.png is already in images/: not asked for again
	expect_counts /svg/pngonly.svg 1 /png/pngonly.png 1 /svg/sonarr.svg 1 /png/sonarr.png 1 \
		/svg/sonarr.png.svg 0 /webp/sonarr.webp 0
'

# --- (c) derived from the container name --------------------------------------

test_expect_success PYTHON3 'container "My App", no image: icon "my-app", fetched as my-app.svg' '
	svc media "My App" &&
	stored "$SVC_ID" && test_jq ".image_icon == \"my-app\"" stored &&
	wait_for "test -f \"$IMAGES/my-app.svg\"" &&
	cmp "$SAMPLES/svg/my-app.svg" "$IMAGES/my-app.svg" &&
	wait_for "icon_file_is my-app my-app.svg" &&
	expect_counts /svg/my-app.svg 1 /png/my-app.png 0 &&
	wait_for "page_has tiled-group.html my-app.svg"
'

# --- sizes and local references ------------------------------------------------

test_expect_success PYTHON3 'an SVG of exactly 1 MiB is kept' '
	svc media exact exact.svg &&
	wait_for "test -f \"$IMAGES/exact.svg\"" &&
	wait_for "icon_file_is exact.svg exact.svg" &&
	test "$(wc -c <"$IMAGES/exact.svg")" = $MIB &&
	expect_counts /svg/exact.svg 1
'

test_expect_success PYTHON3 'an SVG whose href and xlink:href are #fragments is kept' '
	svc media frag fragment-href.svg &&
	wait_for "test -f \"$IMAGES/fragment-href.svg\"" &&
	cmp "$SAMPLES/svg/fragment-href.svg" "$IMAGES/fragment-href.svg" &&
	expect_counts /svg/fragment-href.svg 1
'

# --- (e) refused content --------------------------------------------------------

REFUSED="huge.svg huge-cl.svg evil.svg handler.svg js-href.svg ext-href.svg foreign.svg
	entity.svg notsvg.svg pngbytes.svg fake.png"

test_expect_success PYTHON3 'too big, not the right type, or scripted: no file, recorded as failed' '
	for n in $REFUSED; do
		svc refused "r-${n%.*}" "$n" || return 1
	done &&
	for n in $REFUSED; do
		wait_for "icon_failed $n" || { icon "$n"; return 1; }
	done &&
	icons >icons.json &&
	for n in $REFUSED; do
		test_path_is_missing "$IMAGES/$n" &&
		test_path_is_missing "$SITE/images/$n" &&
		expect_counts "/${n##*.}/$n" 1 || return 1
	done &&
	# not in a temporary name either
	find "$IMAGES" "$SITE/images" -mindepth 1 | sed "s|.*/||" >files &&
	cat files &&
	! grep -E "huge|evil|handler|js-href|ext-href|foreign|entity|notsvg|pngbytes|fake" files
'

test_expect_success PYTHON3 'a refused icon is neither served nor on a page' '
	wait_for "grep -q r-fake \"$SITE/tiled-group.html\"" &&
	for n in $REFUSED; do
		served "$n" && test "$(cat code)" = 404 &&
		! grep -qF "images/$n" "$SITE/tiled-group.html" "$SITE/index.html" || return 1
	done
'

# --- (f) redirects ---------------------------------------------------------------

test_expect_success PYTHON3 'a 301 is followed: redirected.png holds the PNG it points to' '
	svc media redir redirected.png &&
	wait_for "test -f \"$IMAGES/redirected.png\"" &&
	cmp "$SAMPLES/png/sonarr.png" "$IMAGES/redirected.png" &&
	wait_for "icon_file_is redirected.png redirected.png" &&
	expect_counts /png/redirected.png 1 /png/sonarr.png 2
'

test_expect_success PYTHON3 'a redirect loop: at most 5 redirects, then failed' '
	svc media loop loop.png &&
	wait_for "icon_failed loop.png" &&
	test_path_is_missing "$IMAGES/loop.png" &&
	n=$(count /png/loop.png) && echo "loop.png asked $n times" &&
	test "$n" -ge 2 && test "$n" -le 6
'

# --- (g) image_icon must be a plain file name -----------------------------------

test_expect_success PYTHON3 'image_icon not a plain file name: 400 naming image_icon, nothing stored or fetched' '
	cdn_reset &&
	api GET /api/v1/services && jq -S . body >services.before &&
	cat >bad-icons <<-\EOF &&
	"../../etc/passwd"
	"a/b.svg"
	"/etc/passwd"
	".."
	"."
	".hidden.svg"
	"a\\b.svg"
	"x\u0001.svg"
	"x\n.svg"
	"sp ace.svg"
	"semi;colon.svg"
	"\u00e9.svg"
	EOF
	printf "\"%0125d.svg\"\n" 0 | tr 0 a >>bad-icons &&
	printf "\"%0196d.svg\"\n" 0 | tr 0 a >>bad-icons &&
	while read -r bad; do
		jq -n --argjson i "$bad" "{host: \"bad\", container_name: \"c\", image_icon: \$i}" >p.json &&
		register p.json && status_is 400 &&
		test_jq ".error | type == \"string\"" body &&
		test_jq "$DETAILS_ICON" body || { echo "image_icon: $bad"; return 1; }
	done <bad-icons &&
	api GET "/api/v1/services?host=bad" && test_jq ". == []" body &&
	api GET /api/v1/services && jq -S . body >services.after &&
	test_cmp services.before services.after
'

test_expect_success PYTHON3 'PATCH with such an image_icon: 400 naming image_icon, the record unchanged' '
	stored "$SONARR_ID" && cp stored before.json &&
	for bad in "\"../../etc/passwd\"" "\"a/b.svg\"" "\"..\"" "\".hidden.svg\"" "\"x\\u0001.svg\""; do
		jq -n --argjson i "$bad" "{image_icon: \$i}" >e.json &&
		patch "$SONARR_ID" e.json && status_is 400 &&
		test_jq "$DETAILS_ICON" body || { echo "image_icon: $bad"; return 1; }
	done &&
	stored "$SONARR_ID" && test_cmp before.json stored
'

test_expect_success PYTHON3 'nothing was fetched for them, nothing written outside images/' '
	barrier &&
	cdn_counts | test_jq "keys | all(test(\"barrier\"))" &&
	find "$TRASH" \( -name passwd -o -name b.svg -o -name .hidden.svg -o -name "x*.svg" \) >found &&
	cat found && ! test -s found &&
	test_path_is_missing "$DAEMON_CONFIG/etc" &&
	test_path_is_missing "$DAEMON_CONFIG/a"
'

test_expect_success PYTHON3 '128 characters is a plain name; Upper.svg is stored but never fetched' '
	cdn_reset &&
	long=$(printf "%0124d" 0 | tr 0 l).svg && test ${#long} = 128 &&
	svc names long "$long" && test_jq ".image_icon == \"$long\"" body &&
	svc names upper Upper.svg && test_jq ".image_icon == \"Upper.svg\"" body &&
	wait_for "icon_failed $long" &&
	barrier &&
	expect_counts "/svg/$long" 1 /svg/Upper.svg 0 /svg/upper.svg 0
'

# --- (h) operator choice -----------------------------------------------------------

test_expect_success PYTHON3 'an operator'"'"'s image_icon is kept over a register carrying another' '
	svc ops web && WEB=$SVC_ID &&
	echo "{\"image_icon\": \"mine.svg\"}" >e.json &&
	patch "$WEB" e.json && status_is 200 && test_jq ".image_icon == \"mine.svg\"" body &&
	svc ops web sonarr.svg && test_jq ".image_icon == \"mine.svg\"" body &&
	stored "$WEB" && test_jq ".image_icon == \"mine.svg\"" stored &&
	test_jq "(has(\"image_icon_source\") | not) or .image_icon_source == \"ui_edit\"" stored
'

# --- present already --------------------------------------------------------------

test_expect_success PYTHON3 'an icon already in images/ is never fetched (exact name, or bare name with any extension)' '
	cdn_reset &&
	printf "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n" >"$IMAGES/local.svg" &&
	cp "$IMAGES/local.svg" local.orig &&
	cp "$SAMPLES/png/pngonly.png" "$IMAGES/localbare.png" &&
	printf "\0\0\1\0" >"$IMAGES/localico.ico" &&
	svc local one local.svg &&
	svc local two localbare &&
	svc local three localico &&
	barrier &&
	expect_counts /svg/local.svg 0 /svg/localbare.svg 0 /png/localbare.png 0 \
		/svg/localico.svg 0 /png/localico.png 0 /webp/localico.webp 0 &&
	wait_for "page_has tiled-group.html local.svg"
'

# --- (d) negative cache ---------------------------------------------------------------

test_expect_success PYTHON3 'a name found nowhere: each template asked once, then failed' '
	cdn_reset &&
	svc neg ghost ghost &&
	wait_for "icon_failed ghost" &&
	expect_counts /svg/ghost.svg 1 /png/ghost.png 1 /webp/ghost.webp 1 &&
	test_path_is_missing "$IMAGES/ghost.svg" &&
	test_path_is_missing "$IMAGES/ghost.png" &&
	test_path_is_missing "$IMAGES/ghost.webp"
'

test_expect_success PYTHON3 'updated 3 times (and used by another service): not asked again' '
	for i in 1 2 3; do
		svc neg ghost ghost "" "running $i" && test_jq ".status == \"updated\"" body || return 1
	done &&
	svc neg ghost-too ghost &&
	barrier &&
	expect_counts /svg/ghost.svg 1 /png/ghost.png 1 /webp/ghost.webp 1
'

test_expect_success PYTHON3 'after a restart: still remembered, not asked again' '
	stop_daemon &&
	start_daemon &&
	svc neg ghost ghost "" "restarted" && test_jq ".status == \"updated\"" body &&
	barrier &&
	expect_counts /svg/ghost.svg 1 /png/ghost.png 1 /webp/ghost.webp 1
'

test_expect_success PYTHON3 'GET /api/v1/icons: every name in use, with its file or its failure' '
	icons >icons.json &&
	test_jq ".icons | type == \"array\"" icons.json &&
	test_jq "[.icons[].name] | (length == (unique | length)) and
		(index(\"sonarr\") != null) and (index(\"ghost\") != null) and (index(\"my-app\") != null) and
		(index(\"mine.svg\") != null) and (index(\"evil.svg\") != null)" icons.json &&
	test_jq "all(.icons[]; has(\"name\") and has(\"file\") and has(\"failed_at\") and has(\"error\"))" icons.json &&
	icon ghost | test_jq ".file == null and (.failed_at | $ISO) and (.error | type == \"string\")" &&
	icon sonarr | test_jq ".file == \"sonarr.svg\" and .failed_at == null and .error == null" &&
	icon pngonly | test_jq ".file == \"pngonly.png\"" &&
	icon local.svg | test_jq ".file == \"local.svg\"" &&
	icon localbare | test_jq ".file == \"localbare.png\"" &&
	# the token is wanted
	call GET /api/v1/icons && status_is 401
'

# --- (i) refresh ---------------------------------------------------------------------------

test_expect_success PYTHON3 'refresh sonarr.svg: 202 queued, asked for once more, file kept' '
	before=$(count /svg/sonarr.svg) &&
	refresh sonarr.svg && status_is 202 &&
	test_jq ".name == \"sonarr.svg\" and .queued == true" body &&
	wait_for "test \$(count /svg/sonarr.svg) -ge $((before + 1))" &&
	barrier &&
	test "$(count /svg/sonarr.svg)" = $((before + 1)) &&
	cmp "$SAMPLES/svg/sonarr.svg" "$IMAGES/sonarr.svg"
'

test_expect_success PYTHON3 'refresh a failed name: the failure is forgotten, every template asked again' '
	refresh ghost && status_is 202 &&
	test_jq ".name == \"ghost\" and .queued == true" body &&
	wait_for "test \$(count /webp/ghost.webp) -ge 2" &&
	expect_counts /svg/ghost.svg 2 /png/ghost.png 2 /webp/ghost.webp 2 &&
	wait_for "icon_failed ghost"
'

test_expect_success PYTHON3 'refresh an icon the CDN does not have: the local file is kept' '
	refresh local.svg && status_is 202 &&
	wait_for "test \$(count /svg/local.svg) -ge 1" &&
	barrier &&
	cmp local.orig "$IMAGES/local.svg" &&
	served local.svg && test "$(cat code)" = 200 && cmp local.orig got
'

test_expect_success PYTHON3 'refresh an invalid name: 400 naming the name; no token: 401' '
	long=$(printf "%0125d" 0 | tr 0 a).svg &&
	# (no "/" or "..": decoded or normalised, they would name another route)
	for n in .hidden.svg x%01.svg sp%20ace.svg semi%3Bcolon.svg "$long"; do
		refresh "$n" && status_is 400 &&
		test_jq "(.error | type == \"string\") and (tojson | contains(\"name\"))" body ||
		{ echo "name: $n"; return 1; }
	done &&
	call POST /api/v1/icons/sonarr.svg/refresh && status_is 401
'

# --- (d) ICON_RETRY_AFTER, ICON_FETCH_TIMEOUT -------------------------------------------------

# Seconds from the last template of the first round to the first of the second.
retry_gap () {
	curl -sSf --max-time 5 "$CDN/__requests" |
		jq -e '([.[] | select(.path == "/webp/ghost.webp")][0].t) as $failed |
		([.[] | select(.path == "/svg/ghost.svg")][1].t) as $again | $again - $failed'
}

test_expect_success PYTHON3 'ICON_RETRY_AFTER=2 (fresh config): asked again only after 2 s' '
	stop_daemon &&
	use_config "$TRASH/config-retry" &&
	export ICON_RETRY_AFTER=2 ICON_FETCH_TIMEOUT=1 &&
	start_daemon &&
	cdn_reset &&
	svc neg ghost ghost &&
	wait_for "icon_failed ghost" &&
	expect_counts /svg/ghost.svg 1 /png/ghost.png 1 /webp/ghost.webp 1 &&
	# update it every 0.25 s, for at most 10 s, until it is asked for again
	for i in $(seq 40); do
		svc neg ghost ghost "" "running $i" || return 1
		test "$(count /svg/ghost.svg)" -ge 2 && break
		sleep 0.25
	done &&
	wait_for "test \$(count /svg/ghost.svg) -ge 2" 1 &&
	gap=$(retry_gap) && echo "asked again ${gap}s after it failed" &&
	# failed_at may be whole seconds: 2 s after it can be just over 1 s after the failure
	jq -e ". >= 1" <<<"$gap"
'

test_expect_success PYTHON3 'ICON_FETCH_TIMEOUT=1: a CDN that never answers fails the name in about 1 s' '
	_test_clock && t0=$_test_now &&
	svc slow hang hang.svg &&
	wait_for "icon_failed hang.svg" 5 &&
	_test_clock && ms=$(((_test_now - t0) / 1000)) && echo "failed after ${ms} ms" &&
	test "$ms" -ge 900 &&
	test_path_is_missing "$IMAGES/hang.svg"
'

test_expect_success PYTHON3 'the daemon stops cleanly; the CDN fixture stops' '
	stop_daemon &&
	kill "$cdn_pid" && { wait "$cdn_pid" || :; }
'

test_done
