#!/bin/bash
# A small stand-in for docker-api-notifier, for tests: read containers from
# a real Docker Engine API over its unix socket and POST each one to
# portolan's /api/v1/register, the way the notifier does.
#
#	tests/notifier.sh --socket PATH --host NAME --url BASE_URL [--token T]
#			  [--dry-run] [CONTAINER...]
#
#	--socket PATH	the Engine's unix socket (default /var/run/docker.sock)
#	--host NAME	the "host" key of every payload
#	--url BASE_URL	portolan, e.g. http://127.0.0.1:8080
#	--token T	the bearer token; else $STD_API_TOKEN, else $API_TOKEN
#	--dry-run	print the payloads (one JSON object a line), post nothing
#	CONTAINER	only these (names or ids); default every container,
#			stopped ones too (GET /containers/json?all=1)
#
# Output: one JSON line per container,
#	{"container_name": ..., "http_code": 200, "response": {...}}
# (response is the reply's JSON, or its text when it is not JSON). Exits 1
# when any register did not answer 200, 2 on a usage error.
#
# What a payload holds, from GET /containers/<id>/json:
#	container_name	Name without the leading "/"
#	container_id	Id
#	stack_name	label com.docker.compose.project
#	docker_status	State.Health.Status while running with a healthcheck,
#			else State.Status
#	started_at	State.StartedAt (null when never started)
#	image_name	Config.Image, as the container was created with it
#	internalurl, externalurl, group_name, image_icon,
#	internal/external_health_check_enabled, sort_priority
#			labels dockernotifier.std.internalurl, .externalurl,
#			.group, .icon, .internal.health, .external.health,
#			.sort.priority, forwarded as the label strings (the
#			register API coerces "true"/"10"); the URLs are sent as
#			null when unset, the others only when set
#	networks	NetworkSettings.Networks: name and aliases (without
#			the container's short id, which Docker < 26 adds)
#	exposed_ports	keys of Config.ExposedPorts ("8080/tcp")
#	published_ports	NetworkSettings.Ports bindings
#	exposure_observations
#			one per Traefik router with a rule label: layer
#			traefik, hostname from Host(`...`), tls from
#			traefik.http.routers.<r>.tls, path_prefix from
#			PathPrefix(`...`), auth null, details {router,
#			entrypoints when labelled}
#	timestamp	now (ignored by portolan)
#
# Needs bash, curl (with --unix-socket) and jq. Talks only to the unix
# socket and to BASE_URL.
set -u -o pipefail

usage () {
	sed -n '2,/^$/s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

sock=/var/run/docker.sock
host=
url=
token=${STD_API_TOKEN:-${API_TOKEN:-}}
dry_run=
while test $# -gt 0; do
	case $1 in
	--socket) test $# -ge 2 || usage; sock=$2; shift ;;
	--host) test $# -ge 2 || usage; host=$2; shift ;;
	--url) test $# -ge 2 || usage; url=${2%/}; shift ;;
	--token) test $# -ge 2 || usage; token=$2; shift ;;
	--dry-run) dry_run=1 ;;
	-h | --help) usage ;;
	--) shift; break ;;
	-*) echo "notifier: unknown option '$1'" >&2; usage ;;
	*) break ;;
	esac
	shift
done
test -n "$host" || { echo "notifier: --host is required" >&2; usage; }
if test -z "$dry_run"; then
	test -n "$url" || { echo "notifier: --url is required" >&2; usage; }
	test -n "$token" || { echo "notifier: no token (--token, STD_API_TOKEN or API_TOKEN)" >&2; exit 2; }
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/notifier.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
umask 077

# GET path from the Engine API into file $2; fails on any non-2xx.
engine_get () {
	curl -sS --fail --noproxy '*' --max-time 30 --unix-socket "$sock" \
		-o "$2" "http://docker$1"
}

