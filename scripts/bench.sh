#!/bin/bash
# make bench: wrk against a stack of its own, every router, every route in one run, each route's
# rate also shown as a ratio to the bare libfcgi responder behind the same router.
# BENCH_SECONDS (default 5), BENCH_THREADS (2), BENCH_CONNECTIONS (32); BENCH_PARTS picks what
# runs (default all: routes api logins oauth2 saml tasks mail). The exit status is 0 when every
# part that ran worked (its figures are reported, never held against the aims here).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export B=${B:-build}
secs=${BENCH_SECONDS:-5} threads=${BENCH_THREADS:-2} conns=${BENCH_CONNECTIONS:-32}
# The API routes are measured at the concurrency the responders serve at once (two processes
# each), so their latency is the request's own, not time spent queued behind 30 others.
api_conns=${BENCH_API_CONNECTIONS:-2}
parts=" ${BENCH_PARTS:-routes api logins oauth2 saml tasks mail} "
want() { case $parts in *" $1 "*) return 0 ;; esac; return 1; }
status=0
# run_part NAME FUNCTION: runs a wanted part; a part that fails makes the exit status 1.
run_part() { if want "$1"; then "$2" || status=1; fi; }

S=$(mktemp -d /tmp/custos-bench.XXXXXX); chmod 755 "$S"
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export CUSTOS_LISTEN__HTTP=127.0.0.1:$(free_port)
export CU_STACK_HTTP_PORT2=$(free_port) CU_STACK_HTTP_PORT3=$(free_port)
export CU_STACK_PG_PORT=$(free_port) CU_STACK_REDIS_PORT=$(free_port)
export CU_STACK_BENCH=1 CUSTOS_LOG_LEVEL=warning
# A superuser's API token, made by the bootstrap, for the API routes.
export CUSTOS_BOOTSTRAP_TOKEN=bench-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
export BENCH_TOKEN=$CUSTOS_BOOTSTRAP_TOKEN
op_pid=
cleanup() {
	# oidc-provider's primary stops its workers on SIGTERM.
	if [ -n "$op_pid" ]; then kill "$op_pid" 2>/dev/null; wait "$op_pid" 2>/dev/null; fi
	scripts/stack.sh stop "$S" >/dev/null 2>&1
	rm -rf "$S"
}
trap cleanup EXIT
scripts/stack.sh start "$S" lighttpd apache-proxy apache >/dev/null || { echo "bench: the stack did not start"; exit 1; }

. "$S/stack.env"
pg_as_super() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
psql_super() {
	pg_as_super /usr/lib/postgresql/15/bin/psql -h "$S/run/pg" -p "$PG_PORT" -d custos -qAt -c "$1"
}
# wrk's figures on one line: "req/s p50 p99 non-2xx 2xx/s" (non-2xx: how many answers).
wrk_figures() {
	awk '/requests in/ {n = $1; d = $4 + 0} /^Requests\/sec/ {r = $2} $1 == "50%" {p50 = $2}
		$1 == "99%" {p99 = $2} /Non-2xx or 3xx responses/ {e = $5}
		END {printf "%s %s %s %d %.0f\n", (r ? r : 0), (p50 ? p50 : "-"), (p99 ? p99 : "-"), e,
			(d > 0 ? (n - e) / d : 0)}'
}

routes=(/static/bench-100b.txt /bench/bare/ /-/health/live/ /-/health/ready/ /api/v3/root/config/)
declare -A port=()
while read -r r p; do port[$r]=$p; done < "$S/routers"

bench_routes() {
	printf '%-14s %-24s %12s %10s %10s %8s\n' router route req/s p50 p99 vs-bare
	for router in lighttpd apache-proxy apache-fcgid; do
		p=${port[$router]}
		# Warm every route (processes spawned, statements prepared) before measuring.
		for r in "${routes[@]}"; do for i in 1 2 3 4 5 6 7 8; do curl -fsS -o /dev/null "http://127.0.0.1:$p$r"; done; done
		declare -A rate=()
		for r in "${routes[@]}"; do
			out=$(wrk -t"$threads" -c"$conns" -d"${secs}s" --latency "http://127.0.0.1:$p$r" 2>&1)
			rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
			p50=$(awk '$1=="50%" {print $2}' <<<"$out")
			p99=$(awk '$1=="99%" {print $2}' <<<"$out")
			errs=$(awk '/Non-2xx or 3xx responses/ {print $5}' <<<"$out")
			rate[$r]=${rps:-0}
			ratio=-
			if [ -n "${rate[/bench/bare/]:-}" ] && [ "$r" != /static/bench-100b.txt ]; then
				ratio=$(awk -v a="${rps:-0}" -v b="${rate[/bench/bare/]}" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "-" }')
			fi
			printf '%-14s %-24s %12s %10s %10s %8s%s\n' "$router" "$r" "${rps:-0}" "${p50:--}" "${p99:--}" "$ratio" \
				"${errs:+  (non-2xx: $errs)}"
		done
		unset rate
	done
}
run_part routes bench_routes

