"""The measurements, each a function of the run context that returns its figures.

Runs of the things being compared are interleaved (ceiling, Rundbrief, peer, ceiling,
...) so that drift on the shared machine hits each of them alike.
"""

import os
import subprocess
import traceback
from dataclasses import dataclass, field

from benchmarks import ceiling, data, message, smtp_send, web
from benchmarks.django_newsletter import Peer
from benchmarks.environment import WORK_DIR
from benchmarks.stats import ratio, summary
from benchmarks.workers import NotRun

CORES = os.cpu_count() or 1


@dataclass
class Sizes:
    smtp: list
    peer: list
    batch: list
    scale: int
    signups: int
    imports: list
    runs: int = 3
    scale_runs: int = 1
    latency_runs: int = 1
    web_seconds: int = 10
    web_connections: int = 8


FULL = Sizes(
    smtp=[10_000, 100_000],
    peer=[10_000],
    batch=[10_000, 100_000],
    scale=1_000_000,
    signups=200,
    imports=[100_000, 1_000_000],
    scale_runs=3,
    latency_runs=3,
)
SMOKE = Sizes(
    smtp=[300],
    peer=[300],
    batch=[1_000],
    scale=5_000,
    signups=10,
    imports=[2_000],
    runs=3,
    web_seconds=2,
    web_connections=4,
)


@dataclass
class Context:
    env: dict
    sizes: Sizes
    measurements: dict = field(default_factory=dict)
    not_run: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    def attempt(self, key, function):
        """Run one measurement; a NotRun or an error is recorded, never hidden."""
        print(f"benchmarks: {key} ...", flush=True)
        code = code_version()
        try:
            self.measurements[key] = function(self)
            self.notes.append(f"`{key}` measured with the code of {code}.")
        except NotRun as reason:
            self.not_run[key] = str(reason)
        except Exception as error:
            traceback.print_exc()
            self.not_run[key] = f"failed: {type(error).__name__}: {error}"
        print(f"benchmarks: {key} done ({self.not_run.get(key, 'measured')})", flush=True)


def code_version():
    """The commit the measured code is at, and whether the work tree differed from it."""
    from benchmarks.environment import BASE_DIR

    def git(*args):
        done = subprocess.run(["git", *args], cwd=BASE_DIR, capture_output=True, text=True)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git(
        "status", "--porcelain", "--untracked-files=no", "--", "newsletter", "subscribers", "config"
    )
    return f"commit {commit}" + (" plus uncommitted changes" if dirty else "")


def figures(runs, *names):
    return {name: summary([run.get(name) if run else None for run in runs]) for name in names}


def _message_file(issue):
    raw, origin, html_bytes = message.raw_message(issue)
    path = WORK_DIR / "message.eml"
    path.write_bytes(raw)
    body = WORK_DIR / "message-body.html"
    body.write_text(message.reference(issue)[1])
    return path, body, {"origin": origin, "bytes": len(raw), "html_bytes": html_bytes}


def _try(function, *args, errors=None, **kwargs):
    try:
        return function(*args, **kwargs)
    except NotRun as reason:
        if errors is not None:
            errors.append(str(reason))
        return None


def smtp_transport(context):
    """Ceiling, Rundbrief and the peer for each audience size, runs interleaved."""
    sizes, result = context.sizes, {}
    peer = Peer()
    for count in sizes.smtp:
        data.reset()
        newsletter = data.create_newsletter()
        data.seed_readers(newsletter, count)
        data.vacuum_analyze()
        message_file, body_file, described = _message_file(data.create_issue(newsletter, "ref"))
        with_peer = count in sizes.peer
        if with_peer:
            peer.seed(count)
        ceiling_runs, rundbrief_runs, peer_runs, reasons = [], [], [], []
        for run in range(sizes.runs):
            ceiling_runs.append(ceiling.run_once(message_file, count, smtp_send.smtp_connections()))
            rundbrief_runs.append(
                _try(smtp_send.run_once, context.env, newsletter, count, run, errors=reasons)
            )
            if with_peer:
                peer_runs.append(peer.send_once(count, body_file))
        result[str(count)] = _transport_figures(
            count, described, ceiling_runs, rundbrief_runs, peer_runs, reasons, peer.version
        )
    return result