# Inspect JSON (stdin) → register payload (stdout). $host via --arg.
# shellcheck disable=SC2016
payload_jq='
def lbl($k): (.Config.Labels // {})[$k];
def std($k): lbl("dockernotifier.std." + $k);
def routers:
	(.Config.Labels // {}) | keys[]
	| capture("^traefik\\.http\\.routers\\.(?<r>[^.]+)\\.rule$").r;
def first_capture($re; $name): ([capture($re) | .[$name]] | first) // null;
. as $c
| (.Id[0:12]) as $short
| {
	host: $host,
	container_name: (.Name | ltrimstr("/")),
	container_id: .Id,
	stack_name: lbl("com.docker.compose.project"),
	docker_status: (if .State.Status == "running" and (.State.Health | type) == "object"
		then .State.Health.Status else .State.Status end),
	started_at: (.State.StartedAt
		| if . == null or . == "" or startswith("0001-") then null else . end),
	image_name: .Config.Image,
	timestamp: (now | strftime("%Y-%m-%dT%H:%M:%S")),
	internalurl: std("internalurl"),
	externalurl: std("externalurl")
}
+ ({
	group_name: std("group"),
	image_icon: std("icon"),
	internal_health_check_enabled: std("internal.health"),
	external_health_check_enabled: std("external.health"),
	sort_priority: std("sort.priority")
} | with_entries(select(.value != null)))
+ {
	networks: [(.NetworkSettings.Networks // {}) | to_entries[]
		| {name: .key,
		   aliases: [(.value.Aliases // [])[] | select(. != $short)]}],
	exposed_ports: ((.Config.ExposedPorts // {}) | keys),
	published_ports: [(.NetworkSettings.Ports // {}) | to_entries[]
		| (.key | split("/")) as $p
		| (.value // [])[]
		| {container_port: ($p[0] | tonumber), protocol: $p[1],
		   host_ip: .HostIp, host_port: (.HostPort | tonumber)}],
	exposure_observations: [$c | routers as $r
		| ($c | lbl("traefik.http.routers." + $r + ".rule")) as $rule
		| ($c | lbl("traefik.http.routers." + $r + ".tls")) as $tls
		| ($c | lbl("traefik.http.routers." + $r + ".entrypoints")) as $ep
		| {layer: "traefik",
		   hostname: ($rule | first_capture("Host\\(`(?<v>[^`]+)`\\)"; "v")),
		   tls: (($tls // "false") | ascii_downcase == "true"),
		   path_prefix: ($rule | first_capture("PathPrefix\\(`(?<v>[^`]+)`\\)"; "v")),
		   auth: null,
		   details: ({router: $r}
			+ (if $ep then {entrypoints: ($ep | split(","))} else {} end))}]
}
'

engine_get "/containers/json?all=1" "$tmp/list.json" || {
	echo "notifier: cannot list containers on $sock" >&2
	exit 1
}
if test $# -gt 0; then
	ids=("$@")
else
	mapfile -t ids < <(jq -r '.[].Id' "$tmp/list.json") || exit 1
fi

if test -z "$dry_run"; then
	printf 'Authorization: Bearer %s\n' "$token" >"$tmp/auth"
fi

rc=0
for id in "${ids[@]}"; do
	if ! engine_get "/containers/$id/json" "$tmp/inspect.json"; then
		echo "notifier: cannot inspect container '$id'" >&2
		rc=1
		continue
	fi
	jq -c --arg host "$host" "$payload_jq" "$tmp/inspect.json" >"$tmp/payload.json" || {
		echo "notifier: cannot build the payload of '$id'" >&2
		rc=1
		continue
	}
	if test -n "$dry_run"; then
		cat "$tmp/payload.json"
		continue
	fi
	name=$(jq -r .container_name "$tmp/payload.json")
	: >"$tmp/reply"
	code=$(curl -sS --noproxy '*' --max-time 30 -o "$tmp/reply" -w '%{http_code}' \
		-H @"$tmp/auth" -H 'Content-Type: application/json' \
		--data-binary @"$tmp/payload.json" "$url/api/v1/register") || code=000
	if ! jq -e . "$tmp/reply" >/dev/null 2>&1; then
		jq -Rs . "$tmp/reply" >"$tmp/reply.json"
		mv "$tmp/reply.json" "$tmp/reply"
	fi
	jq -cn --arg name "$name" --argjson code "$code" --slurpfile r "$tmp/reply" \
		'{container_name: $name, http_code: $code, response: $r[0]}'
	test "$code" = 200 || rc=1
done
exit $rc
