"""Rundbrief's Celery app plus a per-task SQL query counter, for the benchmark workers.

Workers started with `-A benchmarks.celery_app` and BENCH_QUERY_LOG set append one JSON
line per task: its name, how many SQL queries it ran and how long it took. The scale
run reads these to show that the queries per batch stay constant as the send goes on.
"""

import json
import os
import time

from celery.signals import task_postrun, task_prerun
from django.db import connection

from config.celery import app  # noqa: F401 - the app celery -A finds here

LOG_PATH = os.environ.get("BENCH_QUERY_LOG")
_state = {}


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


@task_prerun.connect
def start_counting(task_id=None, task=None, **kwargs):
    if not LOG_PATH:
        return
    counter = QueryCounter()
    wrapper = connection.execute_wrapper(counter)
    wrapper.__enter__()
    _state[task_id] = (counter, wrapper, time.monotonic())


@task_postrun.connect
def stop_counting(task_id=None, task=None, kwargs=None, **extra):
    if task_id not in _state:
        return
    counter, wrapper, started = _state.pop(task_id)
    wrapper.__exit__(None, None, None)
    line = {
        "task": task.name,
        "queries": counter.count,
        "seconds": round(time.monotonic() - started, 4),
        "pid": os.getpid(),
    }
    with open(LOG_PATH, "a") as log:
        log.write(json.dumps(line) + "\n")
