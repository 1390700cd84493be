"""A typical issue as received over SMTP, scored by SpamAssassin with its shipped rules
only (no network, no Bayes, no sa-update): no rule may count against it."""

import re
import shutil
import subprocess

import pytest

from newsletter import sending
from tests.factories import make_draft, make_newsletter, subscribe
from tests.newsletter.sending.send_helpers import drain

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not shutil.which("spamassassin"), reason="spamassassin not installed"),
]
TYPICAL_BODY = """Hello {{ name | default: "reader" }},

this month the allotment opens its gates again. Here is what we planned:

## Seed swap

Bring what you saved last autumn to the [seed swap](https://example.org/swap) on Saturday.

- Tomatoes, beans and kale
- Marigolds for the borders

> Leave the last leaves for the hedgehogs.

See you there,
the garden team
"""


def spamassassin_report(raw):
    """(score, [(rule, points)]) from a hermetic SpamAssassin run (-L: local tests only)."""
    result = subprocess.run(
        [
            shutil.which("spamassassin"),
            "-t",
            "-L",
            "-C",
            "/usr/share/spamassassin",
            "-p",
            "/dev/null",
            "--cf=use_bayes 0",
            "--cf=use_auto_welcomelist 0",
        ],
        input=raw,
        capture_output=True,
        timeout=120,
        check=False,
    )
    report = result.stdout.decode(errors="replace")
    score = float(re.search(r"^X-Spam-Status: \w+, score=(-?[\d.]+)", report, re.M).group(1))
    rules = re.findall(r"^\s*(-?\d+\.\d+)\s+([A-Z0-9_]+)\s", report, re.M)
    return score, [(name, float(points)) for points, name in rules]


def test_a_typical_issue_scores_below_minus_one_with_no_positive_rule(smtp_server, settings):
    settings.MAIL_DOMAIN = settings.SITE_DOMAIN = "news.example.org"
    settings.SITE_URL = "https://news.example.org"
    newsletter = make_newsletter(name="Garden Letter", from_email="letter@news.example.org")
    subscribe(newsletter, "anna@example.com", name="Anna")
    issue = make_draft(newsletter, subject="The allotment opens", body_markdown=TYPICAL_BODY)
    sending.start_send(issue=issue)
    drain(issue)
    (mail,) = smtp_server.wait_for_mail("anna@example.com")
    score, rules = spamassassin_report(mail.raw)
    positive = [(name, points) for name, points in rules if points > 0]
    assert positive == [], rules
    assert score <= -1.0, rules
