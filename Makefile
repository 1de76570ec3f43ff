# The README's commands. `make run` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two locks, both with hashes: requirements.lock is production's (what the image installs);
# requirements-dev.lock adds the test and lint tools. Each target installs the one it needs.
STAMP := $(VENV)/.installed-$(shell cksum requirements.lock | cut -d' ' -f1)
DEV_STAMP := $(VENV)/.installed-dev-$(shell cksum requirements-dev.lock | cut -d' ' -f1)

# In CI the suite runs on the machine's PostgreSQL and Redis; elsewhere these may be overridden.
ifeq ($(CI),true)
export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/npq_portal
export TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
endif

.PHONY: install install-dev run test lint format demo-code worker beat bench chaos chromium frontend clean

$(STAMP): requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	rm -f $(VENV)/.installed-[0-9]*
	touch $@

$(DEV_STAMP): requirements-dev.lock $(STAMP)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	rm -f $(VENV)/.installed-dev-*
	touch $@

install: $(STAMP)

install-dev: $(DEV_STAMP)

run: install  ## install, migrate, load demo data and serve http://127.0.0.1:8000
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: install-dev chromium  ## install and run the whole suite (CI=true: PostgreSQL, Redis, real worker)
	$(BIN)/python scripts/check_services.py
	scripts/check_compose.sh
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache  # the floors of docs/architecture.md
	$(BIN)/pytest

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

demo-code: install  ## the two-factor code demo staff accounts need right now
	@$(BIN)/python manage.py seed_demo --code

worker: install  ## a Celery worker (needs CELERY_BROKER_URL)
	$(BIN)/celery -A npq_portal worker --loglevel=INFO

beat: install  ## Celery beat, running CELERY_BEAT_SCHEDULE from settings (needs CELERY_BROKER_URL)
	$(BIN)/celery -A npq_portal beat --loglevel=INFO --schedule=$(VENV)/celerybeat-schedule

bench: install  ## every measurement at 100,000 participants in one table, into docs/benchmarks.md (BENCH_DATABASE_URL; not part of make test)
	@command -v wrk >/dev/null || scripts/install_wrk.sh
	$(BIN)/python bench/run.py $(BENCH_ARGS)

chaos: install-dev  ## the fault trial (scripts/chaos.py, docs/reliability.md): its own Redis, SMTP sink and database; not part of make test
	$(BIN)/python scripts/chaos.py $(CHAOS_ARGS)

chromium:  ## Debian's Chromium for the browser tests (Playwright cannot download browsers here)
	@test -x /usr/bin/chromium || scripts/install_chromium.sh

frontend:  ## rebuild static/vendor/govuk-frontend from the pinned npm packages (needs Node)
	scripts/build_frontend.sh

clean:
	rm -rf $(VENV) db.sqlite3 test-db.sqlite3 staticfiles test-artifacts
