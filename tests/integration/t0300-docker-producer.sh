#!/bin/bash
test_description='a real producer: containers of a real dockerd, registered by tests/notifier.sh

Starts its own dockerd (root only) on a unix socket under $TRASH, in its
own network and mount namespaces so that neither its bridges nor its
overlay mounts reach the host, builds a busybox image with docker import,
creates containers labelled the way docker-api-notifier reads them, and
checks that every registration lands in portolan exactly as the labels say.'
. "$(dirname "$0")/lib.sh"

NOTIFIER=$REPO/tests/notifier.sh
DK=$TRASH/docker
DOCKER_SOCK=$DK/docker.sock
INV=$DAEMON_CONFIG/inventory
TOKEN=t0300-token-$$
DOCKERD_PID=
DOCKERD_MNTNS=

# busybox-static: the image is just /bin/busybox, so it must not need ld.so.
busybox_static () {
	local bb
	bb=$(command -v busybox) || return 1
	LC_ALL=C ldd "$bb" 2>&1 | grep -qE 'not a dynamic executable|statically linked'
}

if test "$(id -u)" != 0; then
	skip_all='dockerd needs root'
elif ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
	skip_all='dockerd is not installed (package docker.io)'
elif ! busybox_static; then
	skip_all='no static busybox (package busybox-static)'
elif ! command -v unshare >/dev/null; then
	skip_all='no unshare (util-linux)'
fi
if test -n "${skip_all-}"; then
	test_done
fi

dk () {
	docker -H "unix://$DOCKER_SOCK" "$@"
}

notify () {
	"$NOTIFIER" --socket "$DOCKER_SOCK" --host dockerhost --url "$BASE_URL" \
		--token "$TOKEN" "$@"
}

# GET /api/v1/services/<id of container $1> into file $2.
get_service () {
	local id
	id=$(jq -r --arg n "$1" 'select(.container_name == $n) | .response.id' first.jsonl) &&
	test -n "$id" && test "$id" != null &&
	curl -sSf -H "Authorization: Bearer $TOKEN" "$BASE_URL/api/v1/services/$id" >"$2"
}

# The git mirror commits asynchronously (debounced): true once it has
# caught up with every change in the journal.
mirror_idle () {
	curl -sSf "$BASE_URL/healthz" | jq -e ".journal_lag == 0"
}

# Processes in dockerd's mount namespace: dockerd, containerd, shims,
# docker-proxy, container processes. Never the host's own namespace.
dockerd_ns_pids () {
	local p
	test -n "$DOCKERD_MNTNS" || return 0
	test "$DOCKERD_MNTNS" != "$(readlink /proc/$$/ns/mnt)" || return 0
	for p in /proc/[0-9]*; do
		test "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$DOCKERD_MNTNS" &&
			echo "${p#/proc/}"
	done
	return 0
}

# Containers first (so their mounts go), then dockerd by pid; whatever is
# left in its namespace after that is killed by pid. The namespace and its
# overlay mounts vanish with its last process.
stop_dockerd () {
	local i p
	test -n "$DOCKERD_PID" || return 0
	if _test_pid_alive "$DOCKERD_PID"; then
		test -n "$DOCKERD_MNTNS" ||
			DOCKERD_MNTNS=$(readlink "/proc/$DOCKERD_PID/ns/mnt")
		dk ps -aq | xargs -r docker -H "unix://$DOCKER_SOCK" rm -f >/dev/null 2>&1
		kill -TERM "$DOCKERD_PID" 2>/dev/null
		for ((i = 0; i < 200; i++)); do
			_test_pid_alive "$DOCKERD_PID" || break
			sleep 0.05
		done
		_test_pid_alive "$DOCKERD_PID" && kill -KILL "$DOCKERD_PID" 2>/dev/null
	fi
	wait "$DOCKERD_PID" 2>/dev/null
	DOCKERD_PID=
	for ((i = 0; i < 100; i++)); do
		test -n "$(dockerd_ns_pids)" || break
		sleep 0.05
	done
	for p in $(dockerd_ns_pids); do
		kill -KILL "$p" 2>/dev/null
	done
	return 0
}