# The API with a directory of 100,000 users: the signed-in user, pages of 100 (first, middle,
# last, searched, ordered), the admin interface's users list (a page of 20 by name, searched),
# the user interface's applications, the dashboard's login volume, and creating users. lighttpd only: the router adds nothing here.
p=${port[lighttpd]}
bench_api() {
	psql_super "INSERT INTO users (username, name, email, date_joined)
		SELECT 'bench-' || g, 'Bench User ' || g, 'bench' || g || '@example.com',
		       now() - g * interval '1 minute' FROM generate_series(1, 100000) g" \
		&& psql_super "VACUUM ANALYZE users" || { echo "bench: could not load users"; return 1; }
	auth="Authorization: Bearer $BENCH_TOKEN"
	echo
	printf '%-44s %12s %10s %10s %8s\n' "API, 100,000 users (lighttpd, -c$api_conns)" req/s p50 p99 vs-bare
	bare=$(wrk -t"$threads" -c"$api_conns" -d"${secs}s" "http://127.0.0.1:$p/bench/bare/" | awk '/^Requests\/sec/ {print $2}')
	for r in "/api/v3/core/users/me/" "/api/v3/core/users/?page_size=100" "/api/v3/core/users/?page_size=100&page=500" \
		"/api/v3/core/users/?page_size=100&page=1001" "/api/v3/core/users/?page_size=100&search=user%2042" \
		"/api/v3/core/users/?page_size=100&ordering=-date_joined&page=700" \
		"/api/v3/core/users/?page=1&page_size=20&ordering=username&search=bench-4242" \
		"/api/v3/core/applications/?page_size=100" \
		"/api/v3/events/events/volume/?action=login&history_days=7"; do
		code=$(curl -s -o /dev/null -w '%{http_code}' -H "$auth" "http://127.0.0.1:$p$r")
		[ "$code" = 200 ] || { echo "bench: $r answers $code"; continue; }
		out=$(wrk -t"$threads" -c"$api_conns" -d"${secs}s" --latency -H "$auth" "http://127.0.0.1:$p$r" 2>&1)
		rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
		p50=$(awk '$1=="50%" {print $2}' <<<"$out"); p99=$(awk '$1=="99%" {print $2}' <<<"$out")
		ratio=$(awk -v a="${rps:-0}" -v b="${bare:-0}" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "-" }')
		printf '%-44s %12s %10s %10s %8s\n' "$r" "${rps:-0}" "${p50:--}" "${p99:--}" "$ratio"
	done
	out=$(wrk -t"$threads" -c"$api_conns" -d"${secs}s" --latency -s tests/bench/create_user.lua \
		"http://127.0.0.1:$p/api/v3/core/users/" 2>&1)
	rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
	p50=$(awk '$1=="50%" {print $2}' <<<"$out"); p99=$(awk '$1=="99%" {print $2}' <<<"$out")
	errs=$(awk '/Non-2xx or 3xx responses/ {print $5}' <<<"$out")
	printf '%-44s %12s %10s %10s %8s%s\n' "POST /api/v3/core/users/" "${rps:-0}" "${p50:--}" "${p99:--}" - \
		"${errs:+  (non-2xx: $errs)}"
}
run_part api bench_api

