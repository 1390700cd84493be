"""Shared fixtures: the usual newsletter, a real SMTP server on loopback and a real Celery
worker process.

Tests that use `celery_worker` must be `django_db(transaction=True)`: the worker is a
separate process and only sees committed rows.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings

from tests.factories import make_newsletter

BASE_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture
def newsletter(db):
    """The usual test newsletter (tests/factories.py has its fields)."""
    return make_newsletter()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout=20.0, interval=0.05, message="condition"):
    """Poll until predicate() is truthy; fail the test with `message` after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"Timed out after {timeout}s waiting for {message}")


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list
    raw: bytes
    mail_options: list = field(default_factory=list)  # MAIL FROM parameters, e.g. BODY=8BITMIME

    @property
    def message(self):
        return message_from_bytes(self.raw, policy=policy.default)


@dataclass
class RecordingHandler:
    """aiosmtpd handler that keeps every message; `reply` lets a test inject SMTP errors."""

    received: list = field(default_factory=list)
    reply: dict = field(default_factory=dict)  # recipient -> "550 ..." to refuse it
    pipelining: bool = True  # advertised as Postfix does; aiosmtpd reads commands in order
    eightbitmime: bool = True  # aiosmtpd advertises 8BITMIME; False takes it back

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        if not self.eightbitmime:
            responses = [line for line in responses if line[4:] != "8BITMIME"]
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.reply:
            return self.reply[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(
            ReceivedMail(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.original_content,
                list(envelope.mail_options),
            )
        )
        return "250 Message accepted"


class SMTPServer:
    def __init__(self):
        self.handler = RecordingHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def received(self):
        return self.handler.received

    def to(self, address):
        return [mail for mail in self.received if address in mail.rcpt_tos]

    def wait_for_mail(self, address, count=1, timeout=20.0):
        return wait_for(
            lambda: len(self.to(address)) >= count and self.to(address),
            timeout=timeout,
            message=f"{count} mail(s) to {address}",
        )


def send_over_smtp_to(settings, port):
    """Point the in-process mail path (Django's SMTP backend) at a loopback server."""
    settings.EMAIL_BACKEND = "newsletter.sending.smtp.mail_backend.SMTPEmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on loopback; the in-process mail path is pointed at it."""
    server = SMTPServer()
    server.controller.start()
    send_over_smtp_to(settings, server.port)
    yield server
    server.controller.stop()


def database_url_for_processes():
    """The URL of the database pytest-django made, for processes the tests start."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def service_env(**extra):
    """Environment for a process started by a test: same settings, same test database."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.test_settings"}
    env["DATABASE_URL"] = database_url_for_processes()
    env.update({key: str(value) for key, value in extra.items()})
    return env


def purge_broker():
    from config.celery import app

    with app.connection_for_write() as conn:
        for queue in ("priority", "bulk", "default"):
            try:
                conn.default_channel.queue_purge(queue)
            except Exception:  # noqa: S112 - a queue that never existed has nothing to purge
                continue


STOP_SECONDS = 2  # how long a finished test waits for its worker's warm shutdown


class WorkerProcess:
    """A real `celery worker` in its own process group, so a test can SIGKILL it."""

    def __init__(self, env, queues="priority,bulk,default", concurrency=2, name="w1"):
        self.ready_file = Path(tempfile.mkstemp(prefix="celery-ready-")[1])
        self.ready_file.unlink()
        log_fd, log_name = tempfile.mkstemp(prefix=f"celery-{name}-", suffix=".log")
        self.log_path = Path(log_name)
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queues,
            "-c",
            str(concurrency),
            "-n",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "INFO",
        ]
        self.process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env={**env, "CELERY_READY_FILE": str(self.ready_file)},
            stdout=log_fd,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        os.close(log_fd)
        wait_for(self._ready, timeout=60, message=f"celery worker {name} to start")

    def _ready(self):
        if self.process.poll() is not None:
            pytest.fail(f"celery worker exited early:\n{self.output()}")
        return self.ready_file.exists()

    def output(self):
        return self.log_path.read_text(errors="replace")

    def kill(self):
        """SIGKILL the whole process group: the main process and its pool children."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        self.process.wait(timeout=30)

    def stop(self):
        """Warm shutdown (SIGTERM to the main process), then SIGKILL what is left.

        An idle worker is gone within a second; a warm shutdown that waits longer is
        waiting on its pool, and a test has nothing more to learn from a worker it is done
        with.
        """
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=STOP_SECONDS)
        self.kill()
        self.ready_file.unlink(missing_ok=True)


@pytest.fixture
def start_worker(transactional_db):
    """Factory: start_worker(EMAIL_URL=...) -> a running WorkerProcess; all stopped after."""
    workers = []
    purge_broker()

    def start(queues="priority,bulk,default", concurrency=2, **env):
        worker = WorkerProcess(
            service_env(**env), queues=queues, concurrency=concurrency, name=f"w{len(workers)}"
        )
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
    purge_broker()


@pytest.fixture
def celery_worker(start_worker, smtp_server):
    """One real worker process sending over SMTP to the test's loopback server."""
    return start_worker(EMAIL_URL=smtp_server.url)
