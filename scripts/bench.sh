#!/bin/bash
# make bench: wrk against a stack of its own, every router, every route in one run, each route's
# rate also shown as a ratio to the bare libfcgi responder behind the same router.
# BENCH_SECONDS (default 5), BENCH_THREADS (2), BENCH_CONNECTIONS (32).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export B=${B:-build}
secs=${BENCH_SECONDS:-5} threads=${BENCH_THREADS:-2} conns=${BENCH_CONNECTIONS:-32}
# The API routes are measured at the concurrency the responders serve at once (two processes
# each), so their latency is the request's own, not time spent queued behind 30 others.
api_conns=${BENCH_API_CONNECTIONS:-2}

S=$(mktemp -d /tmp/custos-bench.XXXXXX); chmod 755 "$S"
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export CUSTOS_LISTEN__HTTP=127.0.0.1:$(free_port)
export CU_STACK_HTTP_PORT2=$(free_port) CU_STACK_HTTP_PORT3=$(free_port)
export CU_STACK_PG_PORT=$(free_port) CU_STACK_REDIS_PORT=$(free_port)
export CU_STACK_BENCH=1 CUSTOS_LOG_LEVEL=warning
# A superuser's API token, made by the bootstrap, for the API routes.
export CUSTOS_BOOTSTRAP_TOKEN=bench-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
export BENCH_TOKEN=$CUSTOS_BOOTSTRAP_TOKEN
trap 'scripts/stack.sh stop "$S" >/dev/null 2>&1; rm -rf "$S"' EXIT
scripts/stack.sh start "$S" lighttpd apache-proxy apache >/dev/null || { echo "bench: the stack did not start"; exit 1; }

routes=(/static/bench-100b.txt /bench/bare/ /-/health/live/ /-/health/ready/ /api/v3/root/config/)
declare -A port=()
while read -r r p; do port[$r]=$p; done < "$S/routers"

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

# The API with a directory of 100,000 users: the signed-in user, pages of 100 (first, middle,
# last, searched, ordered) and creating users. lighttpd only: the router adds nothing here.
. "$S/stack.env"
psql_super() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- /usr/lib/postgresql/15/bin/psql -h "$S/run/pg" -p "$PG_PORT" -d custos -qAt -c "$1"
	else
		/usr/lib/postgresql/15/bin/psql -h "$S/run/pg" -p "$PG_PORT" -d custos -qAt -c "$1"
	fi
}
psql_super "INSERT INTO users (username, name, email, date_joined)
	SELECT 'bench-' || g, 'Bench User ' || g, 'bench' || g || '@example.com',
	       now() - g * interval '1 minute' FROM generate_series(1, 100000) g" \
	&& psql_super "VACUUM ANALYZE users" || { echo "bench: could not load users"; exit 1; }
p=${port[lighttpd]}
auth="Authorization: Bearer $BENCH_TOKEN"
echo
printf '%-44s %12s %10s %10s %8s\n' "API, 100,000 users (lighttpd, -c$api_conns)" req/s p50 p99 vs-bare
bare=$(wrk -t"$threads" -c"$api_conns" -d"${secs}s" "http://127.0.0.1:$p/bench/bare/" | awk '/^Requests\/sec/ {print $2}')
for r in "/api/v3/core/users/me/" "/api/v3/core/users/?page_size=100" "/api/v3/core/users/?page_size=100&page=500" \
	"/api/v3/core/users/?page_size=100&page=1001" "/api/v3/core/users/?page_size=100&search=user%2042" \
	"/api/v3/core/users/?page_size=100&ordering=-date_joined&page=700"; do
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

# Password logins through the flow executor on default-authentication-flow (identification,
# password, user login; a fresh cookie jar per login), as many at once as there are cores, next
# to what the password hasher alone does on those cores: a login costs one argon2id hash, so
# the ratio shows what the flow adds. Then one executor GET's latency (a session parked at the
# password stage).
cores=$(nproc)
echo
printf '%-44s %12s %10s %10s\n' "Flow logins (lighttpd, $cores cores)" per-s p50 p99
mem=${CUSTOS_PASSWORD__ARGON2_MEMORY_KIB:-19456} tcost=${CUSTOS_PASSWORD__ARGON2_TIME_COST:-2}
par=${CUSTOS_PASSWORD__ARGON2_PARALLELISM:-1}
users=$S/bench-users
# "username password hash" lines; every user shares one hash (made once: hashing is what is
# being measured, not the set-up).
/usr/bin/python3 - "$users" "$mem" "$tcost" "$par" <<'PY' || { echo "bench: could not make login users"; exit 1; }
import sys, argon2
path, mem, t, p = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
h = "argon2" + argon2.PasswordHasher(time_cost=t, memory_cost=mem, parallelism=p).hash("bench-password-1")
with open(path, "w") as f:
    for i in range(64):
        f.write("flow-bench-%d bench-password-1 %s\n" % (i, h))
PY
psql_super "INSERT INTO users (username, name, email, password) VALUES $(awk -v q="'" '{printf "%s(%s%s%s, %s%s%s, %s%s@example.com%s, %s%s%s)", (NR > 1 ? "," : ""), q, $1, q, q, $1, q, q, $1, q, q, $3, q}' "$users")" \
	|| { echo "bench: could not load login users"; exit 1; }
slug=default-authentication-flow
login_secs=$((secs * 2))
# The client is a small C program, so that it leaves the cores to the server it measures.
cc -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 tests/bench/flow_login.c -o "$S/flow_login" \
	-lpthread || { echo "bench: flow_login did not build"; exit 1; }
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

# Background tasks: no-op tasks through the whole path (outbox row → wake-up → claim → done),
# with one worker and then two.
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

# Mail: send_mail tasks through one worker to an SMTP server on loopback.
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
