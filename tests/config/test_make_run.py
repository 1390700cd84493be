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
    log = tmp_path / "make-run.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            ["make", "run", f"VENV={venv}"],
            cwd=clone,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
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
        wait_for(lambda: " ready." in log.read_text(), timeout=60, message="the worker")
        wait_for(lambda: "beat: Starting" in log.read_text(), timeout=60, message="beat")
        # The worker make run started consumes the embedded file broker.
        done = tmp_path / "touched"
        enqueue = f"from config.celery import touch; touch.delay({str(done)!r})"
        dev_env = {
            **env,
            "DEBUG": "1",
            "RUNDBRIEF_ENV": "development",
            "SECRET_KEY": (clone / "var" / "dev-secret-key").read_text().strip(),
        }
        subprocess.run(
            [str(venv / "bin" / "python"), "manage.py", "shell", "-c", enqueue],
            cwd=clone,
            env=dev_env,
            check=True,
            timeout=60,
        )
        wait_for(done.exists, timeout=30, message="the make run worker to run a task")
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=60)
    output = log.read_text()
    assert "Admin login:" in output and "password:" in output
    assert fetch(f"http://127.0.0.1:{port}/healthz")[0] is None
    leftovers = subprocess.run(["pgrep", "-f", str(clone)], capture_output=True, text=True)
    assert leftovers.stdout == "", "processes survived Ctrl-C"
