#!/usr/bin/env bash
# Run pytest and treat "no tests collected" (exit 5) as the failure it is.
set -u
pytest "$@"
status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: failing the run" >&2
  exit 1
fi
exit "$status"
