# Presidio: `make run` serves the portal, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Named by pyproject.toml's content: a checkout that only touches the file's time (a pull, a
# branch switch) does not reinstall; a changed pyproject.toml does.
STAMP := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)
# English is the source language; Italian (the default) is the catalogue to keep complete.
MAKEMESSAGES_ARGS := --locale it --no-obsolete --ignore '.venv/*' --ignore '.tmp/*' \
	--ignore 'tests/*' --ignore 'staticfiles/*' --ignore 'scripts/*'

.PHONY: run test test-sqlite test-dates test-postgres lint format messages clean bench

$(STAMP):
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet ".[dev]"
	@rm -rf build *.egg-info
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

# migrate (when pending) and seed_demo run inside scripts/run.py: one Django start-up.
run: $(STAMP)
	$(PY) scripts/run.py

test: $(STAMP)
	bash scripts/test.sh

test-sqlite: $(STAMP)
	bash scripts/test.sh sqlite

# The SQLite suite three times at once, the process clock at dates that stress calendars.
test-dates: $(STAMP)
	bash scripts/test.sh dates

test-postgres: $(STAMP)
	bash scripts/test.sh postgres

# DESIGN.md section 8 on a throwaway PostgreSQL + Redis: bench/results.json and a table.
# QUICK=1: the small data set (a couple of minutes); BENCH_ARGS="--seed 2 --rebuild" etc.
bench: $(STAMP)
	bash scripts/bench.sh $(if $(QUICK),--quick) $(BENCH_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Refresh the message catalogues after adding strings (needs GNU gettext).
messages: $(STAMP)
	$(PY) manage.py makemessages $(MAKEMESSAGES_ARGS)
	$(PY) manage.py compilemessages --locale it --ignore '.venv/*'

clean:
	rm -rf .tmp staticfiles build *.egg-info
