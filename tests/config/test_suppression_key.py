"""The suppression list's own hash key: required in production, rotatable, checked."""

import os
import subprocess
import sys

import pytest

from tests.config.test_settings import BASE_DIR, GOOD_KEY, PROCESS_SETTINGS

HASH_KEY = "h4sh-k3y-Vg5Cf9Dx6Sz3Qw8Rt1Yu4Io7Pa2Sd5Fg8Hj1Kl4Zx7Cv0Bn3Mq6W"
NEXT_HASH_KEY = "n3xt-h4sh-Lk9Jh8Gf7Ds6Ap5Oi4Uz3Tr2Ew1Qm0Nb9Vc8Xy7Wq6Er5Ty4Ui3Op"
ROTATED_SECRET_KEY = "r0tat3d-Pl1Mk4Nj7Bh2Vg5Cf9Dx6Sz3Qw8Rt1Yu4Io7Pa2Sd5Fg8Hj1Kl4Zx7C"
SUPPRESS = (
    "from subscribers.suppression import suppress; "
    "suppress(email='gone@example.org', reason='complained')"
)
IS_SUPPRESSED = (
    "from subscribers.suppression import is_suppressed; print(is_suppressed('gone@example.org'))"
)
KEY_SETTINGS = PROCESS_SETTINGS | {"SUPPRESSION_HASH_KEY", "SUPPRESSION_HASH_KEY_FALLBACKS"}


def run(args, **env):
    """A fresh process with exactly these settings (production mode unless told)."""
    clean = {k: v for k, v in os.environ.items() if k not in KEY_SETTINGS}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings", DATABASE_URL="", REDIS_URL="", **env)
    return subprocess.run(
        [sys.executable, *args], cwd=BASE_DIR, env=clean, capture_output=True, text=True, timeout=90
    )


def run_django(code, **env):
    return run(["-c", f"import django; django.setup(); {code}"], **env)


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory):
    """An embedded (SQLite) production site with its tables, shared by this module."""
    path = tmp_path_factory.mktemp("site")
    result = run(
        ["manage.py", "migrate", "-v", "0"],
        SECRET_KEY=GOOD_KEY,
        SUPPRESSION_HASH_KEY=HASH_KEY,
        RUNDBRIEF_VAR_DIR=str(path),
    )
    assert result.returncode == 0, result.stderr
    return path


def test_production_refuses_to_start_without_a_suppression_hash_key(tmp_path):
    result = run_django("print('started')", SECRET_KEY=GOOD_KEY, RUNDBRIEF_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "started" not in result.stdout
    assert "SUPPRESSION_HASH_KEY is not set" in result.stderr
    assert "rotating SECRET_KEY would empty the suppression list" in result.stderr


def test_production_refuses_a_weak_suppression_hash_key(tmp_path):
    result = run_django(
        "print('started')",
        SECRET_KEY=GOOD_KEY,
        SUPPRESSION_HASH_KEY="short",
        RUNDBRIEF_VAR_DIR=str(tmp_path),
    )
    assert result.returncode != 0
    assert "SUPPRESSION_HASH_KEY must be at least 50 characters" in result.stderr


def test_a_suppression_survives_rotating_secret_key(var_dir):
    site = {"SUPPRESSION_HASH_KEY": HASH_KEY, "RUNDBRIEF_VAR_DIR": str(var_dir)}
    assert run_django(SUPPRESS, SECRET_KEY=GOOD_KEY, **site).returncode == 0
    result = run_django(IS_SUPPRESSED, SECRET_KEY=ROTATED_SECRET_KEY, **site)
    assert result.stdout.split() == ["True"], result.stderr


def test_a_suppression_survives_rotating_the_hash_key_through_the_fallbacks(var_dir):
    site = {"SECRET_KEY": GOOD_KEY, "RUNDBRIEF_VAR_DIR": str(var_dir)}
    assert run_django(SUPPRESS, SUPPRESSION_HASH_KEY=HASH_KEY, **site).returncode == 0
    rotated = run_django(
        IS_SUPPRESSED,
        SUPPRESSION_HASH_KEY=NEXT_HASH_KEY,
        SUPPRESSION_HASH_KEY_FALLBACKS=HASH_KEY,
        **site,
    )
    assert rotated.stdout.split() == ["True"], rotated.stderr
    forgotten = run_django(IS_SUPPRESSED, SUPPRESSION_HASH_KEY=NEXT_HASH_KEY, **site)
    assert forgotten.stdout.split() == ["False"], forgotten.stderr


def check_deploy(**env):
    return run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **env)


def test_check_deploy_warns_when_the_hash_key_is_the_secret_key(tmp_path):
    result = check_deploy(
        SECRET_KEY=GOOD_KEY,
        SUPPRESSION_HASH_KEY=GOOD_KEY,
        SITE_URL="https://news.example.org",
        RUNDBRIEF_VAR_DIR=str(tmp_path),
    )
    assert result.returncode != 0
    assert "subscribers.W001" in result.stderr
    assert "SUPPRESSION_HASH_KEY equals SECRET_KEY" in result.stderr


def test_check_deploy_reports_a_missing_hash_key_outside_production(tmp_path):
    result = check_deploy(
        SECRET_KEY=GOOD_KEY,
        RUNDBRIEF_ENV="development",
        SITE_URL="https://news.example.org",
        RUNDBRIEF_VAR_DIR=str(tmp_path),
    )
    assert result.returncode != 0
    assert "subscribers.E001" in result.stderr
    assert "SUPPRESSION_HASH_KEY is not set" in result.stderr


def test_check_deploy_is_clean_with_a_hash_key_of_its_own(tmp_path):
    result = check_deploy(
        SECRET_KEY=GOOD_KEY,
        SUPPRESSION_HASH_KEY=HASH_KEY,
        SITE_URL="https://news.example.org",
        RUNDBRIEF_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr + result.stdout
