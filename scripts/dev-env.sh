# Sourced by scripts/run.sh and scripts/manage.sh: the development defaults of `make run`.
# Only what the environment does not set already; the keys are kept in var/ so that
# sessions, links and the suppression list survive restarts.
export RUNDBRIEF_ENV="${RUNDBRIEF_ENV:-development}"
export DEBUG="${DEBUG:-1}"
export PORT="${PORT:-8000}"
export SITE_URL="${SITE_URL:-http://127.0.0.1:$PORT}"
export ALLOWED_HOSTS="${ALLOWED_HOSTS:-127.0.0.1,localhost}"
dev_key() {
  [ -s "var/$1" ] || python -c 'import secrets; print(secrets.token_urlsafe(50))' > "var/$1"
  cat "var/$1"
}
if [ -z "${SECRET_KEY:-}" ]; then export SECRET_KEY="$(dev_key dev-secret-key)"; fi
if [ -z "${SUPPRESSION_HASH_KEY:-}" ]; then
  export SUPPRESSION_HASH_KEY="$(dev_key dev-suppression-key)"
fi
