"""Private PostgreSQL and Redis servers for the fault tests, on free loopback ports.

The fault tests restart and flush these at will; the machine's own servers are never
touched. PostgreSQL refuses to run as root, so as root its programs run as `postgres`.
"""

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import redis

from tests.conftest import free_port

SERVER_SETTINGS = [
    "listen_addresses=127.0.0.1",
    # Durability is not under test: a fast restart (-m fast) is a clean shutdown anyway.
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "max_connections=100",
]


def postgres_bin():
    """The directory of initdb and pg_ctl, or None when PostgreSQL is not installed."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(versions[-1]).parent if versions else None


def as_postgres(command):
    """Run PostgreSQL's programs as the `postgres` user when we are root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


class PrivatePostgres:
    """A throwaway cluster: initdb in a temporary directory, trust auth on loopback."""

    def __init__(self, bindir):
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="rundbrief-faults-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")

    def url(self, database):
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _pg_ctl(self, *args):
        options = " ".join(
            [f"-p {self.port}", f"-k {self.root}"] + [f"-c {s}" for s in SERVER_SETTINGS]
        )
        command = [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log)]
        subprocess.run(
            as_postgres([*command, "-w", "-t", "60", *args, "-o", options]),
            check=True,
            capture_output=True,
        )

    def start(self):
        initdb = [str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust"]
        subprocess.run(
            as_postgres([*initdb, "-U", "postgres", "-E", "UTF8", "--no-sync"]),
            check=True,
            capture_output=True,
        )
        self._pg_ctl("start")
        return self

    def restart(self):
        """Stop (fast: open transactions roll back, clients are cut off), start again."""
        self._pg_ctl("restart", "-m", "fast")

    def stop(self):
        with contextlib.suppress(subprocess.CalledProcessError):
            self._pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def execute(self, sql):
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(sql)


class PrivateRedis:
    """redis-server on a free port, in memory only."""

    def __init__(self):
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="rundbrief-faults-redis-"))
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.root)]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                self.client().ping()
                return self
            time.sleep(0.05)
        raise RuntimeError("the private redis-server did not start")

    def client(self):
        return redis.Redis.from_url(self.url)

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)
