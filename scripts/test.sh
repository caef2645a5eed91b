#!/bin/bash
# make test: lint, unit tests, fuzz corpora replay, then the integration tests against a stack
# of its own (PostgreSQL, Redis, lighttpd and both Apache variants on free loopback ports in a
# temporary folder), stopped at the end whatever happened.
#
# For a quicker loop while working on one part:
#   CU_TEST_STEPS="integration"       only these steps (lint unit fuzz integration browser)
#   CU_TEST_ROUTERS="lighttpd"        only these routers in the stack
#   PYTEST_ARGS="tests/integration/test_flows.py -x"   what pytest runs
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export B=${B:-build}
SAN=${SAN:-0}
status=0

STEPS=${CU_TEST_STEPS:-lint unit fuzz integration browser}
ROUTERS=${CU_TEST_ROUTERS:-lighttpd apache apache-proxy}
want() { case " $STEPS " in *" $1 "*) return 0 ;; esac; return 1; }
step() { printf '\n== %s\n' "$*"; }

if want lint; then
	step lint
	scripts/lint.sh || status=1
fi

if want unit; then
	step "unit tests"
	make -s SAN="$SAN" unit || status=1
fi

if want fuzz; then
	step "fuzz corpora"
	make -s fuzz-replay || status=1
fi

want integration || want browser || exit $status
step "integration tests"
S=$(mktemp -d /tmp/custos-test.XXXXXX)
chmod 755 "$S"
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export CUSTOS_LISTEN__HTTP=127.0.0.1:$(free_port)
export CU_STACK_HTTP_PORT2=$(free_port) CU_STACK_HTTP_PORT3=$(free_port)
export CU_STACK_PG_PORT=$(free_port) CU_STACK_REDIS_PORT=$(free_port)
if [ "$SAN" = 1 ]; then
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:log_path=$S/asan
	export UBSAN_OPTIONS=print_stacktrace=1:log_path=$S/ubsan
fi
cleanup() {
	scripts/stack.sh stop "$S" >/dev/null 2>&1 || true
	if [ -n "${KEEP_TEST_STACK:-}" ]; then echo "test stack kept in $S"; else rm -rf "$S"; fi
}
trap cleanup EXIT
# shellcheck disable=SC2086
if scripts/stack.sh start "$S" $ROUTERS > "$S/start.log" 2>&1; then
	export CU_TEST_STATE=$S CU_TEST_ROOT=$ROOT CU_TEST_BUILD=$B CU_TEST_SAN=$SAN
	if want integration; then
		# shellcheck disable=SC2086
		/usr/bin/python3 -m pytest -q -p no:cacheprovider ${PYTEST_ARGS:-tests/integration} ||
			status=1
	fi
	if want browser && [ -x tests/browser/run.sh ]; then
		step "browser tests"
		tests/browser/run.sh "$S" || status=1
	fi
else
	cat "$S/start.log"; tail -n 30 "$S"/log/* 2>/dev/null
	echo "integration: the stack did not start"; status=1
fi
scripts/stack.sh stop "$S" >/dev/null 2>&1 || true
if [ "$SAN" = 1 ]; then
	if ls "$S"/asan.* "$S"/ubsan.* >/dev/null 2>&1; then
		cat "$S"/asan.* "$S"/ubsan.* 2>/dev/null | head -n 100
		echo "sanitizers: reports above"; status=1
	else
		echo "sanitizers: no reports from the responders"
	fi
fi
exit $status
