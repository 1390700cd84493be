import os

import pytest

from config.celery import touch
from tests.conftest import wait_for


@pytest.mark.worker
def test_a_separate_worker_process_consumes_the_broker(start_worker, tmp_path, settings):
    worker = start_worker()
    target = tmp_path / "done.txt"
    touch.delay(str(target))
    wait_for(target.exists, timeout=30, message="the worker to run the task")
    assert target.read_text() != f"done by pid {os.getpid()}"
    assert worker.process.poll() is None
