# Two commands on a fresh clone: `make run` and `make test`. Only Python 3.11 is needed.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

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

## Run the whole test suite (SQLite and the filesystem broker unless DATABASE_URL / CELERY_BROKER_URL are set).
test: install-dev
	@mkdir -p var
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf var/broker var/celerybeat-schedule* var/test*.sqlite3*
