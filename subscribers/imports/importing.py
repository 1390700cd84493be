"""CSV import of subscribers, streaming in chunks so memory stays bounded.

Import rules: every row is validated and each rejected row is reported with
its reason; suppressed addresses are skipped; existing subscriptions are never changed,
so importing the same file twice changes nothing; and rows only become confirmed when
the importer declared that these people already opted in, a declaration recorded as the
consent evidence of every imported subscription.
"""

import re
import threading
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass, field
from itertools import islice
from queue import Full, Queue

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from subscribers.imports import csv_rows, postgres_copy
from subscribers.models import Event, Subscriber, Subscription
from subscribers.suppression import suppressed_among
from subscribers.validation import AddressCleaner, clean_name

CHUNK_SIZE = 5000  # rows per transaction: fewer, larger commits write faster
KEPT_REJECTIONS = 1000  # the report keeps this many; on_reject callbacks see all of them
# Header names (compared lower-cased, without spaces, dashes, dots and underscores) that
# exports from common tools use, in English and German.
EMAIL_HEADERS = (
    "email",
    "emailaddress",
    "mail",
    "mailaddress",
    "emailadresse",
    "mailadresse",
    "epost",
)
NAME_HEADERS = ("name", "fullname", "vollständigername", "vollername", "displayname", "anzeigename")
FIRST_NAME_HEADERS = ("firstname", "givenname", "vorname", "forename")
LAST_NAME_HEADERS = ("lastname", "surname", "familyname", "nachname", "familienname", "zuname")


class ImportRefused(ValueError):
    """The file as a whole cannot be imported (bad header, unknown column)."""


@dataclass
class ColumnMapping:
    email: str
    name: str = ""
    custom: dict = field(default_factory=dict)  # custom field key -> CSV column
    last_name: str = ""  # appended to the name, for files with first and last name apart

    def check(self, header):
        wanted = [self.email, self.name, self.last_name, *self.custom.values()]
        missing = [column for column in wanted if column and column not in header]
        if missing:
            raise ImportRefused(
                _("Columns not found in the file: %(missing)s. The file has: %(found)s.")
                % {"missing": ", ".join(missing), "found": ", ".join(header)}
            )

    def as_json(self):
        return {
            "email": self.email,
            "name": self.name,
            "last_name": self.last_name,
            "custom": self.custom,
        }

    @classmethod
    def from_json(cls, data):
        return cls(
            email=data["email"],
            name=data.get("name", ""),
            last_name=data.get("last_name", ""),
            custom=dict(data.get("custom", {})),
        )


@dataclass
class Rejection:
    line: int
    value: str
    reason: str


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    unchanged: int = 0
    suppressed: int = 0
    rejected: int = 0
    rejections: list = field(default_factory=list)

    def reject(self, rejection):
        self.rejected += 1
        if len(self.rejections) < KEPT_REJECTIONS:
            self.rejections.append(rejection)


def _header_key(column):
    return re.sub(r"[\s_.\-]+", "", column.strip().lower())


def _find(header, names):
    keys = {_header_key(column): column for column in reversed(header)}  # first one wins
    return next((keys[name] for name in names if name in keys), "")


def guess_mapping(header):
    """Email and name columns by their usual English or German names ("" if not found).

    A "Name" column wins; without one, "Vorname"/"First name" becomes the name and a
    "Nachname"/"Last name" column is appended to it.
    """
    email = _find(header, EMAIL_HEADERS)
    name = _find(header, NAME_HEADERS)
    last_name = ""
    if not name:
        name = _find(header, FIRST_NAME_HEADERS)
        last_name = _find(header, LAST_NAME_HEADERS)
    return ColumnMapping(email=email, name=name, last_name=last_name)


