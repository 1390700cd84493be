"""BENCHMARKS.md and BENCHMARKS.json from the run's context, plus SVG charts."""

import json
from pathlib import Path
from types import SimpleNamespace

from benchmarks import svg
from benchmarks.stats import queries_text

FINDINGS = Path(__file__).resolve().parent / "findings.md"


def fmt(figure, digits=0, unit=""):
    """'median (min – max)' of a summary dict, or 'not run'."""
    if not figure or figure.get("median") is None:
        return "not run"

    def number(value):
        return f"{value:,.{digits}f}{unit}"

    if figure["runs"] == 1:
        return f"{number(figure['median'])} (1 run)"
    return f"{number(figure['median'])} ({number(figure['min'])} – {number(figure['max'])})"


def pct(value):
    return "not run" if value is None else f"{value * 100:.0f} %"


def times(value):
    return "not run" if value is None else f"{value:.1f}×"


def merge_previous(context, path, keep_out):
    """Carry over the previous run's measurements that this run does not repeat."""
    if not Path(path).exists():
        return
    previous = json.loads(Path(path).read_text())
    stamp = previous.get("generated_at", "an earlier run")
    for key, value in previous.get("measurements", {}).items():
        if key not in keep_out:
            context.measurements[key] = value
            carried = [n for n in previous.get("notes", []) if n.startswith(f"`{key}`")]
            context.notes.extend(carried or [f"`{key}` comes from the run of {stamp}."])
    for key, reason in previous.get("not_run", {}).items():
        repeated = any(key.startswith(name) for name in keep_out)
        if not repeated and key not in context.measurements:
            context.not_run[key] = reason


def rewrite(out_dir, charts_dir):
    """BENCHMARKS.md and charts again from BENCHMARKS.json (after findings.md changed)."""
    document = json.loads((Path(out_dir) / "BENCHMARKS.json").read_text())
    context = SimpleNamespace(
        measurements=document.pop("measurements"),
        not_run=document.pop("not_run"),
        notes=document.pop("notes"),
    )
    write(context, document, out_dir, charts_dir)


def write(context, meta, out_dir, charts_dir):
    out_dir, charts_dir = Path(out_dir), Path(charts_dir)
    charts_dir.mkdir(parents=True, exist_ok=True)
    document = {
        **meta,
        "measurements": context.measurements,
        "not_run": context.not_run,
        "notes": context.notes,
    }
    (out_dir / "BENCHMARKS.json").write_text(json.dumps(document, indent=2, default=str) + "\n")
    charts = _charts(context, charts_dir, out_dir)
    (out_dir / "BENCHMARKS.md").write_text(_markdown(context, meta, charts))


def _charts(context, charts_dir, out_dir):
    made = {}
    transport = context.measurements.get("smtp_send")
    if transport:
        groups = [f"{int(size):,} readers" for size in transport]
        rows = transport.values()
        series = [
            ("smtp-source ceiling", [row["ceiling"]["per_second"]["median"] for row in rows]),
            (
                "Rundbrief",
                [(row["rundbrief"] or {}).get("per_second", {}).get("median") for row in rows],
            ),
            (
                "django-newsletter",
                [(row["peer"] or {}).get("per_second", {}).get("median") for row in rows],
            ),
        ]
        made["smtp"] = _save(
            charts_dir / "smtp-send.svg",
            out_dir,
            svg.bar_chart(
                "Send over SMTP into smtp-sink (median of runs)", "mails per second", groups, series
            ),
        )
    pages = (context.measurements.get("public_pages") or {}).get("pages")
    if pages:
        made["pages"] = _save(
            charts_dir / "public-pages.svg",
            out_dir,
            svg.bar_chart(
                "Public pages under wrk (median of runs)",
                "requests per second",
                list(pages),
                [("requests/s", [page["per_second"]["median"] for page in pages.values()])],
            ),
        )
    scale = context.measurements.get("scale")
    if scale and scale.get("rss_samples"):
        made["scale"] = _save(
            charts_dir / "scale-rss.svg",
            out_dir,
            svg.line_chart(
                "Worker RSS during the 1,000,000-reader send",
                "MiB",
                "seconds",
                [
                    ("largest worker process", [(t, big) for t, _, big in scale["rss_samples"]]),
                    ("all worker processes", [(t, total) for t, total, _ in scale["rss_samples"]]),
                ],
            ),
        )
    return made


def _save(path, out_dir, content):
    path.write_text(content)
    try:
        return str(path.relative_to(out_dir))
    except ValueError:
        return str(path)


