#!/usr/bin/env bash
# Check the locked dependencies against known vulnerabilities (PyPI's advisory data).
# Fails on a known vulnerability. Where the advisory data cannot be reached (no network,
# or an index mirror without PyPI's per-release JSON, which makes pip-audit report every
# package as "not found on PyPI" and exit 0), it says so plainly and does not fail:
# that is "not checked", never "no vulnerabilities".
set -u
cd "$(dirname "$0")/.."
report="$(mktemp)"
trap 'rm -f "$report"' EXIT
pip-audit --requirement requirements-dev.lock --no-deps --disable-pip --progress-spinner off \
  --format json --output "$report" 2>"$report.log"
status=$?
python scripts/pip_audit_verdict.py "$report" "$status" "$report.log"
verdict=$?
rm -f "$report.log"
exit "$verdict"
