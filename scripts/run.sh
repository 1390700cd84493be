#!/usr/bin/env bash
# `make run`: migrate, seed the demo, then run web server, Celery worker and scheduler
# together. Ctrl-C stops all three. Honours the same environment as production
# (DATABASE_URL, REDIS_URL, EMAIL_URL, EMAIL_PROVIDER, ...); only development defaults
# are set here.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var

source scripts/dev-env.sh

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
echo "Rundbrief runs on $SITE_URL (admin: $SITE_URL/admin/, demo: $SITE_URL/demo/). Ctrl-C stops it."
echo "Lost the admin password: make admin-password. Any manage.py command: scripts/manage.sh <command>."
wait -n
