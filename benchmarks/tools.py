"""Outside tools the benchmarks drive, installed from Debian when missing, and the machine.

Postfix is installed with debconf's "No configuration", so the package brings its
smtp-sink and smtp-source binaries but no configured mail server: nothing listens on
port 25, and the harness runs its sinks on high loopback ports.
"""

import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

SMTP_SINK = "/usr/sbin/smtp-sink"
SMTP_SOURCE = "/usr/sbin/smtp-source"
WRK = "/usr/bin/wrk"

DEBIAN_PACKAGES = {SMTP_SINK: "postfix", SMTP_SOURCE: "postfix", WRK: "wrk"}


def _apt(*args):
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", *args], check=True, env=env, stdout=subprocess.DEVNULL)


def ensure_debian_tools():
    """Install postfix (smtp-sink, smtp-source) and wrk if a fresh machine lacks them."""
    missing = sorted({package for path, package in DEBIAN_PACKAGES.items() if not _exists(path)})
    if not missing:
        return []
    print(f"benchmarks: installing Debian packages {', '.join(missing)}", flush=True)
    if "postfix" in missing:
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        subprocess.run(
            [*sudo, "debconf-set-selections"],
            input=b"postfix postfix/main_mailer_type select No configuration\n",
            check=True,
        )
    _apt("update", "-qq")
    _apt("install", "-y", "-qq", *missing)
    return missing


def _exists(path):
    return os.path.exists(path) and os.access(path, os.X_OK)


def require(name):
    path = {"smtp-sink": SMTP_SINK, "smtp-source": SMTP_SOURCE, "wrk": WRK}[name]
    if not _exists(path):
        raise RuntimeError(f"{path} is missing: run `python -m benchmarks` to install it")
    return path


def _first_line(command):
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "not found"
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else "unknown"


def _cpu_model():
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib():
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024, 1)
    return None


def _package_version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _debian_version(package):
    return _first_line(["dpkg-query", "-W", "-f", "${Version}", package])


def machine():
    """What the figures were taken on: cores, memory, CPU, and the versions in play."""
    return {
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "cpu_model": _cpu_model(),
        "kernel": platform.release(),
        "os": _first_line(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "python": sys.version.split()[0],
        "django": _package_version("Django"),
        "celery": _package_version("celery"),
        "gunicorn": _package_version("gunicorn"),
        "psycopg": _package_version("psycopg"),
        "postgresql": _first_line(
            ["psql", "-X", "-At", "-h", "127.0.0.1", "-U", "postgres", "-c", "SHOW server_version"]
        ),
        "redis": _first_line(["redis-server", "--version"]),
        "postfix (smtp-sink, smtp-source)": _debian_version("postfix"),
        "wrk": _debian_version("wrk"),
        "load_average_at_start": [round(value, 2) for value in os.getloadavg()],
        # What else ran on the machine: the person running the benchmark says (env).
        "other_work": os.environ.get("BENCH_OTHER_WORK", "not recorded"),
    }


def which(name):
    return shutil.which(name)
