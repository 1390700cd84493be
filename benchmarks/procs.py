"""Processes the harness starts (sinks, workers, servers) and what /proc says about them."""

import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout, interval=0.05, what="condition"):
    """Poll predicate() until it is truthy; raise TimeoutError naming `what` after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def wait_for_port(port, timeout=30.0):
    def accepting():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    wait_until(accepting, timeout, interval=0.1, what=f"a server on port {port}")


class Service:
    """A child process in its own process group, so stopping it stops its children too."""

    def __init__(self, command, *, env=None, cwd=None, log_path=None, stdout=None):
        self.command = [str(part) for part in command]
        self.log_path = Path(log_path) if log_path else None
        output = stdout
        if output is None and self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            output = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.command,
            env=env,
            cwd=cwd,
            stdout=output if output is not None else subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self):
        return self.process.pid

    def running(self):
        return self.process.poll() is None

    def log_tail(self, lines=30):
        if not self.log_path or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout=30.0):
        """SIGTERM the group, then SIGKILL what is left after `timeout` seconds."""
        if not self.running():
            return
        try:
            os.killpg(self.pid, signal.SIGTERM)
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def _read(path):
    try:
        return Path(path).read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return ""


def descendants(pid):
    """pid and every process below it, found through /proc/<pid>/task/*/children."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            todo.extend(int(child) for child in _read(task / "children").split())
    return found


def cpu_seconds(pid, *, with_reaped_children=False):
    """User + system CPU seconds of one process (optionally + its reaped children)."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    # fields[11..14] are utime, stime, cutime, cstime (proc(5), counted from field 3)
    ticks = int(fields[11]) + int(fields[12])
    if with_reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLOCK_TICKS


def tree_cpu_seconds(pid):
    """CPU seconds of a process tree: live members plus children the root already reaped."""
    members = descendants(pid)
    return cpu_seconds(pid, with_reaped_children=True) + sum(
        cpu_seconds(member) for member in members[1:]
    )


def status_kib(pid, field):
    for line in _read(f"/proc/{pid}/status").splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class TreeSampler:
    """Samples CPU and RSS of process trees in a thread: RSS over time and peaks.

    `roots` may grow while sampling (a worker started later is added with add()).
    """

    def __init__(self, roots=(), interval=0.5):
        self.roots = list(roots)
        self.interval = interval
        self.samples = []  # (seconds since start, total RSS MiB, largest process RSS MiB)
        self.peak_process_mib = 0.0
        self.peak_total_mib = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = None
        self._cpu_start = 0.0

    def add(self, pid):
        self.roots.append(pid)

    def cpu_now(self):
        return sum(tree_cpu_seconds(root) for root in self.roots)

    def start(self):
        self._started = time.monotonic()
        self._cpu_start = self.cpu_now()
        self._thread.start()
        return self

    def _sample(self):
        pids = [pid for root in self.roots for pid in descendants(root)]
        rss = [status_kib(pid, "VmRSS") / 1024 for pid in pids]
        hwm = [status_kib(pid, "VmHWM") / 1024 for pid in pids]
        total, largest = sum(rss), max(rss, default=0.0)
        self.samples.append((round(time.monotonic() - self._started, 2), total, largest))
        self.peak_total_mib = max(self.peak_total_mib, total)
        self.peak_process_mib = max(self.peak_process_mib, largest, max(hwm, default=0.0))

    def _run(self):
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def stop(self):
        """Stop sampling; returns CPU seconds the trees used while sampled."""
        self._sample()
        cpu = self.cpu_now() - self._cpu_start
        self._stop.set()
        self._thread.join(timeout=5)
        return cpu


def self_peak_rss_mib(pid):
    """Peak resident memory (VmHWM) of one process, in MiB."""
    return status_kib(pid, "VmHWM") / 1024
