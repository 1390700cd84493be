"""Enqueueing a task by its registered name, once the transaction commits.

Services enqueue this way so that they never import the tasks, which import them: the
worker must not see a row before it is committed, and CELERY_TASK_ROUTES routes by the
name, so the task lands on the same queue as with its own delay_on_commit().
"""

from celery import current_app
from django.db import transaction


def enqueue(name, **kwargs):
    """Send the task registered as `name` with these keyword arguments after the commit."""
    transaction.on_commit(lambda: current_app.send_task(name, kwargs=kwargs))
