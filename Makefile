# Development tasks. Without DATABASE_URL / REDIS_URL in the environment, `run`, `test` and `lint`
# start an embedded PostgreSQL and Redis (data in var/); with them set, those servers are used.

PYTHON ?= python3
VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EMBEDDED := $(VENV_PYTHON) -m core.embedded
PYTEST_ARGS ?=
# One pytest process per core, each with its own test database (pytest-xdist); 1 for one process.
TEST_WORKERS ?= auto

.PHONY: help install run test lint fmt browser axe clean

help:
	@echo "make run      start the app (web, Celery worker and beat) with demo data on http://$${HOST:-127.0.0.1}:$${PORT:-8000}/"
	@echo "make test     run the tests (PYTEST_ARGS=... to pass options to pytest)"
	@echo "make lint     ruff check, ruff format --check, and no missing migrations"
	@echo "make fmt      format the code and apply ruff's safe fixes"
	@echo "make install  create $(VENV) and install the project with its dev and embedded extras"
	@echo "make browser  install Chromium for the browser tests (Debian, as root)"
	@echo "make axe      install axe-core (accessibility checks of the browser tests) into var/axe/"
	@echo "make clean    remove $(VENV)"

$(VENV_PYTHON):
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml changed since the last install.
$(STAMP): pyproject.toml | $(VENV_PYTHON)
	$(VENV_PYTHON) -m pip install -e ".[dev,embedded]"
	touch $(STAMP)

install: $(STAMP)

run: install
	DJANGO_SETTINGS_MODULE=medtech.settings.local $(EMBEDDED) run

test: install browser axe
	$(EMBEDDED) exec -- $(VENV_PYTHON) -m pytest -n $(TEST_WORKERS) --maxschedchunk 1 $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DJANGO_SETTINGS_MODULE=medtech.settings.local $(EMBEDDED) exec -- $(VENV_PYTHON) manage.py makemigrations --check --dry-run

fmt: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The browser tests drive Chromium (and axe-core, fetched with npm's client by `make axe`);
# without them they are skipped (with the reason shown).
browser:
	@sh scripts/install_browser_deps.sh

# axe-core from the npm registry (npm pack; pinned version and sha512), into var/axe/.
axe: install
	$(VENV_PYTHON) scripts/fetch_axe.py

clean:
	rm -rf $(VENV)
