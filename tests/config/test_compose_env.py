"""The README's production steps, run the way docker compose would run them.

A .env made from .env.example with only what the README says to fill, the image's build
step, the migrate service, `check --deploy`, the web service's gunicorn and its health
check, then a page and its stylesheet for the public host. PostgreSQL and Redis are the
suite's own (a scratch database, the suite's Redis db); paths under /data and /app go to a
temporary folder, since the test runs outside the image.
"""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from tests.config import compose_env

BASE_DIR = compose_env.BASE_DIR
PUBLIC_HOST = "news.example.org"
GOOD_KEY = "Zq8v3LrP0xWm1Tn4Yb7Kc2Hd5Jf9Gs6Ae0Uo3Ii8Pl1Mk4Nj7Bh2Vg5Cf9Dx6Sz3Qw"
# What the README's production section tells a user to fill in .env, nothing more.
FILLED = {
    "SECRET_KEY": GOOD_KEY,
    "SUPPRESSION_HASH_KEY": GOOD_KEY[::-1] + "S",
    "SITE_URL": f"https://{PUBLIC_HOST}",
    "ALLOWED_HOSTS": PUBLIC_HOST,
    "POSTGRES_PASSWORD": "a-long-random-database-password",
    "DEFAULT_FROM_EMAIL": f"Rundbrief <newsletter@{PUBLIC_HOST}>",
    "EMAIL_URL": "smtp+tls://user:password@127.0.0.1:1",
}
DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")
needs_services = pytest.mark.skipif(
    not (DATABASE_URL.startswith("postgres") and REDIS_URL),
    reason="runs the compose services on PostgreSQL and Redis (DATABASE_URL, REDIS_URL)",
)


def dotenv_from_example(**overrides):
    """.env.example with the named lines filled in, as `cp .env.example .env` and an editor."""
    lines = (BASE_DIR / ".env.example").read_text().splitlines()
    values = {**FILLED, **overrides}
    out = []
    for line in lines:
        key = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=", line)
        if key and key.group(1) in values:
            out.append(f"{key.group(1)}={values.pop(key.group(1))}")
        else:
            out.append(line)
    assert not values, f"not in .env.example: {sorted(values)}"
    return compose_env.parse_env_file("\n".join(out))


def outside_the_image(env, root):
    """Point the image's paths at a folder of the test and run this checkout's Python."""
    moved = {}
    for key, value in env.items():
        for prefix in ("/data", "/app"):
            if value == prefix or value.startswith(prefix + "/"):
                value = str(root) + value
        moved[key] = value
    path = f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin"
    return {**moved, "PATH": path, "HOME": str(root), "LANG": "C.UTF-8"}


