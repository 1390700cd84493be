"""A lost admin password in the development setup: the hint the second start prints names
a command that exists, and it works, as every manage.py command does through
scripts/manage.sh, with the environment `make run` uses (no SECRET_KEY set by hand).

Like test_make_run.py it works on a fresh clone, but reuses this checkout's virtual
environment through PATH (nothing is installed) and never starts `make run` itself.
"""

import os
import re
import subprocess

import pytest

from tests.conftest import BASE_DIR

DEV_VARIABLES = {
    "DATABASE_URL", "REDIS_URL", "RUNDBRIEF_VAR_DIR", "SECRET_KEY", "SUPPRESSION_HASH_KEY",
    "DEBUG", "RUNDBRIEF_ENV", "SITE_URL", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE",
}  # fmt: skip
PASSWORD_RE = re.compile(r"user: admin\s+password: (\S+)")


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    clone = tmp_path_factory.mktemp("manage") / "clone"
    subprocess.run(["git", "clone", "-q", str(BASE_DIR), str(clone)], check=True)
    return clone


@pytest.fixture(scope="module")
def venv():
    return (BASE_DIR / ".venv").resolve()


@pytest.fixture(scope="module")
def run(clone, venv):
    env = {key: value for key, value in os.environ.items() if key not in DEV_VARIABLES}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"

    def run_(*command):
        result = subprocess.run(
            command, cwd=clone, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    return run_


def has_password(run, password):
    check = (
        "from django.contrib.auth import get_user_model; "
        f"print(get_user_model().objects.get(username='admin').check_password({password!r}))"
    )
    return run("scripts/manage.sh", "shell", "-v", "0", "-c", check).strip() == "True"


def test_the_second_start_names_a_recovery_that_resets_the_admin_password(run, venv):
    run("scripts/manage.sh", "migrate", "--no-input", "-v", "0")
    first = PASSWORD_RE.search(run("scripts/manage.sh", "seed_demo")).group(1)
    assert has_password(run, first)

    second_start = run("scripts/manage.sh", "seed_demo")
    assert "password unchanged" in second_start
    hint = re.search(r"`make ([\w-]+)`", second_start).group(1)
    # `-o install`: the shared environment stays as it is (PATH already points at it).
    output = run("make", "-o", "install", hint, f"VENV={venv}")
    new = PASSWORD_RE.search(output).group(1)
    assert new != first
    assert has_password(run, new) and not has_password(run, first)


def test_any_manage_command_runs_with_the_development_settings(run, clone):
    out = run(
        "scripts/manage.sh",
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings; print(settings.DEBUG, settings.SECRET_KEY[:8])",
    )
    assert out.split() == ["True", (clone / "var" / "dev-secret-key").read_text()[:8]]
    assert "usage: manage.py changepassword" in run(
        "make", "-o", "install", "manage", "CMD=help changepassword"
    )
