"""The benchmark's own database, Redis db and var dir, set before Django loads.

Each default can be overridden from the environment. The harness runs Rundbrief in
production mode (DEBUG off, hashed static files) because that is what it measures.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
WORK_DIR = Path(__file__).resolve().parent / "work"  # gitignored: peer venv, logs, CSVs

DEFAULTS = {
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/rb_bench",
    "REDIS_URL": "redis://127.0.0.1:6379/5",
    "RUNDBRIEF_VAR_DIR": str(BASE_DIR / "var" / "h-bench"),
    "RUNDBRIEF_ENV": "production",
    "DEBUG": "0",
    "SITE_URL": "http://127.0.0.1:8000",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "MAIL_DOMAIN": "bench.example.test",
    "LOG_LEVEL": "WARNING",
    # The load test posts hundreds of signups from one address within a second; the
    # production anti-abuse limits would (rightly) refuse most of them.
    "SIGNUP_MIN_FILL_SECONDS": "0",
    "SIGNUP_RATE_PER_IP_PER_HOUR": "100000000",
    "SIGNUP_RATE_PER_ADDRESS_PER_DAY": "100000000",
}


def configure():
    """Put the defaults into os.environ (explicit values win) and return the env."""
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
    var_dir = Path(os.environ["RUNDBRIEF_VAR_DIR"])
    var_dir.mkdir(parents=True, exist_ok=True)
    # Production refuses to start without its keys; each is kept for the next run.
    for name, file_name in (
        ("SECRET_KEY", "bench-secret-key"),
        ("SUPPRESSION_HASH_KEY", "bench-suppression-hash-key"),
    ):
        if not os.environ.get(name):
            key_file = var_dir / file_name
            if not key_file.exists():
                key_file.write_text(secrets.token_urlsafe(50))
            os.environ[name] = key_file.read_text().strip()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    return dict(os.environ)


def ensure_database():
    """Create the benchmark database if it does not exist yet (PostgreSQL only)."""
    url = urlsplit(os.environ["DATABASE_URL"])
    if not url.scheme.startswith("postgres"):
        return
    import psycopg

    name = url.path.lstrip("/")
    admin = url._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def manage(*args, env=None, check=True):
    """Run a manage.py command in a child process with the benchmark environment."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env or dict(os.environ),
        capture_output=True,
        text=True,
    )
    if check and done.returncode != 0:
        raise SystemExit(f"benchmarks: manage.py {' '.join(args)} failed:\n{done.stderr}")
    return done


PROJECT_PACKAGES = [
    BASE_DIR / name for name in ("config", "newsletter", "subscribers", "benchmarks")
]


def prepare():
    """Environment, database, migrations and collected static files, before django.setup()."""
    env = configure()
    compile_bytecode()
    ensure_database()
    manage("migrate", "--no-input", "-v", "0")
    manage("collectstatic", "--no-input", "-v", "0")
    import django

    django.setup()
    return env


def compile_bytecode():
    """Write the .pyc files once, as a production install has them: with
    PYTHONDONTWRITEBYTECODE set (as on the project's machines) every process the harness
    starts would otherwise compile Django and the project again, ~5 s of CPU each."""
    import compileall
    import sysconfig

    for path in [sysconfig.get_paths()["purelib"], *PROJECT_PACKAGES]:
        compileall.compile_dir(str(path), quiet=1, workers=0)


def flush_redis():
    """Empty the benchmark's own Redis database (never another one)."""
    import redis

    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
