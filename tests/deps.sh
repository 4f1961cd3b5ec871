#!/bin/sh
# Install exactly what is missing from Debian's packages. Idempotent: a
# machine that has everything runs no apt at all.
set -e

PKGS="build-essential pkg-config git jq curl perl lmdb-utils clang
libgit2-dev libyaml-dev libmicrohttpd-dev libcurl4-openssl-dev libcmark-dev
liblmdb-dev libjansson-dev libsodium-dev libcmocka-dev libdeflate-dev docker.io busybox-static
wrk python3 chromium nginx rsync syncthing"
# The browser tests' node: the machine's own when it has one (any >= 18),
# else Debian's.
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		SUDO=sudo
	else
		SUDO=
	fi
	echo "deps: installing:$missing"
	$SUDO apt-get -o DPkg::Lock::Timeout=600 update -q
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends $missing
	echo "deps: done"
fi

# tests/browser: playwright-core (drives /usr/bin/chromium; downloads no
# browser), exactly as package-lock.json says; again only when the lock
# file changed since the last install.
browser=$(dirname "$0")/browser
stamp=$browser/node_modules/.portolan-lock.sha256
want=$(sha256sum "$browser/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
	echo "deps: npm ci in $browser"
	(cd "$browser" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
	echo "$want" >"$stamp"
fi