# Also when the script dies between tests: chain in front of lib.sh's trap.
trap '_t0300_rc=$?; stop_dockerd >/dev/null 2>&1; (exit $_t0300_rc); _test_exit_trap' EXIT

test_expect_success 'dockerd starts on its own socket, network and mount namespaces' '
	mkdir -p "$DK" &&
	printf "{\"deprecated-key-path\": \"%s\"}\n" "$DK/key.json" >"$DK/daemon.json" ||
		return 1
	# A simple command in the background: $! is unshare, which execs sh,
	# which execs dockerd.
	unshare --net --mount --propagation private -- /bin/sh -c "
		mount -n -t tmpfs -o mode=0755 portolan-t0300 /run &&
		busybox ip link set lo up &&
		exec dockerd --config-file \"$DK/daemon.json\" \
			--host \"unix://$DOCKER_SOCK\" \
			--data-root \"$DK/root\" --exec-root \"$DK/exec\" \
			--pidfile \"$DK/dockerd.pid\" \
			--iptables=false --ip6tables=false" \
		</dev/null >"$DK/dockerd.log" 2>&1 &
	DOCKERD_PID=$! &&
	if ! wait_for "dk info" 60; then
		cat "$DK/dockerd.log"
		false
	fi &&
	test "$(cat "$DK/dockerd.pid")" = "$DOCKERD_PID" &&
	DOCKERD_MNTNS=$(readlink "/proc/$DOCKERD_PID/ns/mnt") &&
	test "$DOCKERD_MNTNS" != "$(readlink /proc/self/ns/mnt)" &&
	test "$(readlink "/proc/$DOCKERD_PID/ns/net")" != "$(readlink /proc/self/ns/net)"
'

test_expect_success 'a busybox image from docker import, under three names' '
	mkdir -p img/bin &&
	cp "$(command -v busybox)" img/bin/busybox &&
	for a in sh sleep true; do
		ln -s busybox "img/bin/$a" || return 1
	done &&
	tar -C img -cf img.tar . &&
	dk import img.tar registry.example:5000/tools/busybox:1.36 &&
	dk tag registry.example:5000/tools/busybox:1.36 busybox:latest &&
	dk tag registry.example:5000/tools/busybox:1.36 ghcr.io/acme/tools/busybox:2024.1 &&
	dk image ls --format "{{.Repository}}:{{.Tag}}" | sort >actual &&
	cat >expect <<-\EOF &&
	busybox:latest
	ghcr.io/acme/tools/busybox:2024.1
	registry.example:5000/tools/busybox:1.36
	EOF
	test_cmp expect actual
'

