"""Rundbrief's send over SMTP, the real path: start_send → Celery on Redis → smtp-sink.

Two worker processes (one per core) consume `bulk` and `default`, as the production
worker does. The clock starts when the harness calls start_send (what the admin's
"send" button calls) and stops when the last mail reaches the sink; the sink's own
counter is the measure, and the Delivery ledger is checked against it afterwards.
"""

import time

from django.db import connection

from benchmarks import data, environment
from benchmarks.procs import TreeSampler, wait_until
from benchmarks.sink import SmtpSink
from benchmarks.workers import Worker, engine

BULK_WORKERS = 2  # one per core


def smtp_connections():
    """Connections the workers hold open at once: the ceiling gets the same number."""
    from django.conf import settings

    return BULK_WORKERS * max(1, getattr(settings, "SMTP_CONNECTIONS_PER_WORKER", 1))


def new_issue(newsletter, run):
    return data.create_issue(newsletter, slug=f"run-{run}-{time.time_ns()}")


def clear_deliveries():
    from newsletter.models import Delivery

    with connection.cursor() as cursor:
        # CASCADE: the tracking events of earlier runs refer to their deliveries.
        cursor.execute(f"TRUNCATE {Delivery._meta.db_table} CASCADE")


def wait_until_sent(issue, timeout=600):
    """Block until the engine marks the issue sent (every outcome recorded)."""
    from newsletter.models import Issue

    def is_sent():
        return Issue.objects.filter(pk=issue.pk, status=Issue.Status.SENT).exists()

    wait_until(is_sent, timeout, interval=0.1, what=f"issue {issue.pk} to be marked sent")
    return time.monotonic()


def sent_count(issue):
    from newsletter.models import Delivery

    return Delivery.objects.filter(issue=issue, status=Delivery.Status.SENT).count()


def run_once(env, newsletter, count, run, *, during=None, timeout=3600):
    """One send of a fresh issue to `count` readers; `during(issue)` runs alongside."""
    sending = engine()
    clear_deliveries()
    environment.flush_redis()
    issue = new_issue(newsletter, run)
    with SmtpSink() as sink:
        worker = Worker(
            env,
            queues="bulk,default",
            concurrency=BULK_WORKERS,
            name=f"bulk{run}",
            EMAIL_URL=sink.url,
        )
        try:
            sampler = TreeSampler([worker.pid]).start()
            started = time.monotonic()
            sending.start_send(issue=issue)
            side = during(issue) if during else None
            finished = sink.wait_for(count, timeout=timeout)
            recorded = wait_until_sent(issue)
            cpu = sampler.stop()
        finally:
            worker.stop()
        if side is not None:
            side.finish()
    seconds = finished - started
    ledger = sent_count(issue)
    if ledger != count:
        raise RuntimeError(f"the sink got {sink.messages} mails but {ledger} deliveries are sent")
    return {
        "mails": sink.messages,
        "seconds": seconds,
        "per_second": count / seconds,
        "ledger_lag_seconds": recorded - finished,
        "cpu_seconds": cpu,
        "cpu_seconds_per_1000": cpu / count * 1000,
        "peak_rss_process_mib": sampler.peak_process_mib,
        "peak_rss_total_mib": sampler.peak_total_mib,
        "rss_samples": sampler.samples,
        "side": side.result() if side is not None else None,
    }
