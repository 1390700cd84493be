"""`python -m benchmarks [--smoke] [--only NAME ...]`: measure, then write the report.

The full run writes BENCHMARKS.md and BENCHMARKS.json at the repository root and its
charts into benchmarks/charts/. The smoke run exercises every measurement at tiny sizes
and writes into benchmarks/work/smoke/, so it never overwrites the real figures.
"""

import argparse
import sys
import time
from datetime import UTC, datetime

from benchmarks import environment, tools

MEASUREMENTS = [
    "smtp_send",
    "batch_api",
    "scale",
    "confirmation_latency",
    "public_pages",
    "csv_import",
]


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few minutes")
    parser.add_argument("--only", nargs="+", choices=MEASUREMENTS, help="run only these")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the other measurements of the previous BENCHMARKS.json (with --only)",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="measure nothing: rewrite BENCHMARKS.md and the charts from BENCHMARKS.json",
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.report_only:
        from benchmarks import report

        out_dir = environment.WORK_DIR / "smoke" if args.smoke else environment.BASE_DIR
        charts = out_dir / "charts" if args.smoke else environment.BASE_DIR / "benchmarks/charts"
        report.rewrite(out_dir, charts)
        print(f"benchmarks: rewrote {out_dir / 'BENCHMARKS.md'}", flush=True)
        return 0
    started = time.monotonic()
    installed = tools.ensure_debian_tools()
    env = environment.prepare()

    # Imported after django.setup(): they use the ORM.
    from benchmarks import extra_suites, report, suites

    sizes = suites.SMOKE if args.smoke else suites.FULL
    context = suites.Context(env=env, sizes=sizes)
    if installed:
        context.notes.append(f"The harness installed Debian packages: {', '.join(installed)}.")
    machine = tools.machine()
    functions = {
        "smtp_send": suites.smtp_transport,
        "batch_api": extra_suites.batch_api,
        "scale": extra_suites.scale,
        "confirmation_latency": extra_suites.confirmation_latency,
        "public_pages": suites.public_pages,
        "csv_import": extra_suites.csv_import,
    }
    out_dir = environment.WORK_DIR / "smoke" if args.smoke else environment.BASE_DIR
    charts_dir = out_dir / "charts" if args.smoke else environment.BASE_DIR / "benchmarks/charts"
    out_dir.mkdir(parents=True, exist_ok=True)
    if args.merge:
        report.merge_previous(context, out_dir / "BENCHMARKS.json", keep_out=args.only or [])
    for name in args.only or MEASUREMENTS:
        context.attempt(name, functions[name])
        # Written after every measurement, so an interrupted run keeps what it measured.
        report.write(context, _meta(args, sizes, machine, started), out_dir, charts_dir)
    print(f"benchmarks: wrote {out_dir / 'BENCHMARKS.md'}", flush=True)
    failed = {key: why for key, why in context.not_run.items() if why.startswith("failed")}
    if args.smoke and failed:
        # CI runs the smoke to keep the harness from rotting: a broken measurement fails it.
        print(f"benchmarks: failed measurements: {', '.join(failed)}", flush=True)
        return 1
    return 0


def _meta(args, sizes, machine, started):
    command = "make bench  # = python -m benchmarks" + (" --smoke" if args.smoke else "")
    commands = [command]
    if args.only:
        commands.append(
            "python -m benchmarks "
            + ("--smoke " if args.smoke else "")
            + ("--merge " if args.merge else "")
            + "--only "
            + " ".join(args.only)
        )
    return {
        "mode": "smoke" if args.smoke else "full",
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "wall_minutes": (time.monotonic() - started) / 60,
        "machine": machine,
        "sizes": vars(sizes),
        "commands": commands,
    }


if __name__ == "__main__":
    sys.exit(main())