test_expect_success 'containers labelled for the notifier: running, healthy, exited, created' '
	dk network create demo_default &&
	dk run -d --name web --network demo_default --network-alias web \
		-p 127.0.0.1:18080:8080 --expose 9000/udp \
		-l com.docker.compose.project=demo \
		-l dockernotifier.std.internalurl=http://web:8080 \
		-l dockernotifier.std.externalurl=https://web.example.com/app \
		-l dockernotifier.std.group=Media \
		-l dockernotifier.std.icon=web.svg \
		-l dockernotifier.std.sort.priority=10 \
		-l dockernotifier.std.internal.health=true \
		-l dockernotifier.std.external.health=false \
		-l traefik.enable=true \
		-l "traefik.http.routers.web.rule=Host(\`web.example.com\`)" \
		-l traefik.http.routers.web.tls=true \
		-l traefik.http.routers.web.entrypoints=websecure \
		-l "traefik.http.routers.web-app.rule=Host(\`web.example.com\`) && PathPrefix(\`/app/\`)" \
		-l traefik.http.routers.web-app.entrypoints=web \
		registry.example:5000/tools/busybox:1.36 sleep 3600 &&
	dk run -d --name api --network demo_default \
		--health-cmd true --health-interval 1s --health-retries 1 \
		-l com.docker.compose.project=demo \
		-l dockernotifier.std.group=Infrastructure \
		-l "traefik.http.routers.api.rule=Host(\`api.lab.example\`)" \
		-l traefik.http.routers.api.tls=TRUE \
		busybox sleep 3600 &&
	dk run -d --name job --network none \
		-l com.docker.compose.project=batch \
		-l dockernotifier.std.group=Jobs \
		-l dockernotifier.std.internal.health=false \
		ghcr.io/acme/tools/busybox:2024.1 sh -c "exit 3" &&
	test "$(dk wait job)" = 3 &&
	dk create --name bare --network none busybox sleep 1 &&
	wait_for "test \"\$(dk inspect -f {{.State.Health.Status}} api)\" = healthy" 30 &&
	dk ps -a --format "{{.Names}} {{.State}}" | sort >actual &&
	cat >expect <<-\EOF &&
	api running
	bare created
	job exited
	web running
	EOF
	test_cmp expect actual
'

test_expect_success 'the notifier builds its payloads from the Engine API' '
	"$NOTIFIER" --socket "$DOCKER_SOCK" --host dockerhost --dry-run >payloads.jsonl &&
	test "$(wc -l <payloads.jsonl)" = 4 &&
	jq -s "map({(.container_name): del(.timestamp)}) | add" payloads.jsonl >payloads.json &&
	test_jq ".web.container_id == \"$(dk inspect -f {{.Id}} web)\"" payloads.json &&
	test_jq ".web.started_at == \"$(dk inspect -f {{.State.StartedAt}} web)\"" payloads.json &&
	test_jq ".web.networks == [{name: \"demo_default\", aliases: [\"web\"]}]" payloads.json &&
	test_jq ".web.exposed_ports == [\"8080/tcp\", \"9000/udp\"]" payloads.json &&
	test_jq ".web.published_ports == [{container_port: 8080, protocol: \"tcp\", host_ip: \"127.0.0.1\", host_port: 18080}]" payloads.json &&
	test_jq ".api.docker_status == \"healthy\" and .job.docker_status == \"exited\" and .bare.docker_status == \"created\"" payloads.json &&
	test_jq ".bare.started_at == null and .bare.networks == [{name: \"none\", aliases: []}]" payloads.json &&
	test_jq ".bare | has(\"group_name\") | not" payloads.json
'

test_expect_success 'portolan serve starts' '
	API_TOKEN=$TOKEN start_daemon
'