def _complete(mapping, header):
    """Fill in the email (and name) column from the header when they were not given."""
    if mapping.email:
        return mapping
    guessed = guess_mapping(header)
    if not guessed.email:
        raise ImportRefused(_("No email column found. Name it with --email-column."))
    return ColumnMapping(
        email=guessed.email,
        name=mapping.name or guessed.name,
        last_name=mapping.last_name or (guessed.last_name if not mapping.name else ""),
        custom=mapping.custom,
    )


def import_subscribers(
    *,
    newsletter,
    lines: Iterable[str],
    mapping: ColumnMapping | None = None,
    opted_in_declaration: str = "",
    on_reject: Callable[[Rejection], None] | None = None,
    on_progress: Callable[[ImportReport], None] | None = None,
    on_chunk: Callable[[ImportReport, list], None] | None = None,
    chunk_size: int = CHUNK_SIZE,
    delimiter: str = ",",
    report: ImportReport | None = None,
) -> ImportReport:
    """Import a CSV (any iterable of text lines with a header row) into one newsletter.

    To resume an interrupted import, pass the report of the rows already done: that many
    rows are skipped. `on_chunk(report, new_subscriber_ids)` runs inside each chunk's
    transaction, so what it writes commits together with the chunk.
    """
    reader = csv_rows.DictRows(lines, delimiter=delimiter)
    header = reader.fieldnames or []
    mapping = _complete(mapping or ColumnMapping(email=""), header)
    mapping.check(header)
    report = report or ImportReport()
    for _row in islice(reader, report.rows):
        pass  # done before the interruption
    declaration = opted_in_declaration.strip()
    # The COPY rows (hashes, tokens) are made in the reading thread too.
    copy_rows = postgres_copy.copy_rows if connection.vendor == "postgresql" else None
    parsed = _parsed_chunks(reader, mapping, chunk_size, copy_rows)
    # closing(): on an error the reading thread stops at once, not when collected.
    with closing(_read_ahead(parsed, language=translation.get_language())) as chunks:
        for chunk in chunks:
            report.rows += chunk.rows_read
            for rejection in chunk.rejections:
                report.reject(rejection)
                if on_reject:
                    on_reject(rejection)
            with transaction.atomic():
                new_ids = _import_chunk(newsletter, chunk, declaration, report)
                if on_chunk:
                    on_chunk(report, new_ids)
            if on_progress:
                on_progress(report)
    return report


@dataclass
class ParsedChunk:
    rows: dict = field(default_factory=dict)  # email -> (name, custom_fields), first row wins
    duplicates: int = 0  # later rows with an address already in the chunk
    rejections: list = field(default_factory=list)
    rows_read: int = 0
    copy_rows: list | None = None  # the rows as the PostgreSQL writer sends them

    @property
    def valid(self):
        return len(self.rows) + self.duplicates

    def add(self, email, name, custom):
        if email in self.rows:  # the same address twice in the file: the first row wins
            self.duplicates += 1
        else:
            self.rows[email] = (name, custom)


def _parsed_chunks(reader, mapping, chunk_size, copy_rows=None):
    """Chunks of up to chunk_size valid rows (and at most twice as many rows in all)."""
    clean_address = AddressCleaner()
    chunk = ParsedChunk()
    for row in reader:
        chunk.rows_read += 1
        raw = (row.get(mapping.email) or "").strip()
        try:
            if isinstance(row, csv_rows.BadRow):
                raise ValidationError(row.reason)
            if None in row:  # csv puts extra cells under the key None
                raise ValidationError(_("The row has more cells than the header."))
            email = clean_address(raw)
        except ValidationError as exc:
            chunk.rejections.append(Rejection(reader.line_num, raw, " ".join(exc.messages)))
        else:
            _add_row(chunk, reader.line_num, email, row, mapping)
        if chunk.valid == chunk_size or chunk.rows_read == 2 * chunk_size:
            yield _finished(chunk, copy_rows)
            chunk = ParsedChunk()
    if chunk.rows_read:
        yield _finished(chunk, copy_rows)


def _finished(chunk, copy_rows):
    if copy_rows:
        chunk.copy_rows = copy_rows(chunk.rows)
    return chunk


