#!/bin/bash
# The custos stack on one machine, everything on loopback, all state in one folder.
#
#   stack.sh start DIR [ROUTER...]   ROUTER: lighttpd (default), apache (mod_fcgid spawns the
#                                    responders), apache-proxy (mod_proxy_fcgi to responders
#                                    this script starts)
#   stack.sh stop DIR
#   stack.sh status DIR
#   stack.sh pg-stop|pg-start|redis-stop|redis-start DIR    (used by the fault tests)
#
# Ports: the first router named listens on CUSTOS_LISTEN__HTTP (default 127.0.0.1:9000), a
# second and third on CU_STACK_HTTP_PORT2 and CU_STACK_HTTP_PORT3 (default the next two); the
# back ends take CU_STACK_PG_PORT and CU_STACK_REDIS_PORT. Ports are chosen once, at the first
# start, and kept in DIR/stack.env; DIR/routers lists each running router and its port.
# Build folder: B (default build).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build}
PGBIN=/usr/lib/postgresql/15/bin

die() { echo "custos: $*" >&2; exit 1; }
say() { echo "custos: $*"; }

cmd=${1:-}; shift || true
[ -n "${1:-}" ] || die "usage: stack.sh start|stop|status|pg-stop|pg-start|redis-stop|redis-start DIR [ROUTER...]"
mkdir -p "$1"
S=$(cd "$1" && pwd); shift

if [ "$(id -u)" -eq 0 ]; then
	PGUSER_OS=postgres; REDISUSER_OS=redis; WEBUSER=www-data
	# setpriv execs the command itself, so a PID taken with $! is the program's own.
	as() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --init-groups -- "$@"; }
else
	PGUSER_OS=$(id -un); REDISUSER_OS=$PGUSER_OS; WEBUSER=$PGUSER_OS
	as() { shift; "$@"; }
fi

pidalive() { [ -f "$1" ] && kill -0 "$(head -n1 "$1")" 2>/dev/null; }

# --- state folder ---------------------------------------------------------------------------