# Password logins through the flow executor on default-authentication-flow (identification,
# password, user login; a fresh cookie jar per login), as many at once as there are cores, next
# to what the password hasher alone does on those cores: a login costs one argon2id hash, so
# the ratio shows what the flow adds. Then one executor GET's latency (a session parked at the
# password stage).
cores=$(nproc)
bench_logins() {
	echo
	printf '%-44s %12s %10s %10s\n' "Flow logins (lighttpd, $cores cores)" per-s p50 p99
	mem=${CUSTOS_PASSWORD__ARGON2_MEMORY_KIB:-19456} tcost=${CUSTOS_PASSWORD__ARGON2_TIME_COST:-2}
	par=${CUSTOS_PASSWORD__ARGON2_PARALLELISM:-1}
	users=$S/bench-users
	# "username password hash" lines; every user shares one hash (made once: hashing is what is
	# being measured, not the set-up).
	/usr/bin/python3 - "$users" "$mem" "$tcost" "$par" <<-'PY' || { echo "bench: could not make login users"; return 1; }
	import sys, argon2
	path, mem, t, p = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
	h = "argon2" + argon2.PasswordHasher(time_cost=t, memory_cost=mem, parallelism=p).hash("bench-password-1")
	with open(path, "w") as f:
	    for i in range(64):
	        f.write("flow-bench-%d bench-password-1 %s\n" % (i, h))
	PY
	psql_super "INSERT INTO users (username, name, email, password) VALUES $(awk -v q="'" '{printf "%s(%s%s%s, %s%s%s, %s%s@example.com%s, %s%s%s)", (NR > 1 ? "," : ""), q, $1, q, q, $1, q, q, $1, q, q, $3, q}' "$users")" \
		|| { echo "bench: could not load login users"; return 1; }
	slug=default-authentication-flow
	login_secs=$((secs * 2))
	# The client is a small C program, so that it leaves the cores to the server it measures.
	cc -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 tests/bench/flow_login.c -o "$S/flow_login" \
		-lpthread || { echo "bench: flow_login did not build"; return 1; }
	# At as many logins at once as cores, and at twice that: a login also waits on PostgreSQL's
	# commits, and a second one in flight uses the core meanwhile.
	for conc in "$cores" $((cores * 2)); do
		out=$("$S/flow_login" "$p" "$slug" "$users" "$login_secs" "$conc")
		logins=$(awk '{printf "%.1f", $2 / $4}' <<<"$out"); lerr=$(awk '{print $6}' <<<"$out")
		printf '%-44s %12s %10s %10s%s\n' "full password login (5 requests, $conc at once)" "$logins" \
			"$(awk '{print $8 "ms"}' <<<"$out")" "$(awk '{print $10 "ms"}' <<<"$out")" \
			"$( [ "${lerr:-0}" != 0 ] && echo "  (failed: $lerr)")"
	done
	# The hasher alone: custos's own cu_password_verify, built here against this build's library.
	if cc -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -iquote lib tests/bench/hash_rate.c \
		"$B/libcustos.a" $(pkg-config --libs libargon2 libcrypto libcrypt) -o "$S/hash_rate" 2>"$S/hash_rate.err"; then
		out=$("$S/hash_rate" "$secs" "$cores" "$mem" "$tcost" "$par")
		printf '%-44s %12s %10s %10s\n' "argon2id verifications alone (m=$mem t=$tcost p=$par)" \
			"$(awk '{printf "%.1f", $2 / $4}' <<<"$out")" - -
	else
		echo "bench: hash_rate did not build: $(head -c 300 "$S/hash_rate.err")"
	fi
	cookie=$(/usr/bin/python3 tests/bench/flow_park.py "http://127.0.0.1:$p" "$slug" flow-bench-0)
	out=$(wrk -t"$threads" -c"$api_conns" -d"${secs}s" --latency -H "Cookie: $cookie" \
		"http://127.0.0.1:$p/api/v3/flows/executor/$slug/?query=" 2>&1)
	rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
	p50=$(awk '$1=="50%" {print $2}' <<<"$out"); p99=$(awk '$1=="99%" {print $2}' <<<"$out")
	errs=$(awk '/Non-2xx or 3xx responses/ {print $5}' <<<"$out")
	printf '%-44s %12s %10s %10s%s\n' "executor GET (password stage, -c$api_conns)" "${rps:-0}" \
		"${p50:--}" "${p99:--}" "${errs:+  (non-2xx: $errs)}"
}
run_part logins bench_logins

# OAuth2 / OpenID Connect on lighttpd: client_credentials with an RS256 and with an ES256 signing
# key, refresh-token grants along rotation chains, userinfo, introspection, JWKS and discovery;
# then the token, JWKS and discovery workloads against Node's oidc-provider (installed from npm
# into this run's folder, a 2-worker node:cluster, in-memory adapter) on the same machine, at
# the same concurrency; then OpenSSL's own signing rate per core, which bounds any signer. The
# aims of the OAuth2 work are checked against these figures (reported, never asserted).
# BENCH_OAUTH_CONNECTIONS (default 8) connections; clients authenticate with client_secret_basic.
OIDC_PROVIDER_VERSION=8.8.1
oc=${BENCH_OAUTH_CONNECTIONS:-8}
declare -A orate=()