_DONE = object()


def _read_ahead(items, *, language):
    """Iterate over `items` from a second thread that stays one item ahead.

    Reading and validating the next chunk then overlaps with writing this one: the
    database call releases the GIL while it waits. The thread sees the same language
    for its messages, and stops when the caller stops early (an error, say).
    """
    queue = Queue(maxsize=1)
    stop = threading.Event()

    def hand_over(entry):
        while not stop.is_set():
            try:
                queue.put(entry, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def produce():
        with translation.override(language):
            try:
                for item in items:
                    if not hand_over((item, None)):
                        return
                hand_over((_DONE, None))
            except BaseException as exc:  # handed to the caller, raised there
                hand_over((_DONE, exc))

    thread = threading.Thread(target=produce, name="csv-import-reader", daemon=True)
    thread.start()
    try:
        while True:
            item, error = queue.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        thread.join()


def _add_row(chunk, line, email, row, mapping):
    """Add a row with a valid address, or reject it for its name (never cut to fit)."""
    parts = [(row.get(column) or "").strip() for column in (mapping.name, mapping.last_name)]
    try:
        name = clean_name(" ".join(part for part in parts if part))
    except ValidationError as exc:
        reason = _("Name: %(problem)s") % {"problem": " ".join(exc.messages)}
        # The address names the row; the name itself may hold what a report cannot.
        chunk.rejections.append(Rejection(line, email, reason))
        return
    custom = {key: row.get(column) or "" for key, column in mapping.custom.items()}
    chunk.add(email, name, custom)


def _import_chunk(newsletter, chunk, declaration, report):
    """Create what is new in one chunk; returns the ids of newly subscribed people."""
    if chunk.copy_rows is not None:
        suppressed, new_ids = postgres_copy.write_chunk(newsletter, chunk.copy_rows, declaration)
    else:
        suppressed, new_ids = _write_chunk(newsletter, chunk.rows, declaration)
    report.suppressed += suppressed
    report.unchanged += chunk.duplicates + len(chunk.rows) - suppressed - len(new_ids)
    report.created += len(new_ids)
    return new_ids


def _write_chunk(newsletter, rows, declaration):
    """The plain ORM writer (SQLite): returns (suppressed count, new subscriber ids)."""
    suppressed = suppressed_among(rows)
    rows = {email: row for email, row in rows.items() if email not in suppressed}
    Subscriber.objects.bulk_create(
        [
            Subscriber(email=email, name=name, custom_fields=custom, language=newsletter.language)
            for email, (name, custom) in rows.items()
        ],
        ignore_conflicts=True,
    )
    ids = dict(Subscriber.objects.filter(email__in=rows).values_list("email", "id"))
    existing = set(
        Subscription.objects.filter(
            newsletter=newsletter, subscriber_id__in=ids.values()
        ).values_list("subscriber_id", flat=True)
    )
    new_ids = [ids[email] for email in rows if ids[email] not in existing]
    _create_subscriptions(newsletter, new_ids, declaration)
    return len(suppressed), new_ids


def _create_subscriptions(newsletter, subscriber_ids, declaration):
    now = timezone.now()
    status = Subscription.Status.CONFIRMED if declaration else Subscription.Status.PENDING
    Subscription.objects.bulk_create(
        [
            Subscription(
                subscriber_id=subscriber_id,
                newsletter=newsletter,
                status=status,
                source=Subscription.Source.IMPORT,
                consent_text=declaration,
                subscribed_at=now,
                confirmed_at=now if declaration else None,
            )
            for subscriber_id in subscriber_ids
        ],
        ignore_conflicts=True,
    )
    Event.objects.bulk_create(
        [
            Event(
                subscriber_id=subscriber_id,
                newsletter=newsletter,
                kind=Event.Kind.IMPORTED,
                data={"opted_in_declaration": declaration} if declaration else {},
            )
            for subscriber_id in subscriber_ids
        ]
    )
