"""`make run` from a fresh clone: migrate, demo data, web + worker + scheduler, Ctrl-C."""

import os
import signal
import subprocess
import urllib.request

import pytest

from tests.conftest import BASE_DIR, free_port, wait_for


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except OSError:
        return None, ""


@pytest.mark.worker
def test_make_run_serves_the_demo_and_stops_everything_on_ctrl_c(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(BASE_DIR), str(clone)], check=True)
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "RUNDBRIEF_VAR_DIR",
            "SECRET_KEY",
            "DEBUG",
            "RUNDBRIEF_ENV",
            "SITE_URL",
            "ALLOWED_HOSTS",
            "DJANGO_SETTINGS_MODULE",
        }
    }
    env["PORT"] = str(port)
    # The fresh clone reuses this checkout's virtual environment instead of installing
    # again; installing is what `make test` itself exercises.
    venv = BASE_DIR / ".venv"
    process = subprocess.Popen(
        ["make", "run", f"VENV={venv}"],
        cwd=clone,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        status, body = wait_for(
            lambda: (result := fetch(f"http://127.0.0.1:{port}/healthz"))[0] == 200 and result,
            timeout=90,
            message="make run to serve /healthz",
        )
        assert '"database": true' in body and '"broker": true' in body
        assert (clone / "var" / "rundbrief.sqlite3").exists()  # embedded default
        assert wait_for(
            lambda: list((clone / "var" / "broker" / "queue").parent.iterdir()),
            message="the file broker folder",
        )
    finally:
        os.killpg(process.pid, signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert "Admin login:" in output and "password:" in output
    assert "celery@" in output and "beat" in output.lower()
    assert fetch(f"http://127.0.0.1:{port}/healthz")[0] is None
    leftovers = subprocess.run(["pgrep", "-f", str(clone)], capture_output=True, text=True)
    assert leftovers.stdout == "", "processes survived Ctrl-C"
