#!/usr/bin/env bash
# make bench [QUICK=1]: the benchmark of DESIGN.md section 8 on a throwaway PostgreSQL + Redis.
# The PostgreSQL cluster lives in .tmp/bench/pg and is kept between runs, so a data set built
# once (same scale and seed) is reused; Redis starts empty each time. Both stop on exit.
# Usage: scripts/bench.sh [--quick] [--seed N] [--rebuild] [--output PATH]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh   # _pg_bin, _free_port, _as, _owner_for, services_available
unset DATABASE_URL REDIS_URL CELERY_BROKER_URL DJANGO_DEBUG DJANGO_SECRET_KEY DJANGO_ALLOWED_HOSTS

if ! services_available; then
  echo "make bench needs PostgreSQL and Redis: apt-get install postgresql redis-server" >&2
  exit 1
fi

BENCH_DIR="$PWD/.tmp/bench"
pg_bin=$(_pg_bin)
pg_user=$(_owner_for postgres)
redis_user=$(_owner_for redis)
mkdir -p "$BENCH_DIR/pg" "$BENCH_DIR/redis"
chmod 755 "$PWD/.tmp" "$BENCH_DIR"
rm -rf "$BENCH_DIR/redis"/*
if [[ $(id -u) -eq 0 ]]; then
  chown "$pg_user" "$BENCH_DIR/pg"
  chown "$redis_user" "$BENCH_DIR/redis"
fi

bench_stop() {
  [[ -n ${redis_port:-} ]] && redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
  _as "$pg_user" "$pg_bin/pg_ctl" -D "$BENCH_DIR/pg/data" -m fast stop >/dev/null 2>&1 || true
}
trap bench_stop EXIT

if [[ ! -f $BENCH_DIR/pg/data/PG_VERSION ]]; then
  rm -rf "$BENCH_DIR/pg/data"
  _as "$pg_user" "$pg_bin/initdb" -D "$BENCH_DIR/pg/data" -U presidio -A trust -E UTF8 \
    --no-locale >"$BENCH_DIR/pg/initdb.log" 2>&1 || { cat "$BENCH_DIR/pg/initdb.log"; exit 1; }
fi
pg_port=$(_free_port)
# Durable as in production (fsync and synchronous commit on); memory sized for a small box.
_as "$pg_user" "$pg_bin/pg_ctl" -D "$BENCH_DIR/pg/data" -l "$BENCH_DIR/pg/server.log" -w -t 120 \
  -o "-c listen_addresses=127.0.0.1 -c port=$pg_port -c unix_socket_directories='' \
      -c max_connections=200 -c shared_buffers=1GB -c effective_cache_size=4GB \
      -c work_mem=16MB -c maintenance_work_mem=512MB -c max_wal_size=8GB \
      -c checkpoint_timeout=15min -c random_page_cost=1.1 -c jit=off" \
  start >/dev/null || { tail -n 30 "$BENCH_DIR/pg/server.log"; exit 1; }

redis_port=$(_free_port)
_as "$redis_user" redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$BENCH_DIR/redis" \
  --appendonly yes --maxmemory-policy noeviction --save '' --daemonize yes \
  --pidfile "$BENCH_DIR/redis/redis.pid" --logfile "$BENCH_DIR/redis/redis.log"
for _ in $(seq 50); do
  redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
  sleep 0.1
done

export BENCH_SERVER_URL="postgres://presidio@127.0.0.1:$pg_port/postgres"
export REDIS_URL="redis://127.0.0.1:$redis_port/0"
export CELERY_BROKER_URL="redis://127.0.0.1:$redis_port/1"
echo "PostgreSQL on 127.0.0.1:$pg_port (data kept in $BENCH_DIR/pg), Redis on 127.0.0.1:$redis_port"
nice -n "${BENCH_NICE:-10}" .venv/bin/python scripts/bench.py --server-url "$BENCH_SERVER_URL" "$@"
