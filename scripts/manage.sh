#!/usr/bin/env bash
# `scripts/manage.sh <command> [args]` (or `make manage CMD="..."`): manage.py with the
# environment as given (production: SECRET_KEY etc. set) or, when no SECRET_KEY is set,
# the development site of `make run` (its key in var/, DEBUG, RUNDBRIEF_ENV=development).
# `make backup`, `make restore` and `make admin-password` run through it.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
# Called directly rather than through make: the project's .venv, unless the python on
# PATH already has Django (make puts its VENV first).
if [ -x .venv/bin/python ] && ! python -c 'import django' 2>/dev/null; then
  export PATH="$PWD/.venv/bin:$PATH"
fi
if [ -z "${SECRET_KEY:-}" ] && [ -z "${SECRET_KEY_FILE:-}" ]; then
  source scripts/dev-env.sh
fi
exec python manage.py "$@"