def run(command, env, timeout=180):
    result = subprocess.run(
        command, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def scratch_database():
    """A database of its own, dropped afterwards (the suite's test database stays apart)."""
    parts = urlsplit(DATABASE_URL)
    name = parts.path.lstrip("/") + "_compose"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def root(tmp_path):
    for folder in ("data/media", "data/backups", "app"):
        (tmp_path / folder).mkdir(parents=True)
    return tmp_path


def start_web(env, port):
    command = compose_env.service_command("web")
    assert "0.0.0.0:8000" in command and "--workers" in command
    command = [part.replace("0.0.0.0:8000", f"127.0.0.1:{port}") for part in command]
    command[command.index("--workers") + 1] = "2"  # a shared two-core test machine
    return subprocess.Popen(
        command, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def wait_healthy(env, port, web):
    """Run the web service's health check as compose does, until it passes or retries end."""
    test = compose_env.service_command("web", key="healthcheck")
    assert test[0] == "CMD" and "127.0.0.1:8000" in " ".join(test)
    command = [part.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for part in test[1:]]
    result = None
    for _ in range(40):
        if web.poll() is not None:
            break
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=20)
        if result.returncode == 0:
            return
        time.sleep(0.5)
    output = web.stdout.read1().decode() if web.poll() is not None else ""
    pytest.fail(f"web never healthy: {result and result.stderr[-2000:]}\n{output[-3000:]}")


def get(port, path):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        headers={"Host": PUBLIC_HOST, "X-Forwarded-Proto": "https", "X-Forwarded-For": "1.2.3.4"},
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        return response.status, response.read().decode()


@needs_services
def test_the_readme_production_steps_start_a_healthy_site(scratch_database, root):
    dotenv = dotenv_from_example()
    # Build: the image's ENV only (compose's environment does not reach `docker build`).
    build_env = outside_the_image(compose_env.image_env(), root)
    run(["sh", "-c", compose_env.build_step("collectstatic")], build_env)

    services = {"DATABASE_URL": scratch_database, "REDIS_URL": REDIS_URL}
    env = outside_the_image({**compose_env.service_env("web", dotenv), **services}, root)
    migrate_env = {**compose_env.service_env("migrate", dotenv), **services}
    run(compose_env.service_command("migrate"), outside_the_image(migrate_env, root))
    check = run(["python", "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert "no issues" in check.stdout

    port = free_port()
    web = start_web(env, port)
    try:
        wait_healthy(env, port, web)
        status, page = get(port, "/")
        assert status == 200
        stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', page).group(1)
        assert re.fullmatch(r"/static/css/site\.[0-9a-f]{12}\.css", stylesheet), stylesheet
        css_status, css = get(port, stylesheet)
        assert css_status == 200 and "{" in css
    finally:
        web.terminate()
        web.wait(timeout=30)


def load_settings(dotenv, root, code):
    env = outside_the_image({**compose_env.service_env("web", dotenv)}, root)
    command = [sys.executable, "-c", f"import django; django.setup(); {code}"]
    return subprocess.run(
        command,
        cwd=BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_containers_settings_keep_the_images_paths_and_their_defaults(root):
    code = (
        "from django.conf import settings as s; "
        "print(s.STATIC_ROOT, s.MEDIA_ROOT, s.SECURE_SSL_REDIRECT, s.MAIL_DOMAIN, s.SERVER_EMAIL)"
    )
    result = load_settings(dotenv_from_example(), root, code)
    assert result.returncode == 0, result.stderr
    static, media, redirect, domain, *server_email = result.stdout.split()
    assert (static, media) == (f"{root}/app/staticfiles", f"{root}/data/media")
    assert (redirect, domain) == ("True", PUBLIC_HOST)
    assert " ".join(server_email) == FILLED["DEFAULT_FROM_EMAIL"]


def test_a_provider_without_its_webhook_secret_is_refused_with_the_variable_named(root):
    provider = {"EMAIL_URL": "", "EMAIL_PROVIDER": "postmark"}
    code = "from django.conf import settings as s; print(s.EMAIL_BACKEND)"
    refused = load_settings(dotenv_from_example(**provider), root, code)
    assert refused.returncode != 0
    assert "ANYMAIL_WEBHOOK_SECRET" in refused.stderr

    secret = {"ANYMAIL_WEBHOOK_SECRET": "hook:0123456789abcdef"}
    started = load_settings(dotenv_from_example(**provider, **secret), root, code)
    assert started.returncode == 0, started.stderr
    assert "anymail.backends.postmark.EmailBackend" in started.stdout


def test_the_readme_production_section_names_every_variable_to_fill():
    readme = (BASE_DIR / "README.md").read_text()
    section = readme.split("## Production with docker compose", 1)[1].split("\n## ", 1)[0]
    for name in [*FILLED, "ANYMAIL_WEBHOOK_SECRET", "EMAIL_PROVIDER"]:
        assert f"`{name}`" in section, name


@needs_services
def test_the_worker_service_starts_and_passes_its_health_check(scratch_database, root):
    services = {"DATABASE_URL": scratch_database, "REDIS_URL": REDIS_URL}
    env = outside_the_image(
        {**compose_env.service_env("worker", dotenv_from_example()), **services}, root
    )
    env["HOSTNAME"] = f"compose-test-{os.getpid()}"  # Docker sets it to the container's id
    command = compose_env.service_command("worker")
    command[command.index("-c") + 1] = "1"  # a shared two-core test machine
    worker = subprocess.Popen(
        [*command, "-n", f"celery@{env['HOSTNAME']}"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    test = compose_env.service_command("worker", key="healthcheck")
    assert test[0] == "CMD-SHELL"
    try:
        for _ in range(20):
            assert worker.poll() is None, worker.stdout.read().decode()[-3000:]
            probe = subprocess.run(["sh", "-c", test[1]], env=env, capture_output=True, timeout=60)
            if probe.returncode == 0:
                break
        else:
            pytest.fail(f"worker never healthy: {probe.stdout} {probe.stderr}")
    finally:
        worker.terminate()
        worker.wait(timeout=30)
