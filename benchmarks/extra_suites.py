"""Confirmation latency under load, CSV import, the batch API path and the scale run."""

import csv
import sys
import threading
import time

from benchmarks import batch_send, data, smtp_send, web
from benchmarks.environment import BASE_DIR, WORK_DIR
from benchmarks.procs import Service, TreeSampler
from benchmarks.stats import percentile, queries_text, summary
from benchmarks.suites import figures
from benchmarks.timing_sink import RecordingSink
from benchmarks.workers import NotRun, Worker, engine


# --- 4. confirmation latency during a large send -------------------------------------
class SignupDriver:
    """Posts signups through gunicorn while the send runs; the sink times their mails."""

    def __init__(self, server, newsletter, sink, count, interval):
        self.server, self.sink, self.count, self.interval = server, sink, count, interval
        self.path = f"/{newsletter.slug}/subscribe/"
        self.body, self.cookie = web.signup_post_template(server, self.path)
        self.posted = {}  # address -> time the POST started
        self.failed = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __call__(self, issue):
        self.thread.start()
        return self

    def _run(self):
        time.sleep(1.0)  # let the send get going first
        for number in range(self.count):
            # A form's time stamp is good for one signup: each POST gets its own page view.
            self.body, self.cookie = web.signup_post_template(self.server, self.path)
            address = f"signup{number}-{time.time_ns()}@example.com"
            self.posted[address] = time.time()
            status = web.post_form(self.server, self.path, self.body, self.cookie, address)
            if status not in (302, 303):  # a 200 is the form again, with errors
                self.failed.append(status)
            time.sleep(self.interval)

    def finish(self):
        self.thread.join()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not set(self.posted) <= self.sink.arrived_keys():
            time.sleep(0.1)

    def result(self):
        arrived = self.sink.arrivals()
        latencies = sorted(arrived[a] - t for a, t in self.posted.items() if a in arrived)
        return {
            "posted": len(self.posted),
            "confirmed_mails": len(latencies),
            "failed_posts": self.failed,
            "latencies": latencies,
        }


def confirmation_latency(context):
    """200 signups during a large send: time from the POST to the mail at the sink."""
    sizes = context.sizes
    engine()
    count = sizes.smtp[-1]
    data.reset()
    newsletter = data.create_newsletter()
    data.seed_readers(newsletter, count)
    data.vacuum_analyze()
    runs = []
    for run in range(sizes.latency_runs):
        runs.append(_latency_run(context, newsletter, count, run))
    latencies = [run["side"]["latencies"] for run in runs]
    return {
        "description": _latency_description(count, sizes),
        "signups": sizes.signups,
        "runs": len(runs),
        "p50_s": summary([percentile(values, 0.50) for values in latencies]),
        "p95_s": summary([percentile(values, 0.95) for values in latencies]),
        "max_s": summary([max(values, default=None) for values in latencies]),
        "send_per_second": summary([run["per_second"] for run in runs]),
        "confirmed_mails": [run["side"]["confirmed_mails"] for run in runs],
        "failed_posts": [run["side"]["failed_posts"] for run in runs],
    }


def _latency_description(count, sizes):
    return (
        f"While a {count:,}-reader send runs (as in section 1), {sizes.signups} signups are "
        "POSTed one by one through gunicorn, spread over the send. Confirmation mails go "
        "through Rundbrief's `priority` queue, consumed by a worker of its own (as in "
        "docker-compose.yml; 1 process here), into a loopback SMTP sink that timestamps each "
        "arrival by recipient. Latency = arrival time − time the POST started. "
        f"{sizes.latency_runs} run(s)."
    )


def _latency_run(context, newsletter, count, run):
    expected = _expected_send_seconds(context, count)
    interval = max(0.05, expected * 0.8 / context.sizes.signups)
    with RecordingSink() as recorder:
        server = web.Server(context.env)
        priority = Worker(
            context.env,
            queues="priority",
            concurrency=1,
            name=f"priority{run}",
            EMAIL_URL=recorder.url,
        )
        try:
            driver = SignupDriver(server, newsletter, recorder, context.sizes.signups, interval)
            return smtp_send.run_once(context.env, newsletter, count, 100 + run, during=driver)
        finally:
            priority.stop()
            server.stop()


def _expected_send_seconds(context, count):
    measured = (context.measurements.get("smtp_send") or {}).get(str(count)) or {}
    rate = ((measured.get("rundbrief") or {}).get("per_second") or {}).get("median")
    return count / rate if rate else 20.0


# --- 6. CSV import ----------------------------------------------------------------------
def csv_file(rows):
    path = WORK_DIR / f"import-{rows}.csv"
    if not path.exists():
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["email", "name", "city"])
            for number in range(1, rows + 1):
                writer.writerow([f"imported{number}@example.com", f"Imported {number}", "Berlin"])
    return path


MAX_IMPORT_SECONDS = 40 * 60