init_state() {
	[ -f "$S/stack.env" ] && return 0
	local http=${CUSTOS_LISTEN__HTTP:-127.0.0.1:9000}
	http=${http##*:}
	umask 077
	{
		echo "HTTP_PORT=$http"
		echo "HTTP_PORT2=${CU_STACK_HTTP_PORT2:-$((http + 1))}"
		echo "HTTP_PORT3=${CU_STACK_HTTP_PORT3:-$((http + 2))}"
		echo "PG_PORT=${CU_STACK_PG_PORT:-54329}"
		echo "REDIS_PORT=${CU_STACK_REDIS_PORT:-63799}"
		echo "PG_PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
		echo "REDIS_PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
		echo "SECRET_KEY=$(head -c 48 /dev/urandom | base64 | tr -d '/+=')"
	} > "$S/stack.env"
	umask 022
}

load_state() {
	# shellcheck disable=SC1091
	. "$S/stack.env"
	# run/ holds the PID files this script and the routers write; each service user gets a
	# folder of its own for its sockets.
	RUN=$S/run LOG=$S/log PGRUN=$S/run/pg REDISRUN=$S/run/redis WEBRUN=$S/run/web
}

make_run_dirs() {
	mkdir -p "$RUN" "$PGRUN" "$REDISRUN" "$WEBRUN" "$LOG" "$S/oidc"
	chmod 755 "$S" "$RUN" "$PGRUN" "$WEBRUN" "$LOG" "$S/oidc"
	chmod 755 "$REDISRUN"
	if [ "$(id -u)" -eq 0 ]; then
		chown "$PGUSER_OS" "$PGRUN"; chown "$REDISUSER_OS" "$REDISRUN"
		# oidc/: the JWKS files the OAuth2 responder publishes for the router to serve.
		chown "$WEBUSER" "$WEBRUN" "$LOG" "$S/oidc"
	fi
}

# The web server's user must reach the binaries and htdocs; a tree under a private home folder
# is copied into the state folder instead.
app_paths() {
	APP_BIN=$ROOT/$B/cgi-bin HTDOCS=$ROOT/htdocs WORKER=$ROOT/$B/custos-worker
	if [ -d "$S/app" ]; then APP_BIN=$S/app/cgi-bin HTDOCS=$S/app/htdocs WORKER=$S/app/custos-worker; fi
}

stage_app() {
	APP_BIN=$ROOT/$B/cgi-bin HTDOCS=$ROOT/htdocs WORKER=$ROOT/$B/custos-worker
	rm -rf "$S/app"
	if ! as "$WEBUSER" test -x "$APP_BIN/api.fcgi" -a -r "$HTDOCS" 2>/dev/null; then
		mkdir -p "$S/app"
		cp -a "$ROOT/$B/cgi-bin" "$ROOT/htdocs" "$ROOT/$B/custos-worker" "$S/app/"
		APP_BIN=$S/app/cgi-bin HTDOCS=$S/app/htdocs WORKER=$S/app/custos-worker
		chmod -R a+rX "$S/app"
	fi
}

write_config() {
	local conf=$S/custos.conf
	umask 077
	cat > "$conf" <<CONF
# custos configuration for this stack; CUSTOS_* environment variables override these.
secret_key = $SECRET_KEY
postgresql.host = $PGRUN
postgresql.port = $PG_PORT
postgresql.name = custos
postgresql.user = custos
postgresql.password = $PG_PASSWORD
redis.host = $REDISRUN/redis.sock
redis.port = $REDIS_PORT
redis.password = $REDIS_PASSWORD
log_level = ${CUSTOS_LOG_LEVEL:-info}
listen.http = 127.0.0.1:$HTTP_PORT
oauth2.publish_dir = $S/oidc
CONF
	umask 022
	if [ "$(id -u)" -eq 0 ]; then chgrp "$WEBUSER" "$conf"; chmod 640 "$conf"; fi
}

# --- PostgreSQL ------------------------------------------------------------------------------

pg_data() {
	# postgres refuses to run as root and must reach its data folder; under a private home the
	# cluster lives in /var/lib/custos and var/pg points there.
	if [ -L "$S/pg" ] || [ -d "$S/pg" ]; then echo "$S/pg"; return; fi
	if as "$PGUSER_OS" test -x "$S" 2>/dev/null; then
		mkdir -p "$S/pg"
	else
		local alt
		alt=/var/lib/custos/$(echo "$S" | sha256sum | head -c 16)/pg
		mkdir -p "$alt"; ln -s "$alt" "$S/pg"
	fi
	echo "$S/pg"
}

pg_init() {
	local data; data=$(pg_data)
	[ -f "$data/PG_VERSION" ] && return 0
	chown "$PGUSER_OS" "$data"; chmod 700 "$data"
	local pw; pw=$(mktemp); echo "$PG_PASSWORD" > "$pw"; chown "$PGUSER_OS" "$pw"
	as "$PGUSER_OS" "$PGBIN/initdb" -D "$data" -U "$PGUSER_OS" -E UTF8 --locale=C.UTF-8 \
		-A peer --auth-host=scram-sha-256 >"$LOG/pg-initdb.log" 2>&1 \
		|| { rm -f "$pw"; die "initdb failed, see $LOG/pg-initdb.log"; }
	cat >> "$data/postgresql.conf" <<PGCONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PGRUN'
unix_socket_permissions = 0777
max_connections = 200
shared_buffers = 128MB
fsync = on
logging_collector = off
PGCONF
	cat > "$data/pg_hba.conf" <<HBA
local all $PGUSER_OS peer
local all custos scram-sha-256
host all custos 127.0.0.1/32 scram-sha-256
HBA
	pg_start
	as "$PGUSER_OS" "$PGBIN/psql" -h "$PGRUN" -p "$PG_PORT" -d postgres -q -v ON_ERROR_STOP=1 \
		-v pw="$(cat "$pw")" >/dev/null <<'SQL'
CREATE ROLE custos LOGIN PASSWORD :'pw';
CREATE DATABASE custos OWNER custos;
SQL
	rm -f "$pw"
}

pg_start() {
	local data; data=$(pg_data)
	if as "$PGUSER_OS" "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then return 0; fi
	touch "$LOG/postgresql.log"; chown "$PGUSER_OS" "$LOG/postgresql.log"
	as "$PGUSER_OS" "$PGBIN/pg_ctl" -D "$data" -l "$LOG/postgresql.log" -w -t 60 start >/dev/null \
		|| die "PostgreSQL did not start, see $LOG/postgresql.log"
}

pg_stop() {
	local data; data=$(pg_data)
	as "$PGUSER_OS" "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1 || return 0
	as "$PGUSER_OS" "$PGBIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
}

# --- Redis -----------------------------------------------------------------------------------

redis_start() {
	pidalive "$REDISRUN/redis.pid" && return 0
	mkdir -p "$S/redis"; chown "$REDISUSER_OS" "$S/redis"; chmod 700 "$S/redis"
	umask 077
	cat > "$S/redis.conf" <<RCONF
bind 127.0.0.1
port $REDIS_PORT
unixsocket $REDISRUN/redis.sock
unixsocketperm 777
protected-mode yes
requirepass $REDIS_PASSWORD
dir $S/redis
appendonly yes
daemonize yes
pidfile $REDISRUN/redis.pid
logfile $LOG/redis.log
save ""
RCONF
	umask 022
	chown "$REDISUSER_OS" "$S/redis.conf"
	touch "$LOG/redis.log"; chown "$REDISUSER_OS" "$LOG/redis.log"
	as "$REDISUSER_OS" redis-server "$S/redis.conf" || die "Redis did not start, see $LOG/redis.log"
	local i
	for i in $(seq 50); do pidalive "$REDISRUN/redis.pid" && break; sleep 0.1; done
	pidalive "$REDISRUN/redis.pid" || die "Redis did not start, see $LOG/redis.log"
	# Started is not ready: while it loads its append-only file, Redis answers LOADING.
	for i in $(seq 300); do
		[ "$(redis-cli -s "$REDISRUN/redis.sock" --no-auth-warning -a "$REDIS_PASSWORD" PING 2>/dev/null)" = PONG ] && return 0
		sleep 0.1
	done
	die "Redis did not become ready, see $LOG/redis.log"
}

redis_stop() {
	pidalive "$REDISRUN/redis.pid" || return 0
	local pid; pid=$(cat "$REDISRUN/redis.pid")
	kill "$pid"
	local i
	for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null || true
}

# --- routers ---------------------------------------------------------------------------------

# CU_STACK_BENCH=1 keeps the template lines marked #BENCH: the bare responder make bench
# measures every route against.
if [ "${CU_STACK_BENCH:-0}" = 1 ]; then bench_lines='s|^#BENCH ||; s|^#BENCH\t|\t|'; else bench_lines='/^#BENCH/d'; fi

fill() { # template -> stdout, replacing @NAME@ with the shell variable NAME
	sed -e "s|@STATE@|$S|g" -e "s|@RUN@|$RUN|g" -e "s|@WEBRUN@|$WEBRUN|g" -e "s|@LOG@|$LOG|g" -e "s|@BIN@|$APP_BIN|g" \
		-e "s|@HTDOCS@|$HTDOCS|g" -e "s|@PORT@|$PORT|g" -e "s|@PUBLISH@|$S/oidc|g" \
		-e "s|@CONFIG@|$S/custos.conf|g" -e "s|@WEBUSER@|$WEBUSER|g" \
		-e "s|@APACHE_MODULES@|/usr/lib/apache2/modules|g" -e "s|@BARE@|$APP_BIN/bare.fcgi|g" \
		-e "$bench_lines" "$1"
}

start_lighttpd() {
	pidalive "$RUN/lighttpd.pid" && return 0
	fill "$ROOT/lighttpd-conf/lighttpd.conf.in" > "$S/lighttpd.conf"
	if [ "$(id -u)" -eq 0 ]; then
		printf 'server.username = "%s"\nserver.groupname = "%s"\n' "$WEBUSER" "$WEBUSER" >> "$S/lighttpd.conf"
	fi
	lighttpd -tt -f "$S/lighttpd.conf" >/dev/null || die "lighttpd rejects $S/lighttpd.conf"
	# In the foreground (-D) lighttpd hands its standard error to the responders it spawns,
	# so their JSON log lines land in a file rather than /dev/null.
	setsid lighttpd -D -f "$S/lighttpd.conf" >>"$LOG/responders.log" 2>&1 < /dev/null &
	wait_http "$PORT" lighttpd
}

apache_env() {
	export APACHE_RUN_USER=$WEBUSER APACHE_RUN_GROUP=$WEBUSER APACHE_LOG_DIR=$LOG
	export APACHE_PID_FILE=$1 APACHE_RUN_DIR=$RUN APACHE_LOCK_DIR=$RUN
}

start_apache() { # variant: fcgid | proxy
	local variant=$1 conf pidf
	conf=$S/apache-$variant.conf pidf=$RUN/apache-$variant.pid
	pidalive "$pidf" && return 0
	if [ "$variant" = proxy ]; then start_responders; fi
	fill "$ROOT/apache-conf/httpd-common.conf.in" > "$S/apache-common.conf"
	fill "$ROOT/apache-conf/httpd-$variant.conf.in" > "$conf"
	apache_env "$pidf"
	apache2 -t -f "$conf" >/dev/null 2>&1 || { apache2 -t -f "$conf"; die "Apache rejects $conf"; }
	apache2 -f "$conf" -k start || die "Apache did not start, see $LOG/apache-$variant.error.log"
	wait_http "$PORT" "apache ($variant)"
}

stop_apache() {
	local variant=$1 pidf=$RUN/apache-$1.pid
	pidalive "$pidf" || return 0
	local pid; pid=$(cat "$pidf")
	apache_env "$pidf"
	apache2 -f "$S/apache-$variant.conf" -k stop 2>/dev/null || kill "$pid" 2>/dev/null || true
	local i
	for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
}

RESPONDERS="api flow oauth2 saml outpost"

# Responders for mod_proxy_fcgi: each opens its own socket and keeps two processes on it.
start_responders() {
	local r
	if [ "${CU_STACK_BENCH:-0}" = 1 ] && ! pidalive "$RUN/bare.pid"; then
		as "$WEBUSER" cgi-fcgi -start -connect "$WEBRUN/bare.sock" "$APP_BIN/bare.fcgi" 2 >/dev/null
		pgrep -f "$APP_BIN/bare.fcgi" | head -n1 > "$RUN/bare.pid" || true
	fi
	for r in $RESPONDERS; do
		pidalive "$RUN/$r.pid" && continue
		touch "$LOG/responders.log"; chown "$WEBUSER" "$LOG/responders.log"
		# A plain command, not the 'as' function, so that $! is the responder's own PID.
		if [ "$(id -u)" -eq 0 ]; then
			setsid setpriv --reuid="$WEBUSER" --regid="$WEBUSER" --init-groups -- \
				env CUSTOS_CONFIG="$S/custos.conf" "$APP_BIN/$r.fcgi" \
				--listen "$WEBRUN/$r.sock" --processes 2 >>"$LOG/responders.log" 2>&1 < /dev/null &
		else
			setsid env CUSTOS_CONFIG="$S/custos.conf" "$APP_BIN/$r.fcgi" \
				--listen "$WEBRUN/$r.sock" --processes 2 >>"$LOG/responders.log" 2>&1 < /dev/null &
		fi
		echo $! > "$RUN/$r.pid"
	done
	for r in $RESPONDERS; do
		local i
		for i in $(seq 50); do [ -S "$WEBRUN/$r.sock" ] && break; sleep 0.1; done
		[ -S "$WEBRUN/$r.sock" ] || die "responder $r did not open $WEBRUN/$r.sock, see $LOG/responders.log"
	done
}

stop_responders() {
	local r
	for r in $RESPONDERS; do
		pidalive "$RUN/$r.pid" && kill "$(cat "$RUN/$r.pid")" 2>/dev/null || true
	done
	for r in $RESPONDERS; do
		local i
		for i in $(seq 50); do pidalive "$RUN/$r.pid" || break; sleep 0.1; done
		rm -f "$RUN/$r.pid"
	done
	pkill -f "$APP_BIN/bare.fcgi" 2>/dev/null || true
	rm -f "$RUN/bare.pid"
}

# The background worker: CU_STACK_WORKERS processes (default 1), each its own PID file.
start_workers() {
	local i n=${CU_STACK_WORKERS:-1}
	touch "$LOG/worker.log"; [ "$(id -u)" -eq 0 ] && chown "$WEBUSER" "$LOG/worker.log"
	for i in $(seq "$n"); do
		pidalive "$RUN/worker-$i.pid" && continue
		if [ "$(id -u)" -eq 0 ]; then
			setsid setpriv --reuid="$WEBUSER" --regid="$WEBUSER" --init-groups -- \
				env CUSTOS_CONFIG="$S/custos.conf" "$WORKER" run >>"$LOG/worker.log" 2>&1 < /dev/null &
		else
			setsid env CUSTOS_CONFIG="$S/custos.conf" "$WORKER" run >>"$LOG/worker.log" 2>&1 < /dev/null &
		fi
		echo $! > "$RUN/worker-$i.pid"
	done
}

stop_workers() {
	local f pid i
	for f in "$RUN"/worker-*.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		kill "$pid" 2>/dev/null || true
		for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
		rm -f "$f"
	done
}

stop_lighttpd() {
	pidalive "$RUN/lighttpd.pid" || return 0
	local pid; pid=$(cat "$RUN/lighttpd.pid")
	kill "$pid"
	local i
	# lighttpd stops the responders it spawned before it exits.
	for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
}

wait_http() {
	local i
	for i in $(seq 100); do
		if curl -fsS -o /dev/null "http://127.0.0.1:$1/-/health/live/" 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	die "$2 does not answer on 127.0.0.1:$1, see $LOG/"
}

migrate() {
	CUSTOS_CONFIG=$S/custos.conf "$WORKER" migrate --sql-dir "$ROOT/sql" >"$LOG/migrate.log" 2>&1 \
		|| { cat "$LOG/migrate.log" >&2; die "migrations failed; the stack is not started"; }
}

# The first admin. Its one-time password goes to the terminal only, never to a log file.
bootstrap() {
	BOOTSTRAP_OUT=$(CUSTOS_CONFIG=$S/custos.conf "$WORKER" bootstrap 2>"$LOG/bootstrap.log") \
		|| { cat "$LOG/bootstrap.log" >&2; die "bootstrap failed; the stack is not started"; }
}

is_up() {
	[ -f "$S/stack.env" ] || return 1
	load_state
	pidalive "$RUN/lighttpd.pid" || pidalive "$RUN/apache-fcgid.pid" || pidalive "$RUN/apache-proxy.pid"
}

routers_of() {
	local r out=()
	for r in "$@"; do
		case $r in
			lighttpd) out+=(lighttpd) ;;
			apache|apache-fcgid|fcgid) out+=(apache-fcgid) ;;
			apache-proxy|proxy) out+=(apache-proxy) ;;
			*) die "unknown router $r (lighttpd, apache, apache-proxy)" ;;
		esac
	done
	[ ${#out[@]} -gt 0 ] || out=(lighttpd)
	echo "${out[@]}"
}

case $cmd in
start)
	routers=$(routers_of "$@")
	if is_up; then
		say "the stack in $S is already up: http://127.0.0.1:$HTTP_PORT/ ('make stop' to stop it)"
		exit 0
	fi
	[ -x "$ROOT/$B/cgi-bin/api.fcgi" ] || die "build first: make"
	init_state; load_state
	make_run_dirs
	stage_app
	write_config
	pg_init; pg_start
	redis_start
	migrate
	bootstrap
	start_workers
	: > "$S/routers"
	ports=("$HTTP_PORT" "$HTTP_PORT2" "$HTTP_PORT3")
	n=0
	for r in $routers; do
		PORT=${ports[$n]}; n=$((n + 1))
		case $r in
			lighttpd) start_lighttpd ;;
			apache-fcgid) start_apache fcgid ;;
			apache-proxy) start_apache proxy ;;
		esac
		echo "$r $PORT" >> "$S/routers"
	done
	first=$HTTP_PORT
	cat <<MSG
