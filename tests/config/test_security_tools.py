"""`make test` runs bandit on the code and pip-audit on the locked dependencies."""

import importlib.util
import json
import re
import shutil
import subprocess

import pytest

from tests.config.test_settings import BASE_DIR

spec = importlib.util.spec_from_file_location(
    "pip_audit_verdict", BASE_DIR / "scripts" / "pip_audit_verdict.py"
)
pip_audit_verdict = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pip_audit_verdict)
BANDIT = shutil.which("bandit")


def make_target(name):
    match = re.search(rf"^{name}:(.*)$", (BASE_DIR / "Makefile").read_text(), re.MULTILINE)
    return match.group(1).split()


def test_make_test_runs_bandit_and_pip_audit():
    assert "security" in make_target("test")
    assert {"bandit", "pip-audit"} <= set(make_target("security"))


def bandit(path):
    return subprocess.run(
        [BANDIT, "-q", "-c", str(BASE_DIR / "pyproject.toml"), "-r", str(path)],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.skipif(not BANDIT, reason="bandit not installed (make install-dev installs it)")
def test_bandit_finds_nothing_unjustified_in_the_application_code():
    result = bandit(".")
    assert result.returncode == 0, result.stdout


@pytest.mark.skipif(not BANDIT, reason="bandit not installed (make install-dev installs it)")
def test_bandit_reports_an_insecure_call_in_application_code(tmp_path):
    app = tmp_path / "someapp"
    app.mkdir()
    (app / "views.py").write_text("import subprocess\n\nsubprocess.call('ls ' + x, shell=True)\n")
    result = bandit(app)
    assert result.returncode == 1
    assert "B602" in result.stdout


def audit(dependencies, status=0, log=""):
    return pip_audit_verdict.verdict(json.dumps({"dependencies": dependencies}), status, log)


def test_pip_audit_fails_on_a_known_vulnerability():
    code, lines = audit(
        [
            {
                "name": "django",
                "version": "5.2.0",
                "vulns": [{"id": "PYSEC-1", "fix_versions": ["5.2.1"]}],
            },
            {"name": "bleach", "version": "6.2.0", "vulns": []},
        ],
        status=1,
    )
    assert code == 1
    assert lines == ["pip-audit: django 5.2.0 is vulnerable: PYSEC-1 (fixed in 5.2.1)"]


def test_pip_audit_passes_when_nothing_known_is_vulnerable():
    code, lines = audit(
        [
            {"name": "django", "version": "5.2.0", "vulns": []},
            {"name": "private", "version": "1.0", "skip_reason": "Dependency not found on PyPI"},
        ]
    )
    assert code == 0
    assert lines == [
        "pip-audit: no known vulnerabilities in 1 packages; 1 not found in the advisory data"
    ]


def test_pip_audit_says_plainly_when_no_package_could_be_looked_up():
    # A mirror without PyPI's per-release JSON: every package "not found", exit status 0.
    skipped = {"skip_reason": "Dependency not found on PyPI and could not be audited"}
    code, lines = audit([{"name": "django", "version": "5.2", **skipped}] * 3)
    assert code == 0
    assert lines[0].startswith("pip-audit: advisory data not reachable, skipped")


def test_pip_audit_says_plainly_when_its_service_cannot_be_reached():
    log = "requests.exceptions.ConnectionError: ... NameResolutionError(...)"
    code, lines = pip_audit_verdict.verdict("", 1, log)
    assert code == 0
    assert lines[0] == "pip-audit: advisory data not reachable, skipped"


def test_pip_audit_fails_when_it_breaks_for_another_reason():
    code, lines = pip_audit_verdict.verdict("", 1, "ValueError: bad requirements file")
    assert code == 1
    assert "pip-audit failed:" in lines[0]
