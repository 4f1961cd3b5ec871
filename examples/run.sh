#!/bin/sh
# `make run`: a populated inventory in ./var for a newcomer to look at.
set -e
cd "$(dirname "$0")/.."
BIN=./build/portolan
CONFIG=${PORTOLAN_CONFIG:-./var}
export PORTOLAN_CONFIG="$CONFIG"

if [ ! -d "$CONFIG/inventory/services" ]; then
	echo "first start: importing examples/payloads/ into $CONFIG"
	$BIN import examples/payloads
fi
echo
echo "inventory store : $CONFIG/services.lmdb"
echo "inventory repo  : $CONFIG/inventory  (git -C $CONFIG/inventory log --stat)"
echo "services        : $($BIN export | jq length)"
echo
echo "try: $BIN export | jq '.[0]'"
echo "     $BIN check"
