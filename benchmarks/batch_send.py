"""Rundbrief's send through a provider batch API: the fake Postmark on loopback.

Two ways, as the site chooses (SEND_ESP_STORE_TEMPLATES): the issue stored as a Postmark
template of its own and each batch sent straight to batchWithTemplates, or the
pass-through template through anymail's Postmark backend.

The clock stops when the engine marks the issue sent, i.e. every recipient is accepted by
the provider and recorded in the ledger.

The fake is the sending engine's own test fake (tests/fakes/postmark.py), with one change
for volume: it counts accepted recipients instead of keeping and rendering every message,
so a million-reader send does not fill the harness's memory. Its Templates API is the
test fake's: the engine stores the issue there once per worker process and each batch
call names it (SEND_ESP_TEMPLATE, the pass-through template, is only the fallback). It
parses every batch call as JSON, as a provider would, and runs in the harness process:
its CPU time is measured and reported, since on 2 cores it competes with the workers.
"""

import json
import os
import time
from pathlib import Path

from benchmarks import data, environment
from benchmarks.procs import TreeSampler, cpu_seconds, wait_until
from benchmarks.smtp_send import (
    BULK_WORKERS,
    clear_deliveries,
    new_issue,
    sent_count,
    wait_until_sent,
)
from benchmarks.workers import Worker, engine


def fake_class():
    from tests.fakes.postmark import TOKEN, FakePostmark

    class CountingPostmark(FakePostmark):
        accepted = 0

        def accept(self, message):
            self.accepted += 1
            return {
                "ErrorCode": 0,
                "Message": "OK",
                "MessageID": f"fake-{self.accepted}",
                "To": message["To"],
            }

    return CountingPostmark, TOKEN


def provider_env(fake, token, stored_templates=True):
    return {
        "EMAIL_PROVIDER": "postmark",
        "ANYMAIL_POSTMARK_SERVER_TOKEN": token,
        "ANYMAIL_POSTMARK_API_URL": fake.url,
        "ANYMAIL_WEBHOOK_SECRET": "bench:webhook-secret",  # production mode requires one
        "SEND_ESP_TEMPLATE": "rundbrief-passthrough",
        "SEND_ESP_STORE_TEMPLATES": "1" if stored_templates else "0",
    }


def run_once(env, newsletter, count, run, *, query_log=None, timeout=7200, stored_templates=True):
    """One send of a fresh issue through the batch API; figures measured at the fake."""
    sending = engine()
    fake_type, token = fake_class()
    clear_deliveries()
    environment.flush_redis()
    issue = new_issue(newsletter, run)
    fake = fake_type().start()
    extra = provider_env(fake, token, stored_templates)
    if query_log:
        Path(query_log).unlink(missing_ok=True)
        extra["BENCH_QUERY_LOG"] = str(query_log)
    worker = Worker(
        env, queues="bulk,default", concurrency=BULK_WORKERS, name=f"batch{run}", **extra
    )
    try:
        sampler = TreeSampler([worker.pid]).start()
        harness_cpu = cpu_seconds(os.getpid())
        started = time.monotonic()
        sending.start_send(issue=issue)
        snapshot_seconds = time.monotonic() - started
        wait_until(
            lambda: fake.accepted >= count,
            timeout,
            interval=0.05,
            what=f"{count} recipients at the fake provider",
        )
        seconds = wait_until_sent(issue, timeout) - started
        cpu = sampler.stop()
        harness_cpu = cpu_seconds(os.getpid()) - harness_cpu
    finally:
        worker.stop()
        fake.stop()
    ledger = sent_count(issue)
    if ledger != count:
        raise RuntimeError(f"the fake accepted {fake.accepted} but {ledger} deliveries are sent")
    return {
        "seconds": seconds,
        "per_second": count / seconds,
        "api_calls": len(fake.calls),
        "recipients_per_call": count / max(len(fake.calls), 1),
        "snapshot_seconds": snapshot_seconds,
        "cpu_seconds_per_1000": cpu / count * 1000,
        "harness_and_fake_cpu_seconds": harness_cpu,
        "peak_rss_process_mib": sampler.peak_process_mib,
        "peak_rss_total_mib": sampler.peak_total_mib,
        "rss_samples": sampler.samples,
        "batches": _batch_queries(query_log) if query_log else None,
    }


def _batch_queries(query_log):
    """SQL queries of each send_batch task, in the order the tasks finished."""
    path = Path(query_log)
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [line["queries"] for line in lines if line["task"] == "newsletter.send_batch"]


def seeded(count):
    data.reset()
    newsletter = data.create_newsletter()
    data.seed_readers(newsletter, count)
    data.vacuum_analyze()
    return newsletter
