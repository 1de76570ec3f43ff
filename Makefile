# The README's commands. `make run` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum requirements.lock | cut -d' ' -f1)

# In CI the suite runs on the machine's PostgreSQL and Redis; elsewhere these may be overridden.
ifeq ($(CI),true)
export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/npq_portal
export TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
endif

.PHONY: install run test lint format demo-code worker beat bench chromium frontend clean

$(STAMP): requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

run: install  ## install, migrate, load demo data and serve http://127.0.0.1:8000
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: install chromium  ## install and run the whole suite (CI=true: PostgreSQL, Redis, real worker)
	$(BIN)/python scripts/check_services.py
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

demo-code: install  ## the two-factor code demo staff accounts need right now
	@$(BIN)/python manage.py seed_demo --code

worker: install  ## a Celery worker (needs CELERY_BROKER_URL)
	$(BIN)/celery -A npq_portal worker --loglevel=INFO

beat: install  ## Celery beat, running CELERY_BEAT_SCHEDULE from settings (needs CELERY_BROKER_URL)
	$(BIN)/celery -A npq_portal beat --loglevel=INFO --schedule=$(VENV)/celerybeat-schedule

bench: install  ## engagement tally benchmark on PostgreSQL (BENCH_DATABASE_URL; not part of make test)
	$(BIN)/python bench/engagement.py $(BENCH_ARGS)

chromium:  ## Debian's Chromium for the browser tests (Playwright cannot download browsers here)
	@test -x /usr/bin/chromium || scripts/install_chromium.sh

frontend:  ## rebuild static/vendor/govuk-frontend from the pinned npm packages (needs Node)
	scripts/build_frontend.sh

clean:
	rm -rf $(VENV) db.sqlite3 test-db.sqlite3 staticfiles test-artifacts