custos is up.
  URL:    http://127.0.0.1:$first/   (health: http://127.0.0.1:$first/-/health/ready/)
  admin:  http://127.0.0.1:$first/if/admin/   (log in as akadmin)
  user:   http://127.0.0.1:$first/if/user/
  router: $routers
  logs:   $LOG/
  config: $S/custos.conf
  stop:   make stop     (data in $S is kept for the next 'make run')
MSG
	[ -z "$BOOTSTRAP_OUT" ] || printf '%s\n' "$BOOTSTRAP_OUT"
	;;
stop)
	[ -f "$S/stack.env" ] || { say "no stack in $S"; exit 0; }
	load_state
	app_paths
	stop_lighttpd
	stop_apache fcgid
	stop_apache proxy
	stop_responders
	stop_workers
	redis_stop
	pg_stop
	say "stopped the stack in $S"
	;;
status)
	[ -f "$S/stack.env" ] || { say "no stack in $S"; exit 1; }
	load_state
	while read -r r port; do
		if pidalive "$RUN/$r.pid"; then echo "$r: up on 127.0.0.1:$port"; else echo "$r: down"; fi
	done < "$S/routers"
	if pidalive "$REDISRUN/redis.pid"; then echo "redis: up"; else echo "redis: down"; fi
	if as "$PGUSER_OS" "$PGBIN/pg_ctl" -D "$(pg_data)" status >/dev/null 2>&1; then echo "postgresql: up"; else echo "postgresql: down"; fi
	;;
worker-start) load_state; app_paths; start_workers ;;
worker-stop) load_state; stop_workers ;;
pg-stop) load_state; pg_stop ;;
pg-start) load_state; pg_start ;;
redis-stop) load_state; redis_stop ;;
redis-start) load_state; redis_start ;;
*) die "unknown command $cmd" ;;
esac