def csv_import(context):
    """`manage.py import_subscribers` on generated CSV files: wall time, rows/s, RSS."""
    if not (BASE_DIR / "subscribers/management/commands/import_subscribers.py").exists():
        raise NotRun("the import_subscribers command is not there yet")
    result = {}
    rate = None
    for rows in context.sizes.imports:
        if rate and rows / rate > MAX_IMPORT_SECONDS:
            context.not_run[f"csv_import {rows:,} rows"] = (
                f"at the {rate:,.0f} rows/s measured on the smaller file it would take "
                f"about {rows / rate / 60:.0f} minutes, past the harness's "
                f"{MAX_IMPORT_SECONDS // 60}-minute limit for one import"
            )
            continue
        path = csv_file(rows)
        runs = [_import_once(context, path, rows) for _ in range(context.sizes.runs)]
        result[str(rows)] = figures(runs, "seconds", "per_second", "peak_rss_mib")
        rate = result[str(rows)]["per_second"]["median"]
    return {
        "description": "`python manage.py import_subscribers bench FILE --opted-in ...` "
        "(CSV with email, name and one custom column; every row new and valid), run in a "
        "fresh process each time, into an emptied database. Peak RSS is the command's "
        f"VmHWM. {context.sizes.runs} runs per size.",
        "sizes": result,
    }


def _import_once(context, path, rows):
    from subscribers.models import Subscription

    data.reset()
    data.create_newsletter()
    command = [
        sys.executable,
        "manage.py",
        "import_subscribers",
        "bench",
        str(path),
        "--name-column",
        "name",
        "--field",
        "city=city",
        "--opted-in",
        "Benchmark readers who opted in elsewhere",
    ]
    started = time.monotonic()
    service = Service(
        command, env=context.env, cwd=BASE_DIR, log_path=WORK_DIR / "logs" / "import.log"
    )
    sampler = TreeSampler([service.pid], interval=0.2).start()
    code = service.process.wait(timeout=3600)
    seconds = time.monotonic() - started
    sampler.stop()
    if code != 0:
        raise RuntimeError(f"import failed ({code}):\n{service.log_tail()}")
    stored = Subscription.objects.count()
    if stored != rows:
        raise RuntimeError(f"the import stored {stored} subscriptions, not {rows}")
    return {
        "seconds": seconds,
        "per_second": rows / seconds,
        "peak_rss_mib": sampler.peak_process_mib,
    }


# --- 2 and 3. batch API path and the scale run ---------------------------------------
def batch_api(context):
    """The same audiences to the fake Postmark: with the issue's stored template (the
    default) and with the pass-through template through anymail's backend."""
    batch_send.fake_class()
    engine()
    result = {}
    for count in context.sizes.batch:
        newsletter = batch_send.seeded(count)
        row = {}
        for way, stored in (("stored_template", True), ("through_anymail", False)):
            runs = [
                batch_send.run_once(context.env, newsletter, count, run, stored_templates=stored)
                for run in range(context.sizes.runs)
            ]
            row[way] = figures(
                runs,
                "per_second",
                "api_calls",
                "seconds",
                "cpu_seconds_per_1000",
                "harness_and_fake_cpu_seconds",
                "peak_rss_process_mib",
            )
        result[str(count)] = row
    return {
        "description": "`EMAIL_PROVIDER=postmark`, 500 recipients per batchWithTemplates "
        "call, to the engine's fake Postmark API on loopback, which parses each call and "
        "answers at once. **Stored template** (the default): the issue is stored once as a "
        "Postmark template through the fake's Templates API and each call names it with "
        "each reader's merge values (about 1 KB per reader), sent by Rundbrief straight to "
        "the endpoint. **Through anymail** (`SEND_ESP_STORE_TEMPLATES=0`): anymail's "
        "Postmark backend sends each reader's finished subject and bodies into the "
        "pass-through template `SEND_ESP_TEMPLATE` (about 13 KB per reader). Same path as "
        "section 1 otherwise (start_send → 2 worker processes). The fake runs in the "
        "harness process; its CPU time is in the JSON.",
        "sizes": result,
    }


def scale(context):
    """One very large send through the batch path: time, RSS over time, queries/batch."""
    batch_send.fake_class()
    engine()
    count = context.sizes.scale
    seed_started = time.monotonic()
    newsletter = batch_send.seeded(count)
    seed_seconds = time.monotonic() - seed_started
    log = WORK_DIR / "logs" / "scale-queries.jsonl"
    runs = [
        batch_send.run_once(context.env, newsletter, count, run, query_log=log)
        for run in range(context.sizes.scale_runs)
    ]
    queries = runs[-1]["batches"] or []
    result = figures(
        runs,
        "seconds",
        "per_second",
        "snapshot_seconds",
        "peak_rss_process_mib",
        "peak_rss_total_mib",
        "api_calls",
    )
    return {
        **result,
        "readers": count,
        "seed_seconds": seed_seconds,
        "queries_per_batch": queries_text(queries),
        "queries_per_batch_all": queries,
        "rss_samples": runs[-1]["rss_samples"],
        "description": f"{context.sizes.scale_runs} run(s): seeding {count:,} readers took "
        f"{seed_seconds:.0f} s (SQL, not measured as Rundbrief's work). The snapshot time is "
        "the duration of `start_send`, which copies the audience into the Delivery ledger "
        "in one INSERT … SELECT. Queries per batch are counted per `newsletter.send_batch` "
        "task in the workers (benchmarks/celery_app.py).",
    }