test_expect_success 'a wrong token registers nothing' '
	test_must_fail "$NOTIFIER" --socket "$DOCKER_SOCK" --host dockerhost \
		--url "$BASE_URL" --token wrong-token >out &&
	test "$(jq -s "map(select(.http_code == 401 and .response.error == \"Unauthorized\")) | length" out)" = 4 &&
	curl -sSf -H "Authorization: Bearer $TOKEN" "$BASE_URL/api/v1/services" >list &&
	test_jq "length == 0" list
'

test_expect_success 'the notifier registers all four containers: created' '
	notify >first.jsonl &&
	test "$(wc -l <first.jsonl)" = 4 &&
	jq -r ".container_name + \" \" + (.http_code | tostring) + \" \" + .response.status" first.jsonl |
		sort >actual &&
	printf "%s\n" "api 200 created" "bare 200 created" "job 200 created" "web 200 created" >expect &&
	test_cmp expect actual &&
	curl -sSf -H "Authorization: Bearer $TOKEN" "$BASE_URL/api/v1/services?host=dockerhost" >list &&
	test_jq "map(.container_name) | sort == [\"api\", \"bare\", \"job\", \"web\"]" list
'

test_expect_success 'web: every label and every Engine fact landed' '
	get_service web web.json &&
	test_jq ".host == \"dockerhost\" and .container_name == \"web\" and .is_static == false" web.json &&
	test_jq ".stack_name == \"demo\" and .docker_status == \"running\"" web.json &&
	test_jq ".container_id == \"$(dk inspect -f {{.Id}} web)\"" web.json &&
	test_jq ".started_at == \"$(dk inspect -f {{.State.StartedAt}} web)\"" web.json &&
	test_jq ".internalurl == \"http://web:8080\" and .internalurl_source == \"explicit_label\"" web.json &&
	test_jq ".externalurl == \"https://web.example.com/app\" and .externalurl_source == \"explicit_label\"" web.json &&
	test_jq ".group_name == \"Media\" and .notifier_reported_group_name == \"Media\"" web.json &&
	test_jq ".sort_priority == 10 and .notifier_reported_sort_priority == 10" web.json &&
	test_jq ".internal_health_check_enabled == true and .external_health_check_enabled == false" web.json &&
	test_jq ".image_icon == \"web.svg\"" web.json &&
	test_jq ".image_registry == \"registry.example:5000\" and .image_owner == \"tools\" and .image_name == \"busybox\" and .image_tag == \"1.36\" and .image_digest == null" web.json &&
	test_jq ".networks == [{name: \"demo_default\", aliases: [\"web\"]}]" web.json &&
	test_jq ".exposed_ports == [\"8080/tcp\", \"9000/udp\"]" web.json &&
	test_jq ".published_ports == [{container_port: 8080, protocol: \"tcp\", host_ip: \"127.0.0.1\", host_port: 18080}]" web.json &&
	cat >expect <<-\EOF &&
	[
	  {
	    "layer": "traefik",
	    "hostname": "web.example.com",
	    "tls": false,
	    "path_prefix": "/app/",
	    "auth": null,
	    "details": {
	      "router": "web-app",
	      "entrypoints": [
	        "web"
	      ]
	    }
	  },
	  {
	    "layer": "traefik",
	    "hostname": "web.example.com",
	    "tls": true,
	    "path_prefix": null,
	    "auth": null,
	    "details": {
	      "router": "web",
	      "entrypoints": [
	        "websecure"
	      ]
	    }
	  }
	]
	EOF
	jq .exposure_observations web.json >actual &&
	test_cmp expect actual
'

test_expect_success 'api: healthy, Docker Hub image, one traefik observation, no URL yet' '
	get_service api api.json &&
	test_jq ".docker_status == \"healthy\" and .stack_name == \"demo\"" api.json &&
	test_jq ".image_registry == \"docker.io\" and .image_owner == \"library\" and .image_name == \"busybox\" and .image_tag == \"latest\"" api.json &&
	test_jq ".group_name == \"Infrastructure\" and .sort_priority == null" api.json &&
	test_jq ".internalurl == null and .externalurl == null" api.json &&
	test_jq ".internalurl_source == null and .externalurl_source == null" api.json &&
	test_jq ".internal_health_check_enabled == false and .external_health_check_enabled == false" api.json &&
	test_jq ".exposed_ports == [] and .published_ports == []" api.json &&
	test_jq ".exposure_observations == [{layer: \"traefik\", hostname: \"api.lab.example\", tls: true, path_prefix: null, auth: null, details: {router: \"api\"}}]" api.json
'

test_expect_success 'job: exited, nested owner, no network' '
	get_service job job.json &&
	test_jq ".docker_status == \"exited\" and .stack_name == \"batch\" and .group_name == \"Jobs\"" job.json &&
	test_jq ".started_at == \"$(dk inspect -f {{.State.StartedAt}} job)\"" job.json &&
	test_jq ".internal_health_check_enabled == false" job.json &&
	test_jq ".image_registry == \"ghcr.io\" and .image_owner == \"acme/tools\" and .image_name == \"busybox\" and .image_tag == \"2024.1\"" job.json &&
	test_jq ".networks == [{name: \"none\", aliases: []}]" job.json &&
	test_jq "(.exposure_observations // []) == []" job.json
'

test_expect_success 'bare: created, no labels, nothing invented' '
	get_service bare bare.json &&
	test_jq ".docker_status == \"created\" and .started_at == null and .stack_name == null" bare.json &&
	test_jq ".group_name == null and .sort_priority == null" bare.json &&
	test_jq ".internalurl == null and .externalurl == null" bare.json
'

test_expect_success 'every payload value is in the record as sent' '
	for n in web api job bare; do
		get_service $n rec.json &&
		jq -c --arg n $n "select(.container_name == \$n)
			| del(.timestamp, .image_name, .sort_priority,
			      .internal_health_check_enabled, .external_health_check_enabled)
			| if .exposure_observations == [] then del(.exposure_observations) else . end" \
			payloads.jsonl >sent.json &&
		jq -n --slurpfile s sent.json --slurpfile r rec.json \
			"[\$s[0] | to_entries[] | select(\$r[0][.key] != .value)
			  | {key, sent: .value, stored: \$r[0][.key]}]" >diff.json &&
		test_jq ". == []" diff.json || return 1
	done
