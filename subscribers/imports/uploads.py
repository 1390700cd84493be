"""Uploaded import files: checked and kept in private storage until the worker imports them.

The file goes to settings.VAR_DIR / "imports", never under MEDIA_ROOT (which may be
public). It is checked in one streaming pass while it is saved: valid UTF-8, a readable
header row with unique names, at least one readable row, and a column with addresses.
Single bad rows (a NUL byte, an unclosed quote) are left to the import, which rejects
each with its line. A refused file is deleted at once, so a bad upload leaves nothing
behind.
"""

import codecs
import csv
import re
import secrets
import time
from dataclasses import asdict, dataclass
from itertools import islice

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext as _

from subscribers.imports.csv_rows import CsvRows
from subscribers.imports.importing import guess_mapping
from subscribers.models import ImportJob

UPLOAD_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{24}\.csv$")
UPLOAD_SALT = "subscribers.import-upload"
UPLOAD_MAX_AGE = 24 * 3600  # an upload not mapped within a day is deleted
DELIMITERS = (",", ";", "\t")  # German spreadsheets export with ";"
SAMPLE_ROWS = 50  # rows looked at to find the address column and to show a preview
# Excel and friends put a cell in quotes up to this length; anything larger is not a list.
csv.field_size_limit(1 << 20)


class UploadRefused(ValueError):
    """The file cannot be imported at all; the message says why, for the person."""


@dataclass(frozen=True)
class Upload:
    name: str  # file name in imports_dir()
    original_name: str
    delimiter: str
    total_rows: int

    @property
    def path(self):
        return imports_dir() / self.name

    def token(self):
        return signing.dumps(asdict(self), salt=UPLOAD_SALT)

    @classmethod
    def from_token(cls, token):
        """The upload a signed token names, or None if tampered, expired or gone."""
        try:
            data = signing.loads(token, salt=UPLOAD_SALT, max_age=UPLOAD_MAX_AGE)
            upload = cls(**data)
        except (signing.BadSignature, TypeError):
            return None
        if not UPLOAD_NAME_RE.match(upload.name) or not upload.path.exists():
            return None
        return upload


def imports_dir():
    folder = settings.VAR_DIR / "imports"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def save_upload(uploaded_file):
    """Store an uploaded CSV and check it; raises UploadRefused (and keeps nothing)."""
    remove_stale_uploads()
    name = f"{secrets.token_urlsafe(18)}.csv"
    path = imports_dir() / name
    try:
        _write_checked(uploaded_file, path)
        delimiter, total_rows = _check_rows(path)
    except UploadRefused:
        path.unlink(missing_ok=True)
        raise
    return Upload(name, uploaded_file.name[:255], delimiter, total_rows)


def _write_checked(uploaded_file, path):
    """Copy the upload to disk in chunks, checking on the way that it is UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    written = 0
    with open(path, "xb") as out:
        path.chmod(0o600)
        for chunk in uploaded_file.chunks():
            pending = len(decoder.getstate()[0])  # bytes of a character split by the chunk
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise UploadRefused(
                    _(
                        "The file is not UTF-8 text (byte %(position)d). Save it as "
                        "“CSV UTF-8” in your spreadsheet program and upload it again."
                    )
                    % {"position": written - pending + exc.start + 1}
                ) from exc
            out.write(chunk)
            written += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise UploadRefused(_("The file ends in the middle of a UTF-8 character.")) from exc
    if written == 0:
        raise UploadRefused(_("The file is empty."))


def _check_rows(path):
    """Read the whole file once: returns (delimiter, number of rows below the header).

    Rows the import will reject with their line (a NUL byte, an unclosed quote) count as
    rows; a file without a single readable row is refused here.
    """
    with open_upload(path) as lines:
        first = lines.readline()
        delimiter = max(DELIMITERS, key=first.count)
        lines.seek(0)
        rows = CsvRows(lines, delimiter=delimiter)
        _line, header, problem = next(rows, (1, [], ""))
        if problem:
            raise UploadRefused(_("The first row cannot be read: %(reason)s") % {"reason": problem})
        _check_header(header)
        sample, total, first_problem = [], 0, None
        for line, cells, problem in rows:
            total += 1
            if problem:
                first_problem = first_problem or (line, problem)
            elif len(sample) < SAMPLE_ROWS:
                sample.append(cells)
    if total == 0:
        raise UploadRefused(_("The file has a header row but no rows below it."))
    if not sample:
        line, problem = first_problem
        raise UploadRefused(
            _("The file is not valid CSV (line %(line)d: %(error)s).")
            % {"line": line, "error": problem}
        )
    if not guess_email_column(header, sample):
        raise UploadRefused(
            _("No column with email addresses found (looked at the header and the first rows).")
        )
    return delimiter, total


def _check_header(header):
    names = [column.strip() for column in header]
    if not any(names):
        raise UploadRefused(_("The first row must name the columns (e.g. email, name)."))
    seen = set()
    for column in names:
        if column and column in seen:
            raise UploadRefused(
                _("Column names must be unique; “%(column)s” appears twice.") % {"column": column}
            )
        seen.add(column)


def guess_email_column(header, sample):
    """The address column: by its header name, else the column whose cells hold addresses."""
    by_name = guess_mapping(header).email
    if by_name:
        return by_name
    hits = [0] * len(header)
    for row in sample:
        for index, cell in enumerate(row[: len(header)]):
            hits[index] += "@" in cell and " " not in cell.strip()
    best = max(range(len(header)), key=hits.__getitem__, default=None)
    return header[best] if best is not None and hits[best] and header[best].strip() else ""


def open_upload(path):
    return open(path, encoding="utf-8-sig", newline="")


def preview(upload):
    """(header, the first SAMPLE_ROWS readable rows) of a stored upload, for the column picker."""
    with open_upload(upload.path) as lines:
        rows = CsvRows(lines, delimiter=upload.delimiter)
        _line, header, _problem = next(rows)
        readable = (cells for _line, cells, problem in rows if not problem)
        return header, list(islice(readable, SAMPLE_ROWS))


def remove_stale_uploads():
    """Delete uploads nobody mapped within UPLOAD_MAX_AGE (abandoned at the column picker).

    Files of failed jobs stay for a resume; done jobs delete theirs.
    """
    cutoff = time.time() - UPLOAD_MAX_AGE
    active = set(
        ImportJob.objects.exclude(status=ImportJob.Status.DONE).values_list(
            "upload_name", flat=True
        )
    )
    for path in imports_dir().glob("*.csv"):
        stale = path.name not in active and path.stat().st_mtime < cutoff
        if UPLOAD_NAME_RE.match(path.name) and stale:
            path.unlink(missing_ok=True)
