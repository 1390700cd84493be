"""Read pip-audit's JSON report and say what it means: audited, vulnerable, or unchecked.

Usage: pip_audit_verdict.py REPORT.json PIP_AUDIT_EXIT_STATUS STDERR.log
Exit status: 0 when nothing known is vulnerable or the advisory data was not reachable
(said plainly), 1 when a dependency has a known vulnerability.
"""

import json
import sys
from pathlib import Path

UNREACHABLE = "pip-audit: advisory data not reachable, skipped"


def verdict(report_text, status, log_text):
    """(exit status, lines to print) for one pip-audit run."""
    try:
        dependencies = json.loads(report_text)["dependencies"]
    except (ValueError, KeyError, TypeError):
        # No report at all: pip-audit could not reach its service (or crashed).
        if status != 0 and _looks_like_network(log_text):
            return 0, [UNREACHABLE, _last_line(log_text)]
        return 1, ["pip-audit failed:", log_text.strip()]
    audited = [d for d in dependencies if "skip_reason" not in d]
    vulnerable = [d for d in audited if d.get("vulns")]
    if vulnerable:
        return 1, [_describe(d) for d in vulnerable]
    if not audited:
        return 0, [f"{UNREACHABLE} ({len(dependencies)} packages, none could be looked up)"]
    skipped = len(dependencies) - len(audited)
    note = f"; {skipped} not found in the advisory data" if skipped else ""
    return 0, [f"pip-audit: no known vulnerabilities in {len(audited)} packages{note}"]


def _describe(dependency):
    ids = ", ".join(
        f"{vuln['id']} (fixed in {', '.join(vuln.get('fix_versions') or ['no release yet'])})"
        for vuln in dependency["vulns"]
    )
    return f"pip-audit: {dependency['name']} {dependency['version']} is vulnerable: {ids}"


def _looks_like_network(log_text):
    markers = ("ConnectionError", "NameResolutionError", "Max retries", "timed out", "SSLError")
    return any(marker in log_text for marker in markers)


def _last_line(text):
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return f"  ({lines[-1].strip()[:200]})" if lines else ""


def main(report_path, status, log_path):
    report = Path(report_path)
    log = Path(log_path)
    code, lines = verdict(
        report.read_text() if report.exists() else "",
        int(status),
        log.read_text() if log.exists() else "",
    )
    print("\n".join(line for line in lines if line))
    return code


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
