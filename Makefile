# Rundbrief: `make run` to try it, `make test` to test it. Needs only Python 3.11+ and make.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(abspath $(BIN)):$(PATH)

# What the suite uses on the project's machines (see README "Testing").
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/rundbrief
TEST_REDIS_URL ?= redis://127.0.0.1:6379/9

.PHONY: install install-dev run test test-postgres test-embedded lint security bandit pip-audit \
	format bench bench-smoke messages backup restore admin-password manage clean

$(BIN)/.installed: requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip uv
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -r requirements.lock
	touch $@

$(BIN)/.installed-dev: $(BIN)/.installed requirements-dev.lock
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -r requirements-dev.lock
	scripts/install-test-tools.sh
	touch $@

install: $(BIN)/.installed
install-dev: $(BIN)/.installed-dev

run: install
	scripts/run.sh

lint: install-dev
	ruff check .
	ruff format --check .

format: install-dev
	ruff check --fix .
	ruff format .

# Static security checks of the code and the locked dependencies (README "Security").
security: bandit pip-audit

# Findings are fixed or marked `# nosec <test>` with a reason; settings in pyproject.toml.
# (bandit warns about nosec comments on multi-line strings it checks part by part.)
bandit: install-dev
	bandit -q -c pyproject.toml -r . 2> >(grep -v "nosec encountered" >&2)

# Fails on a known vulnerability; says plainly when the advisory data is not reachable.
pip-audit: install-dev
	scripts/pip-audit.sh

# The whole suite twice: on PostgreSQL + Redis (started if down), then on the embedded
# default (SQLite, file broker) without the browser tests, which need no second database.
test: lint security test-postgres test-embedded

test-postgres: install-dev
	scripts/ensure-services.sh
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		scripts/pytest.sh --create-db $(PYTEST_ARGS)

test-embedded: install-dev
	env -u DATABASE_URL -u REDIS_URL scripts/pytest.sh --create-db -m "not browser" $(PYTEST_ARGS)

bench: install-dev
	scripts/ensure-services.sh
	python -m benchmarks

bench-smoke: install-dev
	scripts/ensure-services.sh
	python -m benchmarks --smoke

# One catalogue for the whole project in locale/ (LOCALE_PATHS). The compiled .mo files
# are committed, so a machine without gettext still shows German. Needs gettext; the
# test settings only spare it a SECRET_KEY.
MESSAGES_IGNORE := -i .venv -i node_modules -i var -i benchmarks -i tests -i test-artifacts
messages: install
	DJANGO_SETTINGS_MODULE=config.test_settings python manage.py makemessages -l de \
		--no-obsolete --add-location=file $(MESSAGES_IGNORE)
	DJANGO_SETTINGS_MODULE=config.test_settings python manage.py compilemessages -l de \
		$(MESSAGES_IGNORE)

# The database (pg_dump, or SQLite's backup API) and the media files in one archive under
# var/backups/ (README "Backups"). Uses the environment's settings; with no SECRET_KEY
# set, the development site of `make run`.
backup: install
	scripts/manage.sh backup

restore: install
	@if [ -z "$(FILE)" ]; then echo "Usage: make restore FILE=var/backups/rundbrief-….tar.gz" >&2; exit 2; fi
	scripts/manage.sh restore "$(FILE)"

# A lost admin password: a new one for `admin` (or USER_NAME=name), printed once (README "Try it").
admin-password: install
	scripts/manage.sh admin_password $(if $(USER_NAME),--username "$(USER_NAME)")

# Any manage.py command with the same environment as `make run` (or production's, when
# SECRET_KEY is set): make manage CMD="changepassword admin"
manage: install
	@if [ -z "$(CMD)" ]; then echo 'Usage: make manage CMD="createsuperuser"' >&2; exit 2; fi
	scripts/manage.sh $(CMD)

clean:
	rm -rf $(VENV) var node_modules
