#!/bin/sh
# `make run`: a populated inventory in ./var and the daemon in the foreground.
set -e
cd "$(dirname "$0")/.."
BIN=./build/portolan
CONFIG=${PORTOLAN_CONFIG:-./var}
LISTEN=${LISTEN:-127.0.0.1:8815}
export PORTOLAN_CONFIG="$CONFIG"

if [ ! -d "$CONFIG/inventory/services" ]; then
	echo "first start: importing examples/payloads/ into $CONFIG"
	$BIN import examples/payloads
fi
cat <<MSG

portolan on http://$LISTEN/  (config dir: $CONFIG, Ctrl-C stops it)
  dashboards     : http://$LISTEN/ (table)  /tiled_dash  /compact_dash  (static files in $CONFIG/site)
  inventory repo : $CONFIG/inventory   (git -C $CONFIG/inventory log --stat)
  API token      : printed below on the first start; kept in $CONFIG/api_token
  try            : curl -H "Authorization: Bearer \$(cat $CONFIG/api_token)" http://$LISTEN/api/v1/services | jq length
  web UI login   : http://$LISTEN/login  user admin, password changeme123 on the first start
                   (you choose a new one right after; portolan user passwd admin resets it)

MSG
exec $BIN serve --listen "$LISTEN"
