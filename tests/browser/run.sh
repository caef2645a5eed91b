#!/bin/bash
# Browser tests of the web interfaces: Debian's headless Chromium, driven by playwright-core:
# render.test.mjs (each flow component, from fixed challenges), flow.test.mjs and oauth2.test.mjs
# (real flows against a stack that scripts/stack.sh started), admin.test.mjs (the admin
# interface) and user.test.mjs (the user interface) against the same stack.
#
#   tests/browser/run.sh STATE_DIR
#
# STATE_DIR/routers names the routers and their ports (lighttpd is preferred), STATE_DIR/stack.env
# the PostgreSQL port and password the tests use to make their users and flows. Screenshots go
# to ${B:-build}/test-output/browser/. Exit status: 0 all passed, 1 a test failed, 2 no stack.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
S=${1:-}
if [ -z "$S" ] || [ ! -f "$S/stack.env" ] || [ ! -f "$S/routers" ]; then
	echo "browser: usage: run.sh STATE_DIR (a folder made by scripts/stack.sh start)" >&2
	exit 2
fi
S=$(cd "$S" && pwd)

# stack.env is KEY=value lines; read only the keys needed instead of sourcing it.
env_value() { sed -n "s/^$1=//p" "$S/stack.env" | head -n 1; }
PG_PORT=$(env_value PG_PORT)
PG_PASSWORD=$(env_value PG_PASSWORD)
REDIS_PASSWORD=$(env_value REDIS_PASSWORD)
if [ -z "$PG_PORT" ] || [ -z "$PG_PASSWORD" ]; then
	echo "browser: $S/stack.env lacks PG_PORT/PG_PASSWORD" >&2
	exit 2
fi

port=$(awk '$1 == "lighttpd" { print $2; exit }' "$S/routers")
[ -n "$port" ] || port=$(awk 'NF == 2 { print $2; exit }' "$S/routers")
[ -n "$port" ] || { echo "browser: no router listed in $S/routers" >&2; exit 2; }

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "browser: $CHROMIUM not found (set CHROMIUM)" >&2; exit 2; }

OUT=$ROOT/${B:-build}/test-output/browser
mkdir -p "$OUT"

if [ ! -d "$HERE/node_modules/playwright-core" ]; then
	(cd "$HERE" && npm ci --no-audit --no-fund) || { echo "browser: npm ci failed" >&2; exit 2; }
fi

export CU_BROWSER_BASE="http://127.0.0.1:$port"
export CU_BROWSER_OUT=$OUT
CU_BROWSER_ROUTERS=$(awk 'NF == 2 { printf "%s=%s ", $1, $2 }' "$S/routers")
export CU_BROWSER_ROUTERS
export CU_BROWSER_CHROMIUM=$CHROMIUM
export PGHOST=$S/run/pg PGPORT=$PG_PORT PGUSER=custos PGDATABASE=custos PGPASSWORD=$PG_PASSWORD
export CU_BROWSER_REDIS_SOCKET=$S/run/redis/redis.sock REDISCLI_AUTH=$REDIS_PASSWORD
# The renderers against fixed challenges first (they need no stack), then the flows end to end.
status=0
node "$HERE/render.test.mjs" || status=1
node "$HERE/flow.test.mjs" || status=1
node "$HERE/oauth2.test.mjs" || status=1
node "$HERE/admin.test.mjs" || status=1
node "$HERE/user.test.mjs" || status=1
exit $status