def _transport_figures(
    count, described, ceiling_runs, rundbrief_runs, peer_runs, reasons, peer_version
):
    ceiling_rate = summary([run["per_second"] for run in ceiling_runs])
    rundbrief = figures(
        rundbrief_runs,
        "per_second",
        "seconds",
        "cpu_seconds_per_1000",
        "peak_rss_process_mib",
        "peak_rss_total_mib",
    )
    peer = (
        figures(peer_runs, "per_second", "seconds", "cpu_seconds_per_1000") if peer_runs else None
    )
    own = rundbrief["per_second"]["median"]
    own_cpu = rundbrief["cpu_seconds_per_1000"]["median"]
    peer_cpu = peer["cpu_seconds_per_1000"]["median"] if peer else None
    return {
        "readers": count,
        "message": described,
        "connections": smtp_send.smtp_connections(),
        "ceiling": {"per_second": ceiling_rate},
        "rundbrief": rundbrief if any(rundbrief_runs) else None,
        "rundbrief_not_run": reasons[0] if reasons else None,
        "rundbrief_rss_samples": next(
            (run["rss_samples"] for run in reversed(rundbrief_runs) if run), []
        ),
        "peer": peer,
        "peer_name": f"django-newsletter {peer_version}",
        "ratio_to_ceiling": ratio(own, ceiling_rate["median"]),
        "ratio_to_peer": ratio(own, peer["per_second"]["median"]) if peer else None,
        # Derived, not measured: the rate if the workers had every core to themselves.
        "cpu_bound_per_second": CORES * 1000 / own_cpu if own_cpu else None,
        "peer_cpu_ratio": ratio(peer_cpu, own_cpu),
    }


PAGES = [
    ("trivial view (ceiling)", "/bench/trivial/", None),
    ("archive index", "/", None),
    ("issue page", "/{slug}/{issue_slug}/", None),
    ("signup form GET", "/{slug}/subscribe/", None),
    ("signup POST", "/{slug}/subscribe/", "post"),
]


def public_pages(context):
    """req/s, p50 and p99 per page under wrk, as a ratio to the trivial view."""
    data.reset()
    newsletter = data.create_newsletter()
    issue = data.create_issue(newsletter, slug="hello-readers")
    _publish(issue)
    server = web.Server(context.env)
    try:
        return _drive_pages(context, server, newsletter, issue)
    finally:
        server.stop()


def _stored_load_signups():
    """Signups the load test really stored: a 200 re-render of the form would not count."""
    from subscribers.models import Subscription

    return Subscription.objects.filter(subscriber__email__startswith="load").count()


def _publish(issue):
    from django.utils import timezone

    issue.status = issue.Status.SENT
    issue.sent_at = timezone.now()
    issue.save()


def _drive_pages(context, server, newsletter, issue):
    sizes, pages, skipped = context.sizes, {}, {}
    targets = []
    for label, pattern, method in PAGES:
        path = pattern.format(slug=newsletter.slug, issue_slug=issue.slug)
        status = server.status(path)
        if status != 200:
            skipped[label] = f"GET {path} answers {status} instead of 200"
            continue
        body = cookie = None
        if method == "post":
            body, cookie = web.signup_post_template(server, path)
        targets.append((label, server.base + path, body, cookie))
    runs = {label: [] for label, *_ in targets}
    for _label, url, body, cookie in targets:  # warm every worker's caches first
        web.drive(url, 1, sizes.web_connections, body=body, cookie=cookie)
    stored_before = _stored_load_signups()
    for _run in range(sizes.runs):
        for label, url, body, cookie in targets:
            runs[label].append(
                web.drive(url, sizes.web_seconds, sizes.web_connections, body=body, cookie=cookie)
            )
    ceiling_rate = summary([run["per_second"] for run in runs.get(PAGES[0][0], [])])
    for label, page_runs in runs.items():
        pages[label] = figures(
            page_runs, "per_second", "p50_ms", "p99_ms", "status_errors", "socket_errors"
        )
        pages[label]["ratio_to_trivial"] = ratio(
            pages[label]["per_second"]["median"], ceiling_rate["median"]
        )
    if "signup POST" in runs:
        pages["signup POST"]["signups_stored"] = _stored_load_signups() - stored_before
        pages["signup POST"]["requests"] = sum(run["requests"] for run in runs["signup POST"])
    return {
        "pages": pages,
        "skipped": skipped,
        "gunicorn_workers": web.GUNICORN_WORKERS,
        "seconds_per_run": sizes.web_seconds,
        "connections": sizes.web_connections,
    }