# oauth_row KEY LABEL [wrk arguments...]: one workload, its row, its 2xx rate in orate[KEY].
oauth_row() {
	local key=$1 label=$2 f r50 p50 p99 errs ok
	shift 2
	# A second's warm-up first (caches filled, statements prepared, node's JIT done), except for
	# refresh chains, which a warm-up would spend.
	[ "$key" = refresh ] || wrk -t"$threads" -c"$oc" -d1s "$@" >/dev/null 2>&1
	f=$(wrk -t"$threads" -c"$oc" -d"${secs}s" --latency "$@" 2>&1 | wrk_figures)
	read -r r50 p50 p99 errs ok <<<"$f"
	orate[$key]=$ok
	printf '%-44s %12s %10s %10s%s\n' "$label" "$ok" "$p50" "$p99" \
		"$( [ "$errs" != 0 ] && echo "  (non-2xx: $errs; all answers $r50/s)")"
}

bench_oauth2_custos() {
	local base=http://127.0.0.1:$p env=$S/oauth2.env rfile=$S/oauth2-refresh rs_auth es_auth
	echo
	printf '%-44s %12s %10s %10s\n' "OAuth2, custos (lighttpd, -c$oc)" "2xx/s" p50 p99
	# Four chains a connection: a chain ends at its first failed grant.
	/usr/bin/python3 tests/bench/oauth2_setup.py "$base" "$S" "$env" "$rfile" $((oc * 4)) \
		>"$S/oauth2-setup.log" 2>&1 \
		|| { echo "bench: the OAuth2 set-up failed: $(tail -c 600 "$S/oauth2-setup.log")"; return 1; }
	# shellcheck disable=SC1090
	. "$env"
	rs_auth=$(printf '%s:%s' "$RS256_CLIENT_ID" "$RS256_SECRET" | base64 -w0)
	es_auth=$(printf '%s:%s' "$ES256_CLIENT_ID" "$ES256_SECRET" | base64 -w0)
	OAUTH_BODY="grant_type=client_credentials&scope=openid" OAUTH_AUTH=$rs_auth \
		oauth_row cc_rs "client_credentials, RS256" -s tests/bench/oauth2_post.lua "$base/application/o/token/"
	OAUTH_BODY="grant_type=client_credentials&scope=openid" OAUTH_AUTH=$es_auth \
		oauth_row cc_es "client_credentials, ES256" -s tests/bench/oauth2_post.lua "$base/application/o/token/"
	OAUTH_REFRESH_FILE=$rfile OAUTH_AUTH=$rs_auth OAUTH_SCOPE=$OAUTH_SCOPE \
		oauth_row refresh "refresh_token (rotating), RS256" -s tests/bench/oauth2_refresh.lua \
		"$base/application/o/token/" -- "$threads"
	oauth_row userinfo "userinfo (GET, bearer)" -H "Authorization: Bearer $OAUTH_ACCESS" \
		"$base/application/o/userinfo/"
	OAUTH_BODY="token=$OAUTH_ACCESS" OAUTH_AUTH=$rs_auth \
		oauth_row introspect "introspection" -s tests/bench/oauth2_post.lua "$base/application/o/introspect/"
	oauth_row jwks "JWKS" "$base/application/o/$RS256_SLUG/jwks/"
	oauth_row discovery "discovery" "$base/application/o/$RS256_SLUG/.well-known/openid-configuration"
}