def _markdown(context, meta, charts):
    lines = [
        "# Rundbrief benchmarks",
        "",
        "Written by `make bench` (`python -m benchmarks`); do not edit by hand. "
        f"Mode: **{meta['mode']}**, generated {meta['generated_at']}, "
        f"took {meta['wall_minutes']:.1f} minutes.",
        "",
        "Every figure is the **median of the runs, with min – max** in brackets. "
        "Absolute numbers drift between runs on a virtual machine (see `other_work` below); "
        "the **ratios**, measured side by side in the same run, are what count.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *[f"| {key} | {value} |" for key, value in meta["machine"].items()],
        "",
        "## Commands",
        "",
        *[f"- `{command}`" for command in meta["commands"]],
        "",
    ]
    for section in (
        _smtp_section,
        _batch_section,
        _scale_section,
        _latency_section,
        _pages_section,
        _import_section,
    ):
        lines += section(context, charts)
    if context.not_run:
        lines += ["## Not run", ""]
        lines += [f"- **{key}**: {reason}" for key, reason in context.not_run.items()]
        lines += [""]
    if context.notes:
        lines += ["## Notes from this run", "", *[f"- {note}" for note in context.notes], ""]
    if FINDINGS.exists():
        lines += [FINDINGS.read_text().strip(), ""]
    return "\n".join(lines)


