# Throwaway PostgreSQL and Redis on free loopback ports under .tmp/, for tests and benchmarks.
# Source it, then: services_available && services_start && ... ; services_stop
# services_start exports DATABASE_URL, REDIS_URL and CELERY_BROKER_URL.

_pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [[ -n $dir && -x $dir/initdb ]]; then echo "$dir"; return; fi
  command -v initdb >/dev/null 2>&1 && dirname "$(command -v initdb)"
}

_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Servers refuse to run as root: run them as their own system user when we are root.
_as() {
  local user=$1; shift
  if [[ $(id -u) -eq 0 ]]; then
    id -u "$user" >/dev/null 2>&1 || user=nobody
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

_owner_for() {
  local user=$1
  if [[ $(id -u) -eq 0 ]]; then
    id -u "$user" >/dev/null 2>&1 && echo "$user" || echo nobody
  else
    id -un
  fi
}

services_available() {
  [[ -n $(_pg_bin) ]] && command -v redis-server >/dev/null 2>&1
}

services_start() {
  local pg_bin pg_port redis_port pg_user redis_user
  pg_bin=$(_pg_bin)
  SERVICES_DIR="$PWD/.tmp/services-$$"
  rm -rf "$SERVICES_DIR"
  mkdir -p "$SERVICES_DIR/pg" "$SERVICES_DIR/redis"
  pg_user=$(_owner_for postgres)
  redis_user=$(_owner_for redis)
  chmod 755 "$PWD/.tmp" "$SERVICES_DIR"
  if [[ $(id -u) -eq 0 ]]; then
    chown "$pg_user" "$SERVICES_DIR/pg"
    chown "$redis_user" "$SERVICES_DIR/redis"
  fi
  pg_port=$(_free_port)
  redis_port=$(_free_port)

  _as "$pg_user" "$pg_bin/initdb" -D "$SERVICES_DIR/pg/data" -U presidio -A trust -E UTF8 \
    --no-locale --no-sync >"$SERVICES_DIR/pg/initdb.log" 2>&1 \
    || { cat "$SERVICES_DIR/pg/initdb.log"; return 1; }
  # Durability is not under test here: fsync off makes the cluster fast and disposable.
  _as "$pg_user" "$pg_bin/pg_ctl" -D "$SERVICES_DIR/pg/data" -l "$SERVICES_DIR/pg/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -c port=$pg_port -c unix_socket_directories='' \
        -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null || { cat "$SERVICES_DIR/pg/server.log"; return 1; }
  _as "$pg_user" "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U presidio presidio

  # As in production: append-only persistence, no eviction.
  _as "$redis_user" redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$SERVICES_DIR/redis" \
    --appendonly yes --maxmemory-policy noeviction --save '' --daemonize yes \
    --pidfile "$SERVICES_DIR/redis/redis.pid" --logfile "$SERVICES_DIR/redis/redis.log"
  for _ in $(seq 50); do
    redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -p "$redis_port" ping >/dev/null || { cat "$SERVICES_DIR/redis/redis.log"; return 1; }

  SERVICES_PG_BIN=$pg_bin
  SERVICES_PG_USER=$pg_user
  SERVICES_REDIS_PORT=$redis_port
  export DATABASE_URL="postgres://presidio@127.0.0.1:$pg_port/presidio"
  export REDIS_URL="redis://127.0.0.1:$redis_port/0"
  export CELERY_BROKER_URL="redis://127.0.0.1:$redis_port/1"
  echo "PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port (under $SERVICES_DIR)"
}

services_stop() {
  [[ -n ${SERVICES_DIR:-} && -d $SERVICES_DIR ]] || return 0
  redis-cli -p "$SERVICES_REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  _as "$SERVICES_PG_USER" "$SERVICES_PG_BIN/pg_ctl" -D "$SERVICES_DIR/pg/data" -m immediate \
    stop >/dev/null 2>&1 || true
  rm -rf "$SERVICES_DIR"
  SERVICES_DIR=
}
