# Two commands for a fresh machine: `make run` (the platform on its embedded default) and
# `make test` (the test suite). Only Python 3.11 and pip are needed; the virtualenv is .venv/.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
WEB_PORT ?= 8000
# The demo's simulated Magento shop (Procfile `shop`), next to the web port: `make run` only
# (exported to every target, `make test` would connect the demo shop in the demo's own tests).
DEMO_SHOP_PORT ?= $(shell expr $(WEB_PORT) + 1)
export WEB_PORT

.PHONY: install install-dev run test test-e2e lint format migrations-check schema bench messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed-run

install: $(VENV)/.installed-run
install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/python manage.py migrate --noinput
	DEMO_SHOP_PORT=$(DEMO_SHOP_PORT) $(BIN)/python manage.py demo
	DEMO_SHOP_PORT=$(DEMO_SHOP_PORT) PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile

test: install-dev
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: install-dev
	$(BIN)/python manage.py makemigrations --check --dry-run

schema: install-dev
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file var/openapi.yaml

bench: install-dev
	$(BIN)/python -m bench

# Compile the translations with polib, so no machine needs GNU gettext to run the app.
messages: install-dev
	$(BIN)/python manage.py compiletranslations

clean:
	rm -rf $(VENV) var/
