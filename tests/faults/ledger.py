"""What the fault tests read back: the ledger of a send, copies per reader, pauses."""

import time
from collections import Counter
from dataclasses import dataclass

import pytest
from django.db.models import Sum

from newsletter.models import Delivery, Issue
from tests.faults.conftest import FIGURES, query


def issue_status(issue_id):
    return Issue.objects.filter(pk=issue_id).values_list("status", flat=True).first()


def wait_until_sent(issue_id, timeout):
    """Wait for the send to finish by itself; the seconds it took."""
    started = time.monotonic()
    while query(lambda: issue_status(issue_id)) != "sent":
        if time.monotonic() - started > timeout:
            ledger = query(lambda: statuses(issue_id))
            pytest.fail(f"issue {issue_id} not sent after {timeout} s; ledger: {ledger}")
        time.sleep(0.5)
    return time.monotonic() - started


def statuses(issue_id):
    rows = Delivery.objects.filter(issue_id=issue_id).values_list("status")
    return dict(Counter(status for (status,) in rows))


def retries(issue_id):
    """Attempts beyond the first, over all the send's rows."""
    rows = Delivery.objects.filter(issue_id=issue_id)
    return (rows.aggregate(total=Sum("attempts"))["total"] or 0) - rows.count()


def longest_pause(times):
    """The longest gap between consecutive arrivals at the receiving end (seconds)."""
    ordered = sorted(times)
    return max((b - a for a, b in zip(ordered, ordered[1:], strict=False)), default=0.0)


@dataclass
class Copies:
    """Copies per reader, as the receiving end counted them."""

    per_reader: Counter
    per_message_id: Counter

    @property
    def duplicates(self):
        return sum(count - 1 for count in self.per_message_id.values())

    def repeated_message_ids(self):
        return {mid for mid, count in self.per_message_id.items() if count > 1}


def smtp_copies(server):
    mails = list(server.received)
    return Copies(
        Counter(mail.rcpt_tos[0] for mail in mails),
        Counter(mail.message["Message-ID"] for mail in mails),
    )


def figures(name, **values):
    """One line a person can read: printed now (pytest -s) and in the run's summary."""
    text = ", ".join(
        f"{key}={value:.1f}" if isinstance(value, float) else f"{key}={value}"
        for key, value in values.items()
    )
    FIGURES.append(f"{name}: {text}")
    print(f"\n[faults] {name}: {text}")
