#!/usr/bin/env bash
# Check the locked dependencies against known vulnerabilities (PyPI's advisory data).
# Fails on a known vulnerability. Where the advisory data cannot be reached (no network,
# or an index mirror without PyPI's per-release JSON, which makes pip-audit report every
# package as "not found on PyPI" and exit 0), it says so plainly and does not fail:
# that is "not checked", never "no vulnerabilities".
set -u
cd "$(dirname "$0")/.."
report="$(mktemp)"
log="$(mktemp)"
trap 'rm -f "$report" "$log"' EXIT
# The dev lock holds every package the production lock does, plus the tools.
pip-audit --requirement requirements-dev.lock --no-deps --disable-pip --progress-spinner off \
  --format json --output "$report" 2>"$log"
python scripts/pip_audit_verdict.py "$report" "$?" "$log"