'

test_expect_success 'traefik as external: the api URL is synthesized, labels still win' '
	curl -sSf -X PUT -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
		--data "{\"layers\": {\"traefik\": \"external\"}}" \
		"$BASE_URL/api/v1/settings/exposure" >out &&
	get_service api api.json &&
	test_jq ".externalurl == \"https://api.lab.example/\" and .externalurl_source == \"synthesized\"" api.json &&
	test_jq ".internalurl == null" api.json &&
	get_service web web.json &&
	test_jq ".externalurl == \"https://web.example.com/app\" and .externalurl_source == \"explicit_label\"" web.json &&
	get_service job job.json &&
	test_jq ".externalurl == null and .externalurl_source == null" job.json
'

test_expect_success 'a second notifier run: unchanged everywhere, no commit' '
	wait_for mirror_idle 10 &&
	git -C "$INV" rev-parse HEAD >before &&
	notify >second.jsonl &&
	curl -sSf "$BASE_URL/healthz" >healthz &&
	test_jq ".journal_lag == 0" healthz &&
	jq -r ".container_name + \" \" + (.http_code | tostring) + \" \" + .response.status" second.jsonl |
		sort >actual &&
	printf "%s\n" "api 200 unchanged" "bare 200 unchanged" "job 200 unchanged" "web 200 unchanged" >expect &&
	test_cmp expect actual &&
	wait_for mirror_idle 10 &&
	git -C "$INV" rev-parse HEAD >after &&
	test_cmp before after &&
	get_service api api.json &&
	test_jq ".externalurl == \"https://api.lab.example/\" and .externalurl_source == \"synthesized\"" api.json
'

test_expect_success 'a killed container is re-registered as exited, its labels kept' '
	dk kill web &&
	wait_for "test \"\$(dk inspect -f {{.State.Status}} web)\" = exited" 10 &&
	notify web >out &&
	test_jq ".http_code == 200 and .response.status == \"updated\"" out &&
	get_service web web.json &&
	test_jq ".docker_status == \"exited\"" web.json &&
	test_jq ".externalurl == \"https://web.example.com/app\" and .internalurl == \"http://web:8080\"" web.json &&
	test_jq ".published_ports == [] and .exposed_ports == [\"8080/tcp\", \"9000/udp\"]" web.json
'

test_expect_success 'portolan stops cleanly' '
	stop_daemon
'

test_expect_success 'dockerd stops; nothing is left running or mounted' '
	stop_dockerd &&
	test -z "$(dockerd_ns_pids)" &&
	! grep -F "$TRASH" /proc/self/mountinfo &&
	rm -rf "$DK" &&
	test_path_is_missing "$DK"
'

test_done
