"""Reading an import file's rows, each with the line it starts on.

Two kinds of row would otherwise break an import: a NUL byte (PostgreSQL refuses it in
text, so one such cell failed the whole job) and a quote that is never closed (the
csv module then reads every later line into one cell, and those rows silently vanish).
Both come back as a BadRow with a reason; after an unclosed quote, reading goes on at
the next line, so the rows after it are imported as usual.

A quoted cell may hold line breaks (a postal address, say). A cell over several lines
is taken for an unclosed quote only when it runs to the end of the file, or when one of
the lines it swallowed looks like a row of its own: an address and as many delimiters
as the header has.
"""

import csv
from collections import deque

from django.utils.translation import gettext as _

NUL = "\x00"


def nul_reason():
    return _("The row contains a NUL byte (a control character that is not text).")


def unclosed_quote_reason():
    return _(
        'A quote (") opened in this line is never closed; the lines after it were '
        "read on their own."
    )


class BadRow(dict):
    """A row that cannot be imported: its cells as far as they could be read, and why."""

    def __init__(self, cells, reason):
        super().__init__(cells)
        self.reason = reason


class _Lines:
    """The file's lines with their numbers; lines can be handed back to be read again."""

    def __init__(self, lines):
        self.lines = iter(lines)
        self.number = 0
        self.again = deque()  # (number, line) to read before the rest of the file
        self.taken = []  # (number, line) of the record being read
        self.ended = False  # the file ran out while reading this record

    def __iter__(self):
        return self

    def __next__(self):
        if self.again:
            numbered = self.again.popleft()
        else:
            line = next(self.lines, None)
            if line is None:
                self.ended = True
                raise StopIteration
            self.number += 1
            numbered = (self.number, line)
        self.taken.append(numbered)
        return numbered[1]

    def start_record(self):
        self.taken = []
        self.ended = False

    def read_again_after_first(self):
        """Hand back all but the first line of the record just read."""
        self.again.extendleft(reversed(self.taken[1:]))


class CsvRows:
    """(line, cells, reason) for every record of a CSV file; reason is "" for a good one."""

    def __init__(self, lines, delimiter=","):
        self.delimiter = delimiter
        self.lines = _Lines(lines)
        self.reader = csv.reader(self.lines, delimiter=delimiter)
        self.width = 0  # cells in the header, once the first record is read

    def __iter__(self):
        return self

    def __next__(self):
        while True:
            self.lines.start_record()
            try:
                cells = next(self.reader)
            except csv.Error:  # a cell over csv.field_size_limit(): a quote left open
                return self._unclosed_quote()
            if not cells:
                continue  # a blank line, as csv.DictReader skips them
            taken = self.lines.taken
            if self.lines.ended or (len(taken) > 1 and self._swallowed_lines()):
                return self._unclosed_quote()
            self.width = self.width or len(cells)
            if any(NUL in text for _number, text in taken):
                cells = [cell.replace(NUL, "\N{REPLACEMENT CHARACTER}") for cell in cells]
                return taken[0][0], cells, nul_reason()
            return taken[0][0], cells, ""

    def _swallowed_lines(self):
        """Whether the lines after a record's first look like rows of their own."""
        needed = max(self.width - 1, 1)
        return any(
            "@" in text and text.count(self.delimiter) >= needed
            for _number, text in self.lines.taken[1:]
        )

    def _unclosed_quote(self):
        """Reject the record's first line; the lines after it are read again on their own."""
        line, text = self.lines.taken[0] if self.lines.taken else (self.lines.number, "")
        self.lines.read_again_after_first()
        try:
            cells = next(csv.reader([text.replace(NUL, "")], delimiter=self.delimiter), [])
        except csv.Error:  # the line alone is over the cell size limit
            cells = []
        self.width = self.width or len(cells)
        return line, cells, unclosed_quote_reason()


class DictRows:
    """Like csv.DictReader, but a bad row comes as a BadRow and line_num is its first line."""

    def __init__(self, lines, delimiter=","):
        self.rows = CsvRows(lines, delimiter)
        self.line_num = 0
        first = next(self.rows, None)
        self.fieldnames = [cell.replace(NUL, "") for cell in first[1]] if first else []

    def __iter__(self):
        return self

    def __next__(self):
        line, cells, reason = next(self.rows)
        self.line_num = line
        row = dict(zip(self.fieldnames, cells, strict=False))
        if len(cells) > len(self.fieldnames):
            row[None] = cells[len(self.fieldnames) :]
        for name in self.fieldnames[len(cells) :]:
            row[name] = None
        return BadRow(row, reason) if reason else row
