# Shu-Kang: `make run` serves the site, `make test` runs every suite.
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py

# Django 6.1 needs Python 3.12 or newer: take the newest suitable interpreter.
PYTHON ?= $(shell for p in python3.13 python3.12 python3; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
	echo $$p; break; fi; done)

# The embedded development stack unless the environment says otherwise.
export DJANGO_DEBUG ?= true

.PHONY: run test test-sqlite lint format messages translations clean

$(BIN)/python:
	@if [ -z "$(PYTHON)" ]; then echo "Python 3.12 or newer is required: install python3.12 or python3.13 (or pyenv install 3.13) and run make again." >&2; exit 1; fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed-run

# This checkout's development settings, written once (config/envfile.py): DEBUG
# on and a generated secret key, so every manage.py command works as it is.
.env.local: | $(VENV)/.installed-run
	$(BIN)/python -m config.envfile $@

translations: $(VENV)/.installed-run
	$(MANAGE) compiletranslations

# The site, the task worker (e-mails, pushes to many sockets) and the
# scheduler (salon reminders, pruning) in one terminal; Ctrl-C stops all three.
run: $(VENV)/.installed-run translations .env.local
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo
	@$(MANAGE) db_worker --queue-name '*' --interval 0.5 --verbosity 0 & worker=$$!; \
	$(MANAGE) crontask >/dev/null & scheduler=$$!; \
	trap 'kill $$worker $$scheduler 2>/dev/null; wait' EXIT INT TERM; \
	$(MANAGE) runserver 127.0.0.1:$(PORT)

test: $(VENV)/.installed-dev translations .env.local
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Refresh the message files after changing user-facing strings (needs GNU gettext).
messages: $(VENV)/.installed-dev
	$(MANAGE) makemessages --locale zh_Hans --no-obsolete --ignore '.venv/*' --ignore 'staticfiles/*' --ignore 'tests/*' --ignore 'bench/*'
	$(MANAGE) makemessages --locale zh_Hans --domain djangojs --no-obsolete --ignore '.venv/*' --ignore 'staticfiles/*' --ignore 'tests/*' --ignore 'bench/*'

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
	find . -name '*.mo' -path './locale/*' -delete
