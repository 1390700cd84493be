"""The step between the Send now / Schedule buttons and the send: a page, rendered on
the server, that names the issue, the newsletter and how many readers it reaches now,
and whose form (no JavaScript needed) starts the send with its `sending_confirm` field.

Also the one way the sending admin shows a moment: with its time zone.
"""

from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from newsletter.sending.audience import audience_count

CONFIRM_FIELD = "sending_confirm"
CONFIRM_TEMPLATE = "admin/newsletter/sending/confirm_send.html"


def is_confirmed(request):
    return request.POST.get(CONFIRM_FIELD) == "yes"


def zone_name():
    """The time zone the admin shows and reads schedule times in."""
    return timezone.get_current_timezone_name()


def with_zone(moment):
    """`2026-05-01 09:00 CEST (Europe/Berlin)`: never a time without its zone."""
    if moment is None:
        return "—"
    local = timezone.localtime(moment)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({zone_name()})"


def confirm_page(request, admin, issue, *, action, when=None):
    """The page that asks before mailing every reader (or scheduling that)."""
    opts = issue._meta
    context = {
        **admin.admin_site.each_context(request),
        "opts": opts,
        "app_label": opts.app_label,
        "original": issue,
        "issue": issue,
        "newsletter": issue.newsletter,
        "readers": audience_count(newsletter=issue.newsletter),
        "action": action,
        "when": with_zone(when) if when else "",
        "when_value": timezone.localtime(when).strftime("%Y-%m-%dT%H:%M") if when else "",
        "action_url": reverse("admin:newsletter_issue_sending", args=[issue.pk]),
        "change_url": reverse("admin:newsletter_issue_change", args=[issue.pk]),
        "confirm_field": CONFIRM_FIELD,
        "title": issue.subject,
    }
    return TemplateResponse(request, CONFIRM_TEMPLATE, context)
