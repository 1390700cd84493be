"""The peer, side by side: django-newsletter in its own venv, into the same sink.

The venv lives in benchmarks/work/peer-venv (gitignored) and is built on first use from
PyPI; the peer's database is the benchmark database's name plus `_peer`.
"""

import json
import os
import secrets
import subprocess
import sys
import time
from urllib.parse import urlsplit

from benchmarks.environment import BASE_DIR, WORK_DIR
from benchmarks.sink import SmtpSink

PEER_DIR = BASE_DIR / "benchmarks" / "peer"
VENV = WORK_DIR / "peer-venv"
REQUIREMENTS = [
    "django-newsletter==1.2.1",
    "sorl-thumbnail>=12.10,<14",  # django-newsletter imports it for article images
    "Pillow>=10.4,<13",
    "Django>=5.2,<6",
    "psycopg[binary]>=3.2,<4",
]


def ensure_venv():
    python = VENV / "bin" / "python"
    marker = VENV / ".installed"
    if marker.exists() and marker.read_text() == "\n".join(REQUIREMENTS):
        return python
    print("benchmarks: installing django-newsletter into benchmarks/work/peer-venv", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *REQUIREMENTS], check=True)
    marker.write_text("\n".join(REQUIREMENTS))
    return python


def peer_database_url():
    url = urlsplit(os.environ["DATABASE_URL"])
    return url._replace(path=url.path + "_peer").geturl()


def _ensure_database(url):
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


class Peer:
    def __init__(self):
        self.python = ensure_venv()
        self.database_url = peer_database_url()
        _ensure_database(self.database_url)
        self.version = subprocess.run(
            [
                str(self.python),
                "-c",
                "from importlib.metadata import version; print(version('django-newsletter'))",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        self._run(["migrate"], smtp_port=0)

    def _run(self, args, smtp_port, timeout=7200):
        env = {
            "PATH": os.environ.get("PATH", ""),
            "PEER_SECRET_KEY": secrets.token_urlsafe(50),
            "PEER_DATABASE_URL": self.database_url,
            "PEER_SMTP_PORT": str(smtp_port),
            "PYTHONWARNINGS": "ignore",
        }
        done = subprocess.run(
            [str(self.python), "send.py", *args],
            cwd=PEER_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(f"peer {args[0]} failed:\n{done.stderr[-3000:]}")
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        return json.loads(lines[-1]) if lines else {}

    def seed(self, count):
        return self._run(["seed", str(count)], smtp_port=0)

    def send_once(self, count, body_file):
        """One submission to `count` readers; readers/second measured at the sink."""
        with SmtpSink() as sink:
            started = time.monotonic()
            result = self._run(["send", str(body_file)], smtp_port=sink.port)
            finished = sink.wait_for(count, timeout=60)
            # CPU of the sending loop only (time.process_time() around submit()), as the
            # workers' CPU is counted from the send's start, not from their start-up.
            cpu = result["cpu_seconds"]
            if result.get("readers") != count:
                raise RuntimeError(f"peer had {result.get('readers')} readers, not {count}")
            return {
                "mails": sink.messages,
                "seconds": finished - started,
                "per_second": count / (finished - started),
                "submit_seconds": result["seconds"],
                "cpu_seconds_per_1000": cpu / count * 1000,
            }
