"""The XSS corpus put into every author field through the admin forms (not a test module).

Issue subjects and preview texts take 200 characters, so the corpus is packed into groups
of payloads that fit; each group becomes one issue, and a few issues carry a third of
the corpus in their body. The newsletter's own fields get the whole corpus (or, for the
200-character ones, the first group).
"""

import re

from django.urls import reverse
from django.utils import timezone

from newsletter.models import Issue, Newsletter
from tests.newsletter.rendering.test_sanitize import PAYLOADS, elements_of, scheme_of

FIELD_LENGTH = 200
BODY_ISSUES = 3  # issues whose body carries a third of the corpus each
SAFE_SCHEMES = (None, "http", "https", "mailto")
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "background", "srcset", "xlink:href")


def payload_groups(limit=FIELD_LENGTH):
    """The corpus packed into strings of at most `limit` characters (long ones cut)."""
    groups, current = [], ""
    for payload in PAYLOADS:
        payload = payload[:limit]
        if current and len(current) + 1 + len(payload) > limit:
            groups.append(current)
            current = payload
        else:
            current = f"{current} {payload}".strip()
    return [*groups, current]


def body_batches():
    size = -(-len(PAYLOADS) // BODY_ISSUES)
    return ["\n\n".join(PAYLOADS[start : start + size]) for start in range(0, len(PAYLOADS), size)]


def change_newsletter(admin_client, newsletter):
    """Post the corpus into the newsletter's fields through its admin change form."""
    corpus = "\n".join(PAYLOADS)
    first = payload_groups()[0]
    response = admin_client.post(
        reverse("admin:newsletter_newsletter_change", args=[newsletter.pk]),
        {
            "name": first,
            "slug": newsletter.slug,
            "description": corpus,
            "language": "en",
            "archive_public": "on",
            "from_name": first,
            "from_email": newsletter.from_email,
            "reply_to": "",
            "footer": corpus,
            "accent_colour": "#1a73e8",
            "consent_text": corpus,
            "welcome_enabled": "on",
            "welcome_subject": first,
            "welcome_body": corpus,
        },
    )
    assert response.status_code == 302, _errors(response)
    newsletter.refresh_from_db()
    assert PAYLOADS[len(PAYLOADS) // 2] in newsletter.footer


def add_issues(admin_client, newsletter):
    """One issue per payload group through the admin add form, then marked as sent.

    A group the form refuses (with a message) is fine; what was saved must be harmless.
    Returns the saved issues, the body-carrying ones first.
    """
    bodies = body_batches()
    for number, group in enumerate(payload_groups()):
        admin_client.post(
            reverse("admin:newsletter_issue_add"),
            {
                "newsletter": newsletter.pk,
                "subject": group,
                "preview_text": group,
                "slug": f"corpus-{number}",
                "body_markdown": bodies[number] if number < len(bodies) else "Plain body.",
                "show_in_archive": "on",
            },
        )
    issues = Issue.objects.filter(newsletter=newsletter)
    issues.update(status=Issue.Status.SENT, sent_at=timezone.now())
    return list(issues.order_by("slug"))


def _errors(response):
    context = getattr(response, "context", None) or {}
    form = context.get("adminform")
    return form.form.errors if form else response.status_code


def corpus_site(admin_client, newsletter):
    change_newsletter(admin_client, newsletter)
    issues = add_issues(admin_client, newsletter)
    assert len(issues) >= len(payload_groups()) * 0.9, "the admin refused most of the corpus"
    return Newsletter.objects.get(pk=newsletter.pk), issues


def executable_parts(markup, own_script_prefix="/static/"):
    """Everything in markup that could run: scripts not our own, handlers, script URLs."""
    found = []
    for tag, attrs in elements_of(markup):
        if tag == "script" and not attrs.get("src", "").startswith(own_script_prefix):
            found.append(f"<script {attrs}>")
        if tag in ("iframe", "object", "embed", "base", "applet", "frame", "frameset"):
            found.append(f"<{tag}>")
        if tag == "meta" and attrs.get("http-equiv", "").lower() == "refresh":
            found.append("<meta http-equiv=refresh>")
        for name, value in attrs.items():
            if name.startswith("on"):
                found.append(f"{name} on <{tag}>")
            if name in URL_ATTRIBUTES and scheme_of(value) not in SAFE_SCHEMES:
                found.append(f"{name}={value[:60]!r} on <{tag}>")
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", markup, flags=re.IGNORECASE)
    found.extend(f"inline {tag}" for tag in inline)
    return found
