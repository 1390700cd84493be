"""Import subscribers from a CSV file into one newsletter, with a per-row report."""

import csv
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from newsletter.models import Newsletter
from subscribers.imports.importing import ColumnMapping, ImportRefused, import_subscribers


class Command(BaseCommand):
    help = (
        "Import subscribers from a CSV file with a header row. Rows are pending (they need "
        "a confirmation) unless --opted-in declares that these people already opted in."
    )

    def add_arguments(self, parser):
        parser.add_argument("newsletter", help="slug of the newsletter")
        parser.add_argument("csv_file", help="path of the CSV file (UTF-8), or - for stdin")
        parser.add_argument("--email-column", default="", help="column with the address")
        parser.add_argument("--name-column", default="", help="column with the name")
        parser.add_argument(
            "--field",
            action="append",
            default=[],
            metavar="KEY=COLUMN",
            help="keep COLUMN as custom field KEY (repeatable)",
        )
        parser.add_argument(
            "--opted-in",
            default="",
            metavar="DECLARATION",
            help="declare that these people already opted in, and how (stored as consent "
            'evidence), e.g. "Signed up on the paper list at the 2024 fair"',
        )
        parser.add_argument(
            "--rejects", default="", help="write rejected rows (line, value, reason) to this CSV"
        )

    def handle(self, *args, **options):
        try:
            newsletter = Newsletter.objects.get(slug=options["newsletter"])
        except Newsletter.DoesNotExist as exc:
            raise CommandError(f"No newsletter with slug {options['newsletter']!r}.") from exc
        with self._open(options["csv_file"]) as lines, self._rejects(options["rejects"]) as rej:
            try:
                report = import_subscribers(
                    newsletter=newsletter,
                    lines=lines,
                    mapping=self._mapping(options, lines),
                    opted_in_declaration=options["opted_in"],
                    on_reject=rej,
                    on_progress=self._progress(),
                )
            except ImportRefused as exc:
                raise CommandError(str(exc)) from exc
        self.stderr.write("")  # end the progress line
        self.stdout.write(
            f"{report.rows} rows: {report.created} imported "
            f"({'confirmed' if options['opted_in'].strip() else 'pending confirmation'}), "
            f"{report.unchanged} already there, {report.suppressed} suppressed, "
            f"{report.rejected} rejected."
        )

    def _open(self, path):
        if path == "-":
            return _NoClose(sys.stdin)
        try:
            return open(path, encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc

    def _mapping(self, options, lines):
        custom = {}
        for spec in options["field"]:
            key, sep, column = spec.partition("=")
            if not sep or not key.strip():
                raise CommandError(f"--field {spec!r} must look like KEY=COLUMN")
            custom[key.strip()] = column
        # An empty email column is guessed from the header by the import.
        return ColumnMapping(
            email=options["email_column"], name=options["name_column"], custom=custom
        )

    def _rejects(self, path):
        stderr = self.stderr

        class Reporter:
            def __enter__(self):
                self.file = open(path, "w", newline="", encoding="utf-8") if path else None
                self.writer = csv.writer(self.file) if self.file else None
                if self.writer:
                    self.writer.writerow(["line", "value", "reason"])
                return self

            def __call__(self, rejection):
                if self.writer:
                    self.writer.writerow([rejection.line, rejection.value, rejection.reason])
                else:
                    stderr.write(f"line {rejection.line}: {rejection.value!r}: {rejection.reason}")

            def __exit__(self, *exc):
                if self.file:
                    self.file.close()

        return Reporter()

    def _progress(self):
        started = time.monotonic()
        stderr = self.stderr

        def show(report):
            elapsed = time.monotonic() - started
            stderr.write(
                f"\r{report.rows} rows read, {report.created} imported ({elapsed:.1f} s)", ending=""
            )
            stderr.flush()

        return show


class _NoClose:
    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        return self.stream

    def __exit__(self, *exc):
        return False
