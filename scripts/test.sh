#!/usr/bin/env bash
# The whole suite: lint, then pytest on SQLite, then on a throwaway PostgreSQL + Redis.
# Usage: scripts/test.sh [all|sqlite|postgres] [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-all}
shift || true
PY=.venv/bin/python
# The suite chooses its own servers: nothing from the caller's environment leaks in.
unset DATABASE_URL REDIS_URL CELERY_BROKER_URL DJANGO_DEBUG DJANGO_SECRET_KEY DJANGO_ALLOWED_HOSTS

if [[ $mode == all ]]; then
  echo "== lint"
  .venv/bin/ruff check .
  .venv/bin/ruff format --check .
  .venv/bin/lint-imports --no-cache >/dev/null
fi

if [[ $mode == all || $mode == sqlite ]]; then
  echo "== tests on SQLite"
  $PY -m pytest "$@"
fi

if [[ $mode == all || $mode == postgres ]]; then
  source scripts/services.sh
  if ! services_available; then
    if [[ ${CI:-} == true ]]; then
      echo "PostgreSQL and Redis are required under CI=true but are not installed." >&2
      exit 1
    fi
    echo "== PostgreSQL/Redis not installed: skipping the PostgreSQL run (apt-get install postgresql redis-server)"
    exit 0
  fi
  trap services_stop EXIT
  services_start
  echo "== tests on PostgreSQL + Redis"
  $PY -m pytest "$@"
fi
