"""Builders for newsletters and issues used by the authoring and archive tests."""

from django.utils import timezone

from newsletter.models import Issue, Newsletter


def newsletter_fields(**overrides):
    fields = {
        "name": "Weekly Bits",
        "slug": "weekly",
        "description": "Short notes on the week.",
        "from_name": "Ada",
        "from_email": "ada@example.org",
        "footer": "Example GmbH\nMain Street 1, 10115 Berlin",
    }
    return {**fields, **overrides}


def build_newsletter(**overrides):
    """An unsaved newsletter (for rendering tests that need no database)."""
    return Newsletter(**newsletter_fields(**overrides))


def make_newsletter(**overrides):
    return Newsletter.objects.create(**newsletter_fields(**overrides))


def build_issue(newsletter=None, **overrides):
    fields = {
        "subject": "First issue",
        "preview_text": "What happened this week",
        "slug": "first-issue",
        "body_markdown": 'Hello {{ name | default: "there" }}!\n\nA [link](https://example.com/).',
    }
    return Issue(newsletter=newsletter or build_newsletter(), **{**fields, **overrides})


def make_issue(newsletter, sent=True, **overrides):
    issue = build_issue(newsletter, **overrides)
    if sent:
        issue.status = Issue.Status.SENT
        issue.sent_at = overrides.get("sent_at") or timezone.now()
    issue.save()
    return issue
