"""Profile a send or a page: `python -m benchmarks.profile smtp|batch [N] [SECONDS]`, `page`.

Installs py-spy into benchmarks/work/tools-venv on first use, seeds N readers, starts a
send as the benchmark does, and samples every worker process with py-spy for SECONDS.
Writes the collapsed stacks to benchmarks/work/profile-<path>.txt and prints the
functions with the most samples (own time and inclusive time).
"""

import collections
import subprocess
import sys
import threading
import time

from benchmarks import environment

TOOLS_VENV = environment.WORK_DIR / "tools-venv"


def py_spy():
    binary = TOOLS_VENV / "bin" / "py-spy"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(TOOLS_VENV)], check=True)
        subprocess.run([str(TOOLS_VENV / "bin" / "pip"), "install", "-q", "py-spy"], check=True)
    return binary


def record(pid, seconds, output):
    subprocess.run(
        [
            str(py_spy()),
            "record",
            "--pid",
            str(pid),
            "--subprocesses",
            "--format",
            "raw",
            "--duration",
            str(seconds),
            "--rate",
            "50",
            "--output",
            str(output),
            "--nonblocking",
        ],
        check=False,
        capture_output=True,
    )


def summarise(collapsed, top=25):
    own, inclusive, total = collections.Counter(), collections.Counter(), 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        count = int(count)
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    print(f"{total} samples\n-- own time --")
    for frame, count in own.most_common(top):
        print(f"{count / total:6.1%}  {frame}")
    print("-- inclusive time (project and mail code) --")
    shown = 0
    for frame, count in inclusive.most_common():
        if any(
            part in frame
            for part in (
                "newsletter/",
                "subscribers/",
                "email/",
                "anymail/",
                "django/db",
                "smtplib",
                "json",
            )
        ):
            print(f"{count / total:6.1%}  {frame}")
            shown += 1
        if shown >= top:
            break


def profile_page(env, seconds):
    """The issue page under wrk while py-spy samples every gunicorn worker."""
    from benchmarks import data, suites, web

    data.reset()
    newsletter = data.create_newsletter()
    issue = data.create_issue(newsletter, slug="hello-readers")
    suites._publish(issue)
    server = web.Server(env)
    output = environment.WORK_DIR / "profile-issue-page.txt"
    try:
        url = f"{server.base}/{newsletter.slug}/{issue.slug}/"
        web.drive(url, 2, 8)  # warm up
        profiler = threading.Thread(target=record, args=(server.service.pid, seconds, output))
        profiler.start()
        time.sleep(1)
        result = web.drive(url, seconds - 2, 8)
        profiler.join()
    finally:
        server.stop()
    print(f"issue page: {result['per_second']:.0f} requests/s")
    summarise(output)


def main(argv):
    path = argv[0] if argv else "smtp"
    if path == "page":
        profile_page(environment.prepare(), int(argv[1]) if len(argv) > 1 else 15)
        return
    count = int(argv[1]) if len(argv) > 1 else 20_000
    seconds = int(argv[2]) if len(argv) > 2 else 20
    env = environment.prepare()
    from benchmarks import batch_send, smtp_send, workers

    output = environment.WORK_DIR / f"profile-{path}.txt"
    original = workers.Worker.__init__

    def start_profiler_with_worker(self, *args, **kwargs):
        original(self, *args, **kwargs)
        threading.Thread(target=record, args=(self.pid, seconds, output), daemon=True).start()
        time.sleep(1)  # py-spy attaches before the send starts

    workers.Worker.__init__ = start_profiler_with_worker
    newsletter = batch_send.seeded(count)
    runner = batch_send.run_once if path == "batch" else smtp_send.run_once
    result = runner(env, newsletter, count, 900)
    print(f"{path}: {result['per_second']:.0f} readers/s over {count} readers")
    time.sleep(2)
    summarise(output)


if __name__ == "__main__":
    main(sys.argv[1:])
