"""End-to-end fixtures: the app as a real gunicorn process, a real Celery worker, a real
SMTP server on loopback, a second web origin for the embeddable form, and Debian's
Chromium driven by Playwright.

Everything runs against the database pytest-django created, so tests that use the server
must be `django_db(transaction=True)`: the server and the worker only see committed rows.
"""

import os
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.cache import cache

from tests.conftest import SMTPServer, free_port, service_env, wait_for

BASE_DIR = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_SCRIPT = BASE_DIR / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = BASE_DIR / "test-artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
WEB_WORKERS = 2
# The addresses the app sends from; a real domain shape rather than 127.0.0.1.
MAIL_DOMAIN = "rundbrief.test"


# --- mail ------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def mailbox():
    """One loopback SMTP server for the whole run; the app's worker sends to it."""
    server = SMTPServer()
    server.controller.start()
    yield server
    server.controller.stop()


@pytest.fixture
def inbox(mailbox):
    """The loopback SMTP server, emptied for this test."""
    mailbox.handler.received.clear()
    mailbox.handler.reply.clear()
    yield mailbox
    mailbox.handler.received.clear()


# --- the app as a real server process ---------------------------------------------------
class AppServer:
    """gunicorn serving config.wsgi on a free loopback port, against the test database."""

    def __init__(self, mailbox):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # What the web process and the worker both need to agree on.
        self.env = {
            "SITE_URL": self.url,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "EMAIL_URL": mailbox.url,
            "MAIL_DOMAIN": MAIL_DOMAIN,
            "DEFAULT_FROM_EMAIL": f"Rundbrief <newsletter@{MAIL_DOMAIN}>",
            # A browser fills a form faster than a person; the fill-time trap has its own tests.
            "SIGNUP_MIN_FILL_SECONDS": 0,
            # No pooled connections: the test database is dropped at the end of the run.
            "DATABASE_CONN_MAX_AGE": 0,
        }
        log_fd, log_name = tempfile.mkstemp(prefix="e2e-gunicorn-", suffix=".log")
        self.log_path = Path(log_name)
        command = [
            sys.executable, "-m", "gunicorn", "config.wsgi",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(WEB_WORKERS), "--threads", "4", "--worker-class", "gthread",
            "--timeout", "60", "--access-logfile", "-", "--no-control-socket",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=service_env(**self.env),
            stdout=log_fd,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(self.healthy, timeout=60, message="gunicorn to answer /healthz")

    def healthy(self):
        if self.process.poll() is not None:
            pytest.fail(f"gunicorn exited early:\n{self.output()}")
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def output(self):
        return self.log_path.read_text(errors="replace")

    def worker_pids(self):
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return set(children.read_text().split())

    def reload(self):
        """Replace the web workers by fresh processes (gunicorn's SIGHUP).

        Between tests pytest-django truncates the database and recreates the content
        types under new ids, while Django caches content types per process: a long-lived
        worker would then write admin log entries that point at rows which are gone.
        """
        old = self.worker_pids()
        self.process.send_signal(signal.SIGHUP)
        wait_for(
            lambda: (
                len(self.worker_pids() - old) == WEB_WORKERS
                and not (self.worker_pids() & old)
                and self.healthy()
            ),
            timeout=60,
            message="gunicorn to replace its workers",
        )

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def app_server(django_db_setup, django_db_blocker, mailbox):
    """The app served by gunicorn for the whole run (stopped before the test DB is dropped)."""
    server = AppServer(mailbox)
    yield server
    server.stop()


@pytest.fixture
def fresh_app_server(app_server):
    """The app server with new worker processes, for tests that write through the admin."""
    app_server.reload()
    return app_server


@pytest.fixture
def worker(start_worker, app_server):
    """A real Celery worker with the server's settings, sending to the loopback SMTP server."""
    return start_worker(**app_server.env)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, show what the server and the worker logged: a 500 says little alone."""
    report = yield
    if report.failed and call.when == "call":
        for name in ("app_server", "worker"):
            process = item.funcargs.get(name)
            if process is not None:
                report.sections.append((f"{name} log (tail)", process.output()[-6000:]))
    return report


@pytest.fixture(autouse=True)
def fresh_cache():
    # Rate-limit counters and cached archive pages live in the cache (Redis): start clean.
    cache.clear()
    yield
    cache.clear()


# --- a second origin: someone else's website with the embeddable form ------------------
class OtherSite:
    """A plain web server on `localhost` (another host and port: another site)."""

    def __init__(self):
        self.pages = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = pages.get(self.path)
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write((body or "not found").encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://localhost:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def publish(self, path, html):
        self.pages[path] = html
        return self.url + path

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def other_site():
    site = OtherSite()
    yield site
    site.stop()


# --- the browser -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, launched by Playwright (never a downloaded browser).

    Playwright's sync API keeps an asyncio loop running in this thread, and Django refuses
    ORM calls while one runs; the test's own ORM calls are plain sync code, so the check is
    switched off while the browser is open, and the browser is closed after each module so
    that later tests in the run get the check back.
    """
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-test-tools.sh")
    from playwright.sync_api import sync_playwright

    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture
def open_page(browser):
    """Factory: open_page(locale=..., javascript=...) -> a page in a fresh browser context.

    Playwright's locale sets navigator.language and the Accept-Language header. Every
    page records console errors (a CSP refusal is one) in `page.console_errors`, and
    answers of 400 and above in `page.failed_responses`.
    """
    contexts = []

    def open_(locale="en-US", javascript=True, viewport=None, **options):
        context = browser.new_context(
            locale=locale,
            java_script_enabled=javascript,
            viewport=viewport or DESKTOP,
            **options,
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []
        page.failed_responses = []

        def record_console(message):
            # Failed loads are recorded with their URL below; this keeps CSP refusals etc.
            if message.type == "error" and not message.text.startswith("Failed to load"):
                page.console_errors.append(message.text)

        def record_response(response):
            # Chromium asks every origin for /favicon.ico: the fake other sites have none
            # (the app's own icon is checked in test_admin_chrome_browser.py).
            if response.status >= 400 and not response.url.endswith("/favicon.ico"):
                page.failed_responses.append(f"{response.status} {response.url}")

        page.on("console", record_console)
        page.on("response", record_response)
        return page

    yield open_
    for context in contexts:
        context.close()


# --- looking at pages: accessibility and screenshots -----------------------------------
def serious_axe_violations(page):
    """Run axe-core in the page; the violations of serious or critical impact."""
    assert AXE_SCRIPT.exists(), "axe-core is missing: run scripts/install-test-tools.sh"
    page.add_script_tag(path=str(AXE_SCRIPT))
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "nodes": [node["html"][:200] for node in violation["nodes"][:5]],
        }
        for violation in results["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def save_screenshots(page, name):
    """Full-page PNGs of the page at phone and desktop width; returns the paths."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    paths = []
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        path = SCREENSHOTS / f"{name}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        paths.append(path)
    page.set_viewport_size(DESKTOP)
    return paths
