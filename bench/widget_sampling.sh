#!/bin/bash
# Widget sampling (issue: widgets): 500 sonarr widgets of 3 requests each,
# 450 answered by nginx on loopback (static bodies shaped like Sonarr's
# API) and 50 by a server that accepts and never answers; target: a round
# takes <= WIDGET_TIMEOUT + 2 s and <= 1 CPU-second. The daemon's own
# measure of its last round (portolan_widget_round_seconds and
# _cpu_seconds on /metrics) is reported.
# usage: widget_sampling.sh BUILD_DIR SCRATCH_DIR
set -e
BUILD=$1
DIR=$2
BIN=$(realpath "$BUILD/portolan")
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
if [ ! -x "$NGINX" ]; then
	echo "nginx is not installed (make deps installs it): skipped"
	exit 0
fi
mkdir -p "$DIR/www/sonarr/api/v3/wanted" "$DIR/ngx/tmp"
export API_TOKEN=bench-token-0123456789abcdef ICON_SOURCES=none WIDGET_TIMEOUT=3
AUTH="Authorization: Bearer $API_TOKEN"
free_port () { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port) nport=$(free_port) sport=$(free_port)
URL=http://127.0.0.1:$port

echo '{"page":1,"pageSize":10,"sortKey":"airDateUtc","sortDirection":"descending","totalRecords":17,"records":[]}' \
	>"$DIR/www/sonarr/api/v3/wanted/missing"
echo '{"page":1,"pageSize":10,"totalRecords":3,"records":[]}' >"$DIR/www/sonarr/api/v3/queue"
echo '[{"id":1,"title":"A"},{"id":2,"title":"B"},{"id":3,"title":"C"},{"id":4,"title":"D"}]' \
	>"$DIR/www/sonarr/api/v3/series"
{
	if [ "$(id -u)" = 0 ]; then echo "user root;"; fi
	cat <<EOF
worker_processes 1;
pid $DIR/ngx/nginx.pid;
error_log $DIR/ngx/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	default_type application/json;
	client_body_temp_path $DIR/ngx/tmp/body;
	proxy_temp_path $DIR/ngx/tmp/proxy;
	fastcgi_temp_path $DIR/ngx/tmp/fastcgi;
	uwsgi_temp_path $DIR/ngx/tmp/uwsgi;
	scgi_temp_path $DIR/ngx/tmp/scgi;
	server { listen 127.0.0.1:$nport; root $DIR/www; }
}
EOF
} >"$DIR/ngx/nginx.conf"
"$NGINX" -p "$DIR/ngx/" -c "$DIR/ngx/nginx.conf" -g "daemon off;" 2>>"$DIR/ngx/stderr" &
ngx=$!
python3 -c "
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $sport)); s.listen(512)
held = []
while True:
    c, _ = s.accept(); held.append(c)
" &
silent=$!
trap 'kill $ngx $silent 2>/dev/null; kill $pid 2>/dev/null; wait 2>/dev/null' EXIT

python3 - "$DIR/seed.json" <<'PY'
import json, sys
out = [{"host": "bench%d" % (i % 4), "container_name": "svc-%05d" % i,
        "image_name": "ghcr.io/ex/app:1.0"} for i in range(500)]
json.dump(out, open(sys.argv[1], "w"))
PY
"$BIN" --config "$DIR/c" import "$DIR/seed.json" >/dev/null
"$BIN" --config "$DIR/c" serve --listen 127.0.0.1:$port >"$DIR/serve.log" 2>&1 &
pid=$!
until curl -sf "$URL/healthz" >/dev/null; do sleep 0.05; done
until curl -sf "http://127.0.0.1:$nport/sonarr/api/v3/queue" >/dev/null; do sleep 0.05; done

# every service gets a widget; 50 of them point at the silent server
for id in $(seq 1 500); do
	if [ $((id % 10)) = 0 ]; then base=http://127.0.0.1:$sport/sonarr; else base=http://127.0.0.1:$nport/sonarr; fi
	printf '{"widget": {"type": "sonarr", "url": "%s", "api_key": "bench-key-%d"}}\n' "$base" "$id" >"$DIR/patch.json"
	curl -sf -o /dev/null -X PATCH -H "$AUTH" --data-binary @"$DIR/patch.json" "$URL/api/v1/services/$id"
done
metric () { curl -sf "$URL/metrics" | sed -n "s/^$1 //p"; }
# let the rounds the configuring caused finish, then time a clean one
settled=""
while [ "$settled" != "$(metric portolan_widget_rounds_total)" ]; do
	settled=$(metric portolan_widget_rounds_total)
	sleep $((WIDGET_TIMEOUT + 2))
done
before=$(metric portolan_widget_rounds_total)
curl -sf -o /dev/null -X PATCH -H "$AUTH" --data-binary @"$DIR/patch.json" "$URL/api/v1/services/500"
while [ "$(metric portolan_widget_rounds_total)" = "$before" ]; do sleep 0.1; done
ok=$(curl -sf -H "$AUTH" "$URL/api/v1/services/1/widget" | jq '.fields.wanted.value')
echo "one round, 500 widgets x 3 requests (50 never answering), WIDGET_TIMEOUT=$WIDGET_TIMEOUT:" \
	"$(metric portolan_widget_round_seconds) s wall (target <= $((WIDGET_TIMEOUT + 2)) s)," \
	"$(metric portolan_widget_round_cpu_seconds) CPU-s (target <= 1); wanted of service 1 = $ok"
echo "LMDB data file: $(du -k "$DIR/c/services.lmdb/data.mdb" | cut -f1) KiB"
