"""Real Celery workers for the send benchmarks, started as production starts them.

They load benchmarks.celery_app: Rundbrief's app plus an opt-in SQL query counter.
"""

import sys
import tempfile
from pathlib import Path

from benchmarks.environment import BASE_DIR, WORK_DIR
from benchmarks.procs import Service, wait_until


class NotRun(Exception):
    """A measurement that could not run; the message is the reason the report gives."""


def engine():
    """newsletter.sending (imported once Django is set up)."""
    from newsletter import sending

    return sending


class Worker:
    """`celery -A config worker` on the given queues, in its own process group."""

    def __init__(self, env, *, queues, concurrency, name, **extra_env):
        ready = Path(tempfile.mkstemp(prefix=f"bench-{name}-ready-")[1])
        ready.unlink()
        self.ready_file = ready
        self.service = Service(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "benchmarks.celery_app",
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
                "WARNING",
            ],
            env={
                **env,
                **{key: str(value) for key, value in extra_env.items()},
                "CELERY_READY_FILE": str(ready),
            },
            cwd=BASE_DIR,
            log_path=WORK_DIR / "logs" / f"worker-{name}.log",
        )

        def ready_or_dead():
            if not self.service.running():
                raise RuntimeError(f"worker {name} exited:\n{self.service.log_tail()}")
            return self.ready_file.exists()

        wait_until(ready_or_dead, timeout=90, interval=0.1, what=f"worker {name}")

    @property
    def pid(self):
        return self.service.pid

    def stop(self):
        self.service.stop()
        self.ready_file.unlink(missing_ok=True)
