# Two commands on a fresh clone: `make run` and `make test`. Only Python 3.11 is needed.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# On the embedded default the suite runs in one test process per core (pytest-xdist): each
# test that starts a real worker and beat gives them a broker folder of their own. Against
# Redis it runs in one process, since a worker started by one test would take the tasks that
# tests running beside it publish. PYTEST_WORKERS=0 runs it in one process anywhere.
PYTEST_WORKERS ?= $(if $(CELERY_BROKER_URL),0,auto)

.PHONY: run test install install-dev migrate demo lint clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.11 was not found; install it or run: make PYTHON=/path/to/python3.11 ..."; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' || { echo "Redress needs Python 3.11, but $(PYTHON) is $$($(PYTHON) --version 2>&1). Run: make PYTHON=/path/to/python3.11 ..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.installed-runtime

install: $(VENV)/.installed-runtime
install-dev: $(VENV)/.installed-dev

migrate: install
	@mkdir -p var
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py demo_data

## Serve the portal and admin on http://127.0.0.1:8000 with a Celery worker and beat.
run: demo
	@echo "Serving on http://127.0.0.1:$${REDRESS_PORT:-8000}/ (admin: /admin/). Ctrl-C stops everything."
	$(BIN)/honcho start -f Procfile

# Browser tests (tests/browser) need a Chromium and npm (axe-core). CHROMIUM_PATH, when set,
# wins; else /usr/bin/chromium, else chromium or chromium-browser on PATH. Without both, `make
# test` deselects them and says so (REDRESS_REQUIRE_BROWSER=1 makes that an error, as in CI).
CHROMIUM_PATH := $(or $(CHROMIUM_PATH),$(firstword $(foreach c,/usr/bin/chromium chromium chromium-browser,$(shell command -v $(c) 2>/dev/null))))
CHROMIUM_FOUND = $(if $(CHROMIUM_PATH),$(shell command -v "$(CHROMIUM_PATH)" 2>/dev/null))
NPM ?= $(shell command -v npm 2>/dev/null)
BROWSER_SKIPPED = Browser tests SKIPPED: $(strip \
  $(if $(CHROMIUM_FOUND),,no Chromium found (install Debian's chromium, or set CHROMIUM_PATH)$(if $(NPM),,; ))\
  $(if $(NPM),,npm not found (install Node.js and npm: the accessibility test needs axe-core)))

## Run the whole test suite (SQLite and the filesystem broker unless DATABASE_URL / CELERY_BROKER_URL are set).
## Includes the browser tests when Chromium and npm are found.
test: install-dev
	@mkdir -p var
ifeq ($(and $(CHROMIUM_FOUND),$(NPM)),)
	@if [ "$${REDRESS_REQUIRE_BROWSER:-}" = 1 ]; then echo "$(BROWSER_SKIPPED): not allowed, REDRESS_REQUIRE_BROWSER=1"; exit 1; fi
	@echo "$(BROWSER_SKIPPED)"
	REDRESS_BROWSER_SKIPPED="$(BROWSER_SKIPPED)" $(BIN)/pytest -n $(PYTEST_WORKERS) -m "not browser" $(PYTEST_ARGS)
else
	@if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then \
	  echo "$(NPM) ci --no-audit --no-fund"; "$(NPM)" ci --no-audit --no-fund && touch node_modules; \
	fi
	@echo "Browser tests: Chromium at $(CHROMIUM_FOUND)"
	CHROMIUM_PATH="$(CHROMIUM_FOUND)" $(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)
endif

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit -q -r accounts complaints escalation config -x "*/migrations/*" -ll
	$(BIN)/python .ci/pip_audit_check.py

clean:
	rm -rf var/broker var/celerybeat-schedule* var/test*.sqlite3*
