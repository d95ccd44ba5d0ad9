#!/usr/bin/env bash
# The whole suite: lint, then pytest three times on SQLite side by side with the machine's clock
# moved to dates that stress calendars, then on a throwaway PostgreSQL + Redis at today's clock.
# Usage: scripts/test.sh [all|sqlite|dates|postgres] [pytest args...]
# (`sqlite` is one pass on SQLite at today's clock, for a quick check while working.)
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
  .venv/bin/mypy
fi

if [[ $mode == sqlite ]]; then
  echo "== tests on SQLite"
  $PY -m pytest "$@"
fi

# Tests start at `now` (tests/conftest.py); what keeps the process clock (browser tests and
# their live server, real workers) must hold on any date. Three passes side by side, each with
# the process clock moved by `--clock-at` and the machine in another time zone: the night
# before the spring DST change in Rome, Ferragosto (a Sunday), New Year's Eve.
CLOCKS=(
  "Europe/Rome 2027-03-27T23:30:00+01:00"
  "UTC 2027-08-15T10:00:00+02:00"
  "America/New_York 2027-12-31T23:59:00+01:00"
)
if [[ $mode == all || $mode == dates ]]; then
  echo "== tests on SQLite with the clock moved"
  mkdir -p .tmp
  pids=()
  for i in "${!CLOCKS[@]}"; do
    read -r zone at <<<"${CLOCKS[$i]}"
    # The API fuzz (schemathesis, a minute a pass) sends its requests at the test's own clock:
    # the first pass and the PostgreSQL one run it; in the other two it would only cost time.
    skip=()
    (( i == 0 )) || skip=(--ignore=tests/config/test_api_fuzz.py)
    TZ=$zone $PY -m pytest -q --clock-at="$at" "${skip[@]}" "$@" \
      >".tmp/test-at-${at:0:10}.log" 2>&1 &
    pids+=($!)
  done
  failed=0
  for i in "${!CLOCKS[@]}"; do
    read -r zone at <<<"${CLOCKS[$i]}"
    log=".tmp/test-at-${at:0:10}.log"
    if wait "${pids[$i]}"; then
      echo "$at (machine in $zone): $(tail -n 1 "$log")"
    else
      failed=1
      echo "== $at (machine in $zone): failed"
      grep -E '^(FAILED|ERROR) ' "$log" || tail -n 60 "$log"
      tail -n 1 "$log"
    fi
  done
  (( failed == 0 )) || exit 1
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
