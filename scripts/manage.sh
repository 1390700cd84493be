#!/usr/bin/env bash
# `make backup` / `make restore`: manage.py with the environment as given (production:
# SECRET_KEY etc. set) or, when no SECRET_KEY is set, the development site of `make run`.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
if [ -z "${SECRET_KEY:-}" ] && [ -z "${SECRET_KEY_FILE:-}" ]; then
  source scripts/dev-env.sh
fi
exec python manage.py "$@"