bench_oauth2_node() {
	local opdir=$S/oidc-provider op_port op_secret op_auth i c tok
	mkdir -p "$opdir"
	echo
	if ! (cd "$opdir" && timeout 300 npm install --no-audit --no-fund --silent \
		"oidc-provider@$OIDC_PROVIDER_VERSION") >"$S/npm.log" 2>&1; then
		echo "bench: npm could not install oidc-provider@$OIDC_PROVIDER_VERSION (offline?):" \
			"the oidc-provider column is skipped. $(tail -c 300 "$S/npm.log")"
		return 1
	fi
	cp tests/bench/oidc_provider.mjs "$opdir/"
	op_port=$(free_port)
	op_secret=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
	(cd "$opdir" && OP_CLIENT_SECRET=$op_secret exec node oidc_provider.mjs "$op_port" 2) \
		>>"$S/log/oidc-provider.log" 2>&1 &
	op_pid=$!
	for i in $(seq 100); do
		curl -fsS -o /dev/null "http://127.0.0.1:$op_port/.well-known/openid-configuration" 2>/dev/null && break
		sleep 0.1
	done
	printf '%-44s %12s %10s %10s\n' "OAuth2, oidc-provider $OIDC_PROVIDER_VERSION (2 workers, -c$oc)" "2xx/s" p50 p99
	tok=http://127.0.0.1:$op_port/token
	for c in opaque rs256 es256; do
		op_auth=$(printf 'bench-%s:%s' "$c" "$op_secret" | base64 -w0)
		OAUTH_BODY="grant_type=client_credentials&scope=api" OAUTH_AUTH=$op_auth \
			oauth_row "op_cc_$c" "client_credentials, $c" -s tests/bench/oauth2_post.lua "$tok"
	done
	oauth_row op_jwks "JWKS" "http://127.0.0.1:$op_port/jwks"
	oauth_row op_discovery "discovery" "http://127.0.0.1:$op_port/.well-known/openid-configuration"
	kill "$op_pid" 2>/dev/null
	wait "$op_pid" 2>/dev/null
	op_pid=
}

# The aims: custos's figure, what it is held against, the ratio, the aim.
oauth_aim() { # LABEL VALUE REFERENCE AIM-RATIO
	awk -v l="$1" -v a="${2:-0}" -v b="${3:-0}" -v w="$4" 'BEGIN {
		if (a <= 0 || b <= 0) { printf "%-44s %10.0f %10.0f %8s %7.2fx  %s\n", l, a, b, "-", w, "not measured"; exit }
		r = a / b
		if (w <= 0) { printf "%-44s %10.0f %10.0f %7.2fx %8s  %s\n", l, a, b, r, "-", "(for reference)"; exit }
		printf "%-44s %10.0f %10.0f %7.2fx %7.2fx  %s\n", l, a, b, r, w, (r >= w ? "met" : "not met") }'
}

bench_oauth2() {
	local speed rsa_sign ec_sign procs cores_used
	bench_oauth2_custos
	bench_oauth2_node
	# The signing bound: OpenSSL's signatures per second on one core, times the cores that the
	# OAuth2 responders can use (lighttpd runs max-procs of them).
	speed=$(openssl speed -seconds 3 rsa2048 ecdsap256 2>/dev/null)
	rsa_sign=$(awk '/^rsa 2048 bits/ {print $6}' <<<"$speed")
	ec_sign=$(awk '/ecdsa \(nistp256\)/ {print $(NF - 1)}' <<<"$speed")
	procs=$(awk '/"\/application\/o\/"/ {on = 1} on && /max-procs/ {
		match($0, /"max-procs" => [0-9]+/); print substr($0, RSTART + 16, RLENGTH - 16); exit }' \
		lighttpd-conf/lighttpd.conf.in)
	procs=${procs:-2}
	cores_used=$(( procs < cores ? procs : cores ))
	# The other bound of a token path that writes each grant: PostgreSQL's own commit rate for a
	# one-row INSERT (fsync on, as the stack runs it) from as many clients as responders.
	# And the same without waiting for the WAL flush (synchronous_commit off), for comparison.
	local pg_tps pg_async
	psql_super "CREATE TABLE bench_commits (id bigserial PRIMARY KEY, v text NOT NULL)" >/dev/null
	printf "INSERT INTO bench_commits (v) VALUES (repeat('x', 64));\n" > "$S/commit.sql"
	printf "SET synchronous_commit = off;\nINSERT INTO bench_commits (v) VALUES (repeat('x', 64));\n" \
		> "$S/commit-async.sql"
	chmod 644 "$S/commit.sql" "$S/commit-async.sql"
	pgbench_tps() {
		pg_as_super /usr/lib/postgresql/15/bin/pgbench -n -h "$S/run/pg" -p "$PG_PORT" \
			-c "$procs" -j "$procs" -T "$secs" -f "$1" custos 2>/dev/null | awk '/^tps/ {print $3; exit}'
	}
	pg_tps=$(pgbench_tps "$S/commit.sql")
	pg_async=$(pgbench_tps "$S/commit-async.sql")
	psql_super "DROP TABLE bench_commits" >/dev/null
	echo
	printf '%-44s %12s\n' "Bounds, each alone" per-s "RSA-2048 signatures (OpenSSL, 1 core)" "${rsa_sign:-?}" \
		"ECDSA P-256 signatures (OpenSSL, 1 core)" "${ec_sign:-?}" \
		"PostgreSQL 1-row INSERT commits ($procs clients)" "$(printf '%.0f' "${pg_tps:-0}")" \
		"  the same, synchronous_commit off" "$(printf '%.0f' "${pg_async:-0}")"
	echo
	printf '%-44s %10s %10s %8s %8s  %s\n' "Aim (2xx/s)" custos against ratio aim result
	oauth_aim "ES256 cc vs oidc-provider opaque cc" "${orate[cc_es]:-0}" "${orate[op_cc_opaque]:-0}" 1.5
	oauth_aim "RS256 cc vs RSA signs/s x $cores_used cores" "${orate[cc_rs]:-0}" \
		"$(awk -v s="${rsa_sign:-0}" -v c="$cores_used" 'BEGIN { print s * c }')" 0.7
	oauth_aim "RS256 cc vs PostgreSQL commits ($procs clients)" "${orate[cc_rs]:-0}" "${pg_tps:-0}" 0
	oauth_aim "refresh vs client_credentials (RS256)" "${orate[refresh]:-0}" "${orate[cc_rs]:-0}" 0.8
	oauth_aim "discovery vs oidc-provider" "${orate[discovery]:-0}" "${orate[op_discovery]:-0}" 2
	oauth_aim "JWKS vs oidc-provider" "${orate[jwks]:-0}" "${orate[op_jwks]:-0}" 2
}
run_part oauth2 bench_oauth2

