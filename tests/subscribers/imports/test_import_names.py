"""An import refuses names that would break every mail to the reader, row by row.

The same rows go through the COPY writer on PostgreSQL and the ORM writer on SQLite:
run this file on both.
"""

import pytest

from subscribers.imports.importing import ColumnMapping, import_subscribers
from subscribers.models import Subscriber

pytestmark = pytest.mark.django_db

CONTROL_REASON = "Name: Line breaks and other control characters are not allowed here."


def run(newsletter, lines, **mapping):
    return import_subscribers(
        newsletter=newsletter,
        lines=lines,
        mapping=ColumnMapping(email="email", **mapping),
        opted_in_declaration="Met at the fair",
    )


def test_rows_with_control_characters_in_the_name_are_rejected_with_their_line(newsletter):
    lines = [
        "email,name\n",
        "good@example.org,Zoë Ørsted\n",
        'crlf@example.org,"Ada\r\n',  # a quoted cell over two lines of the file
        'Bcc: x@example.org"\n',
        "esc@example.org,Ada\x1b[31m\n",
        "sep@example.org,Ada\u2028Lovelace\n",
        "nel@example.org,Ada\x85Lovelace\n",
        "last@example.org,Grace\n",
    ]
    report = run(newsletter, lines, name="name")
    assert (report.rows, report.created, report.rejected) == (6, 2, 4)
    assert [(r.line, r.value, r.reason) for r in report.rejections] == [
        (3, "crlf@example.org", CONTROL_REASON),  # the line the row starts on
        (5, "esc@example.org", CONTROL_REASON),
        (6, "sep@example.org", CONTROL_REASON),
        (7, "nel@example.org", CONTROL_REASON),
    ]
    names = dict(Subscriber.objects.values_list("email", "name"))
    assert names == {"good@example.org": "Zoë Ørsted", "last@example.org": "Grace"}


def test_a_name_longer_than_the_field_is_rejected_not_cut(newsletter):
    long_first, long_last = "A" * 120, "B" * 100
    lines = [
        "email,first,last",
        f"long@example.org,{long_first},{long_last}",
        f"fits@example.org,{'C' * 99},{'D' * 100}",
    ]
    report = run(newsletter, lines, name="first", last_name="last")
    assert [(r.line, r.value, r.reason) for r in report.rejections] == [
        (2, "long@example.org", "Name: Please use at most 200 characters (it has 221).")
    ]
    assert Subscriber.objects.get().name == f"{'C' * 99} {'D' * 100}"
