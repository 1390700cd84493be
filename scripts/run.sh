#!/usr/bin/env bash
# `make run`: migrate, seed the demo, then run web server, Celery worker and scheduler
# together. Ctrl-C stops all three. Honours the same environment as production
# (DATABASE_URL, REDIS_URL, EMAIL_URL, EMAIL_PROVIDER, ...); only development defaults
# are set here.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var

export RUNDBRIEF_ENV="${RUNDBRIEF_ENV:-development}"
export DEBUG="${DEBUG:-1}"
export PORT="${PORT:-8000}"
export SITE_URL="${SITE_URL:-http://127.0.0.1:$PORT}"
export ALLOWED_HOSTS="${ALLOWED_HOSTS:-127.0.0.1,localhost}"
if [ -z "${SECRET_KEY:-}" ]; then
  # A random development key, kept so that sessions and links survive restarts.
  [ -s var/dev-secret-key ] || python -c 'import secrets; print(secrets.token_urlsafe(50))' > var/dev-secret-key
  export SECRET_KEY="$(cat var/dev-secret-key)"
fi
if [ -z "${SUPPRESSION_HASH_KEY:-}" ]; then
  # Kept like the secret key: a new one would forget the suppressed addresses.
  [ -s var/dev-suppression-key ] || python -c 'import secrets; print(secrets.token_urlsafe(50))' > var/dev-suppression-key
  export SUPPRESSION_HASH_KEY="$(cat var/dev-suppression-key)"
fi

python manage.py migrate --no-input -v 0
python manage.py seed_demo

pids=()
stop() {
  trap - INT TERM EXIT
  echo "Stopping Rundbrief..."
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

celery -A config worker -Q priority,bulk,default -c 2 -l INFO --without-gossip --without-mingle &
pids+=($!)
celery -A config beat -l INFO &
pids+=($!)
python manage.py runserver "127.0.0.1:$PORT" &
pids+=($!)
echo "Rundbrief runs on $SITE_URL (admin: $SITE_URL/admin/). Ctrl-C stops it."
wait -n
