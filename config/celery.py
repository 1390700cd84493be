import os
from pathlib import Path

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("rundbrief")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def announce_ready(**kwargs):
    # Lets a supervisor (the test suite, `make run`) know the worker consumes its queues.
    ready_file = os.environ.get("CELERY_READY_FILE")
    if ready_file:
        Path(ready_file).write_text(str(os.getpid()))


@app.task(name="rundbrief.touch")
def touch(path):
    """Write a file: the smallest proof that a worker consumes the broker (health, tests)."""
    Path(path).write_text(f"done by pid {os.getpid()}")
