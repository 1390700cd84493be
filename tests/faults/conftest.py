"""Fixtures of the fault tests: a private PostgreSQL and Redis, real workers pointed at
them, a sweeper standing in for celery beat, and the test process's database connection
pointed at the same private database.

Each test gets a fresh database (a copy of a migrated template) and an empty Redis, so
tests can restart PostgreSQL or lose Redis keys without touching the machine's servers.
The fault tests run in the PostgreSQL pass of `make test` only; the embedded pass has
no PostgreSQL to restart.
"""

import contextlib
import itertools
import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError, connections

from config.celery import app
from tests.conftest import BASE_DIR, WorkerProcess
from tests.faults.services import PrivatePostgres, PrivateRedis, postgres_bin
from tests.faults.smtp import FlakySMTPServer

TEMPLATE_DATABASE = "rundbrief_faults_template"
_database_numbers = itertools.count(1)
FIGURES = []  # one line per fault test, shown at the end of the run (tests.faults.ledger)


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("fault test figures")
        for line in FIGURES:
            terminalreporter.write_line(line)


def worker_environment(database_url, redis_url, **extra):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.faults.worker_settings",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
    )
    env.update({key: str(value) for key, value in extra.items()})
    return env


@pytest.fixture(scope="session")
def private_servers():
    """A private PostgreSQL cluster with a migrated template database, and a Redis."""
    if not django_settings.IS_POSTGRES:
        pytest.skip("the fault tests run in the PostgreSQL pass (they restart PostgreSQL)")
    bindir = postgres_bin()
    if bindir is None or not shutil.which("redis-server"):
        pytest.skip("the fault tests need PostgreSQL's initdb/pg_ctl and redis-server")
    postgres, redis = PrivatePostgres(bindir).start(), PrivateRedis().start()
    try:
        postgres.execute(f"CREATE DATABASE {TEMPLATE_DATABASE}")
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=BASE_DIR,
            env=worker_environment(postgres.url(TEMPLATE_DATABASE), redis.url),
            check=True,
        )
        yield postgres, redis
    finally:
        redis.stop()
        postgres.stop()


@contextlib.contextmanager
def django_pointed_at(url):
    """The test process's default connection talks to `url` meanwhile."""
    connection = connections["default"]
    connection.close()
    saved = dict(connection.settings_dict)
    parts = urlsplit(url)
    connection.settings_dict.update(
        NAME=parts.path.lstrip("/"),
        HOST=parts.hostname,
        PORT=str(parts.port),
        USER=parts.username,
        PASSWORD="",
    )
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


class FaultSite:
    """One test's private world: its database, the Redis, workers, a sweeper."""

    def __init__(self, postgres, redis, database):
        self.postgres, self.redis = postgres, redis
        self.database_url = postgres.url(database)
        self.workers = []
        self._sweeping = threading.Event()
        self._sweeper = None

    def start_workers(self, count, queues="bulk,default", concurrency=2, **env):
        """Start `count` workers at once (each takes seconds to boot on a busy machine)."""
        environment = worker_environment(self.database_url, self.redis.url, **env)
        first = len(self.workers)

        def start(number):
            name = f"fw{first + number}"
            return WorkerProcess(environment, queues=queues, concurrency=concurrency, name=name)

        with ThreadPoolExecutor(max_workers=count) as pool:
            started = list(pool.map(start, range(count)))
        self.workers.extend(started)
        return started

    def send_task(self, name, **kwargs):
        """Enqueue a task on the private broker, as the web process or beat would."""
        with app.connection_for_write(self.redis.url) as connection:
            app.send_task(name, kwargs=kwargs, connection=connection)

    def start_sweeper(self, interval=2.0):
        """Enqueue the sweep every `interval` seconds, as celery beat does every 30 s."""

        def sweep():
            while not self._sweeping.wait(interval):
                with contextlib.suppress(Exception):  # a broker hiccup skips one sweep
                    self.send_task("newsletter.sweep_deliveries")

        self._sweeper = threading.Thread(target=sweep, daemon=True)
        self._sweeper.start()

    def close(self):
        self._sweeping.set()
        if self._sweeper is not None:
            self._sweeper.join(timeout=10)
        for worker in self.workers:
            worker.stop()


def query(function):
    """function() with the test process's connection; None while the database is away."""
    try:
        return function()
    except OperationalError:
        connections["default"].close()  # reconnect on the next call
        return None


@pytest.fixture
def fault_site(private_servers, django_db_blocker):
    """A fresh private database and an empty private Redis for one test."""
    postgres, redis = private_servers
    database = f"rundbrief_faults_{next(_database_numbers)}"
    postgres.execute(f"CREATE DATABASE {database} TEMPLATE {TEMPLATE_DATABASE}")
    redis.client().flushall()
    site = FaultSite(postgres, redis, database)
    started = time.monotonic()
    try:
        with django_db_blocker.unblock(), django_pointed_at(site.database_url):
            yield site
    finally:
        site.close()
        print(f"fault test took {time.monotonic() - started:.1f} s")
        with contextlib.suppress(Exception):
            postgres.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


@pytest.fixture
def flaky_smtp():
    """A misbehaving SMTP server on loopback (tests/faults/smtp.py); set its handler's
    options before the send starts."""
    server = FlakySMTPServer()
    server.controller.start()
    yield server
    server.controller.stop()