# SAML single sign-on on lighttpd for users who are already logged in: each sign-on is a new
# AuthnRequest on the Redirect binding (the one python3-onelogin-saml2 makes, a fresh ID each
# time) and the flow executor's answer on the implicit-consent authorization flow, an
# ak-stage-autosubmit carrying the Response with its assertion signed (RSA-2048, rsa-sha256,
# sha256 digests), from a small C client (one browser a thread, each its own session), at
# several concurrencies. The last Response is checked by python3-onelogin-saml2 against the
# metadata. Then where the CPU goes (by program, from /proc; by library, from perf when it is
# there), and the bound: OpenSSL's RSA-2048 signatures per second on the cores the path can use.
# BENCH_SAML_MAX (default 200000) caps the sign-ons of one run.
# max_procs PREFIX: lighttpd's max-procs for the responder at PREFIX.
max_procs() {
	awk -v k="\"$1\"" 'index($0, k " =>") {on = 1} on && /max-procs/ {
		match($0, /"max-procs" => [0-9]+/); print substr($0, RSTART + 16, RLENGTH - 16); exit }' \
		lighttpd-conf/lighttpd.conf.in
}

bench_saml() {
	local base=http://127.0.0.1:$p env=$S/saml.env sess=$S/saml-sessions tmpl=$S/saml-request.xml
	local sample=$S/saml-sample max=${BENCH_SAML_MAX:-200000} roots conc out n el rate errs
	local best=0 best_conc='' best_out='' speed rsa_sign saml_procs exec_procs cores_used pids
	local pg0 pg1 client rc=0
	declare -A pgc=() outs=()
	echo
	printf '%-44s %12s %10s %10s\n' "SAML SSO, custos (lighttpd, logged-in users)" "responses/s" p50 p99
	cc -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 tests/bench/saml_sso.c -o "$S/saml_sso" \
		-lpthread -lz || { echo "bench: saml_sso did not build"; return 1; }
	BENCH_TOKEN=$BENCH_TOKEN /usr/bin/python3 tests/bench/saml_setup.py setup "$base" "$S" "$env" "$sess" \
		"$tmpl" $((cores * 8)) >"$S/saml-setup.log" 2>&1 \
		|| { echo "bench: the SAML set-up failed: $(tail -c 600 "$S/saml-setup.log")"; return 1; }
	# shellcheck disable=SC1090
	. "$env"
	# A second's warm-up at the highest concurrency: responders spawned, caches filled.
	"$S/saml_sso" "$p" "$SAML_SLUG" "$sess" "$tmpl" 1 $((cores * 8)) "$max" "$sample" >/dev/null 2>&1
	roots="$(cat "$S/run/lighttpd.pid") $(head -n1 "$S/pg/postmaster.pid") $(cat "$S/run/redis/redis.pid")"
	roots="$roots $(cat "$S"/run/worker-*.pid 2>/dev/null)"
	# PostgreSQL's committed transactions and WAL flushes, for what a sign-on costs it.
	pg_counts() { psql_super "SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = 'custos'),
		(SELECT wal_sync FROM pg_stat_wal)" | tr '|' ' '; }
	# One at a time first: each request's own latency, nothing queued.
	for conc in 1 $((cores * 2)) $((cores * 4)) $((cores * 8)); do
		pg0=$(pg_counts)
		/usr/bin/python3 tests/bench/cpu_split.py snapshot "$S/saml-cpu-$conc-0" $roots
		out=$("$S/saml_sso" "$p" "$SAML_SLUG" "$sess" "$tmpl" "$secs" "$conc" "$max" "$sample" \
			2>>"$S/saml-client.log")
		/usr/bin/python3 tests/bench/cpu_split.py snapshot "$S/saml-cpu-$conc-1" $roots
		# PostgreSQL publishes its counters within a second.
		sleep 1
		pg1=$(pg_counts)
		[ -n "$out" ] || { echo "bench: saml_sso failed: $(tail -c 300 "$S/saml-client.log")"; return 1; }
		read -r _ n _ el _ errs _ <<<"$out"
		pgc[$conc]=$(awk -v a="$pg0" -v b="$pg1" -v n="$n" 'BEGIN { split(a, x, " "); split(b, y, " ");
			if (n > 0) printf "%.1f %.1f", (y[1] - x[1]) / n, (y[2] - x[2]) / n }')
		rate=$(awk -v n="$n" -v s="$el" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
		printf '%-44s %12s %10s %10s%s\n' "signed Response, Redirect binding ($conc at once)" "$rate" \
			"$(awk '{print $8 "ms"}' <<<"$out")" "$(awk '{print $10 "ms"}' <<<"$out")" \
			"$( [ "${errs:-0}" != 0 ] && echo "  (failed: $errs; $(head -c 200 "$S/saml-client.log"))")"
		outs[$conc]=$out
		if [ "$rate" -gt "$best" ]; then best=$rate best_conc=$conc best_out=$out; fi
	done
	[ "$best" -gt 0 ] || { echo "bench: no signed Response came back"; return 1; }
	for conc in 1 "$best_conc"; do
		out=${outs[$conc]}
		printf '%-44s %12s %10s %10s\n' "  its SSO request (saml.fcgi, $conc at once)" - \
			"$(awk '{print $12 "ms"}' <<<"$out")" "$(awk '{print $14 "ms"}' <<<"$out")" \
			"  its executor request, signing ($conc at once)" - \
			"$(awk '{print $16 "ms"}' <<<"$out")" "$(awk '{print $18 "ms"}' <<<"$out")"
	done
	if BENCH_TOKEN=$BENCH_TOKEN /usr/bin/python3 tests/bench/saml_setup.py check "$base" "$S" "$env" "$sample" \
		>"$S/saml-check.log" 2>&1; then
		printf '%-44s %s\n' "a Response of the run, as the SP sees it" \
			"valid (python3-onelogin-saml2, strict; $SAML_RESPONSE_BYTES bytes)"
	else
		echo "bench: the SP refused a Response of the run: $(tail -c 400 "$S/saml-check.log")"
		rc=1
	fi
	echo
	printf '%-44s %11s %6s\n' "Where the CPU goes ($best_conc at once)" "a response" share
	/usr/bin/python3 tests/bench/cpu_split.py report "$S/saml-cpu-$best_conc-0" "$S/saml-cpu-$best_conc-1" \
		"$(awk '{print $2}' <<<"$best_out")" "$(awk '{print $4}' <<<"$best_out")" "$cores" \
		"$(awk '{print $20}' <<<"$best_out")"
	read -r pg0 pg1 <<<"${pgc[$best_conc]}"
	printf '  %-42s %11s\n' "PostgreSQL commits, WAL flushes" "${pg0:-?}, ${pg1:-?}"
	# perf's samples by program and library, on a run of its own (perf costs CPU too).
	if command -v perf >/dev/null 2>&1; then
		"$S/saml_sso" "$p" "$SAML_SLUG" "$sess" "$tmpl" 4 "$best_conc" "$max" "$S/saml-sample-perf" \
			>/dev/null 2>&1 &
		client=$!
		sleep 0.5
		pids=$(/usr/bin/python3 tests/bench/cpu_split.py pids $roots)
		if perf record -q -F 999 -o "$S/saml-perf.data" -p "$pids" -- sleep 3 >/dev/null 2>&1; then
			echo
			printf '%-44s %12s\n' "perf samples by program and library" share
			perf report -q -i "$S/saml-perf.data" --no-children --sort comm,dso --stdio -g none 2>/dev/null |
				awk '$1 + 0 >= 1.5 { printf "  %-42s %12s\n", $2 " " $3, $1 }' | head -12
		fi
		wait "$client" 2>/dev/null
	fi
	# The bound: OpenSSL's RSA-2048 signatures per second on one core, times the cores that the
	# path can use: the fulfillment stage signs in the flow executor's processes (the SSO
	# endpoint's run in saml.fcgi's), and no more processes than cores run at once.
	speed=$(openssl speed -seconds 3 rsa2048 2>/dev/null)
	rsa_sign=$(awk '/^rsa 2048 bits/ {print $6}' <<<"$speed")
	saml_procs=$(max_procs /application/saml/)
	exec_procs=$(max_procs /api/v3/flows/executor/)
	saml_procs=${saml_procs:-2} exec_procs=${exec_procs:-4}
	cores_used=$((exec_procs < cores ? exec_procs : cores))
	echo
	printf '%-44s %12s\n' "Bound, alone" per-s "RSA-2048 signatures (OpenSSL, 1 core)" "${rsa_sign:-?}"
	printf '%-44s %12s\n' "  x $cores_used (max-procs: executor $exec_procs, saml $saml_procs; $cores cores)" \
		"$(awk -v s="${rsa_sign:-0}" -v c="$cores_used" 'BEGIN { printf "%.0f", s * c }')"
	echo
	printf '%-44s %10s %10s %8s %8s  %s\n' "Aim (signed responses/s)" custos against ratio aim result
	oauth_aim "SAML SSO vs RSA signs/s x $cores_used cores" "$best" \
		"$(awk -v s="${rsa_sign:-0}" -v c="$cores_used" 'BEGIN { print s * c }')" 0.7
	return "$rc"
}
run_part saml bench_saml

# Background tasks: no-op tasks through the whole path (outbox row → wake-up → claim → done),
# with one worker and then two.
bench_tasks() {
	echo
	printf '%-44s %12s\n' "Tasks (no-op, enqueue to done)" tasks/s
	for n in 1 2; do
		CU_STACK_WORKERS=$n scripts/stack.sh worker-start "$S" >/dev/null
		sleep 1
		total=20000
		tag=bench-$n-$RANDOM
		t0=$(date +%s.%N)
		psql_super "INSERT INTO tasks (actor_name, description) SELECT 'custos.tasks.noop', '$tag'
			FROM generate_series(1, $total)" >/dev/null
		redis-cli -s "$S/run/redis/redis.sock" -a "$REDIS_PASSWORD" --no-auth-warning \
			XADD custos:tasks '*' id "$tag" >/dev/null
		for i in $(seq 600); do
			left=$(psql_super "SELECT count(*) FROM tasks WHERE description = '$tag' AND state <> 'done'")
			[ "$left" = 0 ] && break
			sleep 0.1
		done
		t1=$(date +%s.%N)
		printf '%-44s %12s\n' "$n worker(s)" "$(awk -v n=$total -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')"
	done

}
run_part tasks bench_tasks

# Mail: send_mail tasks through one worker to an SMTP server on loopback.
bench_mail() {
	smtp_port=$(free_port)
	count=$S/smtp-count
	echo 0 > "$count"
	/usr/bin/python3 tests/bench/smtp_sink.py "$smtp_port" "$count" & sink=$!
	scripts/stack.sh worker-stop "$S" >/dev/null
	sleep 1
	CUSTOS_CONFIG=$S/custos.conf CUSTOS_EMAIL__HOST=127.0.0.1 CUSTOS_EMAIL__PORT=$smtp_port \
		"$B/custos-worker" run >>"$S/log/worker-bench.log" 2>&1 & mailer=$!
	total=500
	t0=$(date +%s.%N)
	psql_super "INSERT INTO tasks (actor_name, args) SELECT 'authentik.stages.email.tasks.send_mail',
		jsonb_build_object('to', 'bench' || g || '@example.com', 'template', 'email/setup')
		FROM generate_series(1, $total) g" >/dev/null
	for i in $(seq 1200); do c=$(cat "$count" 2>/dev/null); [ "${c:-0}" -ge "$total" ] && break; sleep 0.1; done
	t1=$(date +%s.%N)
	kill "$mailer" "$sink" 2>/dev/null; wait "$mailer" "$sink" 2>/dev/null
	printf '%-44s %12s\n' "Mails to a loopback SMTP server (1 worker)" \
		"$(awk -v n="$(cat "$count")" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f/s (%d sent)", n / (b - a), n }')"
}
run_part mail bench_mail
exit $status
