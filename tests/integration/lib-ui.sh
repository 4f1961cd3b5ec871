# Helpers for the web UI tests (sourced after lib.sh): curl with a cookie
# jar per user, the status, headers and body of the last request in the
# files status, headers and body.

# http JAR METHOD PATH [curl args...]: one request with the cookies of the
# jar file JAR ("-": none), which keeps the cookies the reply sets; the
# reply's body in ./body, its headers in ./headers, its status in ./status.
http () {
	local jar=$1 method=$2 path=$3
	shift 3
	if test "$jar" != -; then
		set -- -b "$jar" -c "$jar" "$@"
	fi
	curl -sS --max-time 20 -o body -D headers -w "%{http_code}\n" -X "$method" "$@" \
		"$BASE_URL$path" >status
}

# post_form JAR PATH NAME=VALUE...: POST the fields urlencoded, as a form.
post_form () {
	local jar=$1 path=$2 kv args=()
	shift 2
	for kv in "$@"; do
		args+=(--data-urlencode "$kv")
	done
	http "$jar" POST "$path" "${args[@]}"
}

# login USER PASSWORD [NEXT]: log in with a fresh jar ./USER.jar; 303 expected.
login () {
	rm -f "$1.jar" &&
	post_form "$1.jar" /login "username=$1" "password=$2" "next=${3-/}" &&
	status_is 303
}

# csrf_of JAR: the session's CSRF token, from /api/v1/me.
csrf_of () {
	curl -sSf -b "$1" "$BASE_URL/api/v1/me" >me.json && jq -re .csrf_token me.json
}

status_is () {
	test "$(cat status)" = "$1" && return 0
	echo "status_is: got HTTP $(cat status), wanted $1; headers and body:" >&2
	cat headers body >&2
	return 1
}

# header NAME: the value of reply header NAME (from ./headers), CR removed.
header () {
	sed -n "s/^$1: //Ip" headers | tr -d '\r'
}

location_is () {
	local got
	got=$(header Location)
	test "$got" = "$1" && return 0
	echo "location_is: got '$got', wanted '$1'" >&2
	return 1
}
