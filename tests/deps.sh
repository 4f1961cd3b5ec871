#!/bin/sh
# Install exactly what is missing from Debian's packages. Idempotent: a
# machine that has everything runs no apt at all.
set -e

PKGS="build-essential pkg-config git jq curl perl lmdb-utils clang
libgit2-dev libyaml-dev libmicrohttpd-dev libcurl4-openssl-dev libcmark-dev
liblmdb-dev libjansson-dev libsodium-dev libcmocka-dev libdeflate-dev docker.io busybox-static
wrk python3"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
echo "deps: installing:$missing"
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends $missing
echo "deps: done"