def _smtp_section(context, charts):
    transport = context.measurements.get("smtp_send")
    if not transport:
        return []
    first = next(iter(transport.values()))
    lines = [
        "## 1 and 7. Send over SMTP: Rundbrief, the transport ceiling and django-newsletter",
        "",
        f"One typical issue ({first['message']['html_bytes']:,} bytes of HTML, "
        f"{first['message']['bytes']:,} bytes on the wire, from "
        f"`{first['message']['origin']}`), personalised per reader, into Postfix's smtp-sink "
        "on loopback. Rundbrief: `start_send` → Celery on Redis (one worker process per core, "
        "2 in all, queues bulk+default) → pooled SMTP connections (SMTP_CONNECTIONS_PER_WORKER "
        "per process). Ceiling: `smtp-source -d -s "
        f"{first['connections']}` sending the same bytes over the same number of connections. "
        f"Peer: {first['peer_name']} `Submission.submit()` (one connection per mail).",
        "",
        "| readers | ceiling mails/s | Rundbrief mails/s | ratio to ceiling (target ≥ 50 %) "
        "| CPU s per 1,000 mails | worker peak RSS (largest process) | peer mails/s "
        "| ratio to peer (target ≥ 20×) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for size, row in transport.items():
        own = row["rundbrief"] or {}
        peer = row["peer"] or {}
        lines.append(
            f"| {int(size):,} | {fmt(row['ceiling']['per_second'])} "
            f"| {fmt(own.get('per_second'))} | {pct(row['ratio_to_ceiling'])} "
            f"| {fmt(own.get('cpu_seconds_per_1000'), 2)} "
            f"| {fmt(own.get('peak_rss_process_mib'), 0, ' MiB')} "
            f"| {fmt(peer.get('per_second'))} | {times(row['ratio_to_peer'])} |"
        )
    lines += [
        "",
        "CPU cost per mail, which drifts less than rates on a shared machine "
        "(CPU seconds of all worker processes from the call of start_send until the issue is "
        "sent, from /proc; the peer's `time.process_time()` around `Submission.submit()`). "
        "Neither counts the CPU of PostgreSQL and Redis, which Rundbrief uses more (the "
        "delivery ledger, Celery messages) than the peer does:",
        "",
        "| readers | Rundbrief CPU s per 1,000 | peer CPU s per 1,000 | peer CPU ÷ Rundbrief CPU "
        "| rate if the 2 workers had both cores (derived: 2 × 1,000 ÷ CPU s per 1,000) |",
        "|---|---|---|---|---|",
    ]
    for size, row in transport.items():
        own = row["rundbrief"] or {}
        peer = row["peer"] or {}
        derived = row.get("cpu_bound_per_second")
        lines.append(
            f"| {int(size):,} | {fmt(own.get('cpu_seconds_per_1000'), 2)} "
            f"| {fmt(peer.get('cpu_seconds_per_1000'), 2)} | {times(row.get('peer_cpu_ratio'))} "
            f"| {'not run' if derived is None else f'{derived:,.0f} mails/s'} |"
        )
    for size, row in transport.items():
        if row.get("rundbrief_not_run"):
            lines.append(f"\nRundbrief at {int(size):,}: not run: {row['rundbrief_not_run']}")
        if not row["peer"]:
            lines.append(
                f"\ndjango-newsletter at {int(size):,} readers: not run "
                "(its one-connection-per-mail loop would take too long for `make "
                "bench`; the 10,000-reader runs give its rate)."
            )
    if "smtp" in charts:
        lines += ["", f"![SMTP send]({charts['smtp']})"]
    return [*lines, ""]


def _batch_section(context, charts):
    batch = context.measurements.get("batch_api")
    if not batch:
        return []
    lines = [
        "## 2. Send through a provider batch API (fake provider on loopback)",
        "",
        batch.get("description", ""),
        "",
        "| readers | way | recipients/s (target ≥ 10,000) | API calls | seconds "
        "| worker CPU s per 1,000 |",
        "|---|---|---|---|---|---|",
    ]
    ways = {"stored_template": "stored template", "through_anymail": "through anymail"}
    for size, row in batch["sizes"].items():
        for way, label in ways.items():
            figures = row.get(way)
            if figures is None:  # a report written before there were two ways
                figures, label = row, "through anymail"
            lines.append(
                f"| {int(size):,} | {label} | {fmt(figures['per_second'])} "
                f"| {fmt(figures['api_calls'])} | {fmt(figures['seconds'], 1)} "
                f"| {fmt(figures.get('cpu_seconds_per_1000'), 2)} |"
            )
            if figures is row:
                break
    return [*lines, ""]


def _scale_section(context, charts):
    scale = context.measurements.get("scale")
    if not scale:
        return []
    lines = [
        f"## 3. Scale: one {scale['readers']:,}-reader send through the batch path",
        "",
        "| figure | value |",
        "|---|---|",
        f"| wall time | {fmt(scale['seconds'], 1, ' s')} |",
        f"| recipients/s | {fmt(scale['per_second'])} |",
        f"| audience snapshot time | {fmt(scale['snapshot_seconds'], 2, ' s')} |",
        f"| worker peak RSS, largest process (target < 150 MB) "
        f"| {fmt(scale['peak_rss_process_mib'], 0, ' MiB')} |",
        f"| worker peak RSS, all processes | {fmt(scale['peak_rss_total_mib'], 0, ' MiB')} |",
        f"| SQL queries per batch (min – max over batches) "
        f"| {queries_text(scale.get('queries_per_batch_all') or [])} |",
        "",
        scale.get("description", ""),
    ]
    if "scale" in charts:
        lines += ["", f"![RSS over time]({charts['scale']})"]
    return [*lines, ""]


def _latency_section(context, charts):
    latency = context.measurements.get("confirmation_latency")
    if not latency:
        return []
    return [
        "## 4. Confirmation latency during a large send",
        "",
        latency.get("description", ""),
        "",
        "| figure | value |",
        "|---|---|",
        f"| signups | {latency['signups']} |",
        f"| p50 | {fmt(latency['p50_s'], 2, ' s')} |",
        f"| p95 (target < 5 s) | {fmt(latency['p95_s'], 2, ' s')} |",
        f"| max | {fmt(latency['max_s'], 2, ' s')} |",
        f"| bulk send rate meanwhile | {fmt(latency['send_per_second'])} mails/s |",
        "",
    ]


def _pages_section(context, charts):
    result = context.measurements.get("public_pages")
    if not result:
        return []
    lines = [
        "## 5. Public pages",
        "",
        f"gunicorn with {result['gunicorn_workers']} sync workers (2 × cores + 1, as in the "
        f"README and Dockerfile), production settings; wrk with 1 thread and "
        f"{result['connections']} connections for {result['seconds_per_run']} s per run. "
        "The trivial view answers `ok` through the same middleware on the same server.",
        "",
        "| page | requests/s | p50 | p99 (target < 50 ms) | ratio to trivial view "
        "(target ≥ 70 % for archive and issue) | non-2xx/3xx |",
        "|---|---|---|---|---|---|",
    ]
    for label, page in result["pages"].items():
        lines.append(
            f"| {label} | {fmt(page['per_second'])} | {fmt(page['p50_ms'], 1, ' ms')} "
            f"| {fmt(page['p99_ms'], 1, ' ms')} | {pct(page['ratio_to_trivial'])} "
            f"| {fmt(page['status_errors'])} |"
        )
    post = result["pages"].get("signup POST")
    if post:
        lines.append(
            f"\nThe signup POST runs sent {post['requests']:,} requests and stored "
            f"{post['signups_stored']:,} pending subscriptions (each POST is a real "
            "signup with a fresh address; anti-abuse rate limits raised for the run)."
        )
    lines += [f"\n{label}: not run: {reason}" for label, reason in result["skipped"].items()]
    if "pages" in charts:
        lines += ["", f"![Public pages]({charts['pages']})"]
    return [*lines, ""]


def _import_section(context, charts):
    result = context.measurements.get("csv_import")
    if not result:
        return []
    lines = [
        "## 6. CSV import",
        "",
        result.get("description", ""),
        "",
        "| rows | wall time | rows/s | peak RSS |",
        "|---|---|---|---|",
    ]
    for size, row in result["sizes"].items():
        lines.append(
            f"| {int(size):,} | {fmt(row['seconds'], 1, ' s')} "
            f"| {fmt(row['per_second'])} | {fmt(row['peak_rss_mib'], 0, ' MiB')} |"
        )
    return [*lines, ""]
