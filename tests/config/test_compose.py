"""Static checks of docker-compose.yml: there is no Docker engine on the test machines."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent.parent
NODE_BIN = BASE_DIR / "node_modules" / ".bin"

pytestmark = pytest.mark.skipif(
    not (NODE_BIN / "dclint").exists() or not shutil.which("node"),
    reason="npm test tools not installed (make install-dev installs them)",
)


@pytest.fixture(scope="module")
def compose():
    script = (
        "const y=require('yaml');const fs=require('fs');"
        "process.stdout.write(JSON.stringify(y.parse(fs.readFileSync('docker-compose.yml','utf8'),"
        "{merge:true})))"
    )
    out = subprocess.run(
        ["node", "-e", script], cwd=BASE_DIR, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_it_passes_the_compose_schema_and_lint():
    result = subprocess.run(
        [str(NODE_BIN / "dclint"), "docker-compose.yml"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stdout


def test_it_runs_the_whole_platform(compose):
    services = compose["services"]
    assert {"web", "worker", "worker-priority", "beat", "postgres", "redis"} <= set(services)
    assert services["web"]["command"][0] == "gunicorn"
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    assert "priority" in services["worker-priority"]["command"]


def test_services_wait_for_healthy_databases(compose):
    services = compose["services"]
    for name in ("postgres", "redis", "web"):
        assert services[name]["healthcheck"]["test"], name
    for name in ("web", "worker", "worker-priority"):
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])


def test_state_lives_in_named_volumes(compose):
    assert {"postgres-data", "redis-data", "media"} <= set(compose["volumes"])
    assert "postgres-data:/var/lib/postgresql/data" in compose["services"]["postgres"]["volumes"]


def test_app_services_get_their_configuration_from_the_environment(compose):
    env = compose["services"]["web"]["environment"]
    assert env["DATABASE_URL"].startswith("postgres://")
    assert env["REDIS_URL"].startswith("redis://")
    assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")  # no default secret
