"""Public pages under load: gunicorn as in production, wrk as the separate load process.

The server runs config.wsgi with benchmarks.web_settings, which only adds the trivial
ceiling view's URL. Each page is driven for the same time with the same connections,
and its throughput is reported as a ratio to the trivial view measured in the same run.
"""

import http.client
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from http.cookiejar import CookieJar
from urllib.parse import quote_plus

from benchmarks import tools
from benchmarks.environment import BASE_DIR, WORK_DIR
from benchmarks.procs import Service, free_port, wait_for_port, wait_until

GUNICORN_WORKERS = 5  # README and Dockerfile: 2 × cores + 1 on a 2-core machine
LUA_SCRIPT = BASE_DIR / "benchmarks" / "wrk_report.lua"


class Server:
    """gunicorn serving Rundbrief on a loopback port, with the production worker count."""

    def __init__(self, env, workers=GUNICORN_WORKERS):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        server_env = {
            **env,
            "DJANGO_SETTINGS_MODULE": "benchmarks.web_settings",
            "SITE_URL": self.base,
        }
        self.service = Service(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--access-logfile",
                str(WORK_DIR / "gunicorn-access.log"),
            ],
            env=server_env,
            cwd=BASE_DIR,
            log_path=WORK_DIR / "gunicorn.log",
        )
        wait_for_port(self.port, timeout=60)
        # Workers import the whole project on their first request; wait that out.
        wait_until(
            lambda: self.status("/bench/trivial/") == 200,
            timeout=180,
            interval=0.5,
            what="gunicorn to answer",
        )

    def status(self, path):
        try:
            with urllib.request.urlopen(self.base + path, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def stop(self):
        self.service.stop()


class FormFields(HTMLParser):
    """Every named input of the first POST form on a page, with its value."""

    def __init__(self):
        super().__init__()
        self.fields, self.action, self._in_form, self._done = {}, None, False, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and not self._done and (attrs.get("method") or "").lower() == "post":
            self._in_form, self.action = True, attrs.get("action")
        elif self._in_form and tag in ("input", "textarea") and attrs.get("name"):
            kind = (attrs.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                self.fields[attrs["name"]] = attrs.get("value") or "on"
            elif kind != "submit":
                self.fields[attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form" and self._in_form:
            self._in_form, self._done = False, True


def signup_post_template(server, path):
    """(form body with __EMAIL__, Cookie header) for posting the signup form under load."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(server.base + path, timeout=10) as response:
        page = response.read().decode()
    form = FormFields()
    form.feed(page)
    pairs = []
    for name, value in form.fields.items():
        if re.search(r"e-?mail", name, re.I):
            value = "__EMAIL__"
        elif name.lower() == "name" and not value:
            value = "Load Test"
        pairs.append(f"{quote_plus(name)}={quote_plus(value)}")
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return "&".join(pairs), cookie


def drive(url, seconds, connections, threads=1, body=None, cookie=None):
    """One wrk run; returns requests/s, p50 and p99 in ms, and error counts."""
    env = {**os.environ}
    env.pop("WRK_BODY", None)
    env.pop("WRK_COOKIE", None)
    if body is not None:
        env["WRK_BODY"] = body
        env["WRK_RUN_TAG"] = str(time.time_ns())
    if cookie:
        env["WRK_COOKIE"] = cookie
    done = subprocess.run(
        [
            tools.require("wrk"),
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "-s",
            str(LUA_SCRIPT),
            url,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=seconds + 60,
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed on {url}: {done.stderr.strip() or done.stdout.strip()}")
    line = next(line for line in done.stdout.splitlines() if line.startswith("JSON "))
    result = json.loads(line[5:])
    return {
        "per_second": result["requests"] / (result["duration_us"] / 1e6),
        "p50_ms": result["p50_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000,
        "max_ms": result["max_us"] / 1000,
        "requests": result["requests"],
        "status_errors": result["status_errors"],
        "socket_errors": result["socket_errors"],
    }


def post_form(server, path, body, cookie, address):
    """POST the signup form once for `address`; returns the HTTP status (no redirects)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request(
            "POST",
            path,
            body=body.replace("__EMAIL__", quote_plus(address)),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": cookie,
                "Referer": server.base + path,
            },
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()
