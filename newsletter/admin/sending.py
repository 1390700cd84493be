"""Admin parts of the sending engine: send now, schedule, send a test, pause, resume,
cancel, retry failed, and a live progress panel. IssueAdmin mixes this in.

The buttons sit inside the issue's change form and post to their own URL through the
`formaction` attribute (no nested forms, no JavaScript needed). Send now and Schedule first
answer with a confirmation page (newsletter/admin/send_confirm.py). The progress panel,
and with it the issue's status, recipients and buttons, is refreshed by
static/js/send-progress.js from a JSON endpoint (strict CSP: no inline JS).
"""

import re
from datetime import datetime

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from newsletter import sending
from newsletter.admin.send_confirm import confirm_page, is_confirmed, with_zone, zone_name
from newsletter.models import Delivery, Issue
from newsletter.tasks import send_issue_task, send_test_task

MAX_TEST_ADDRESSES = 20
# These mail every reader: the author confirms them on a page that says how many first.
ASK_FIRST = ("send_now", "schedule")
# Every button of the panel mails readers or changes a send: authors and owners only.
SEND_PERMISSION = "newsletter.send_issue"


def parse_addresses(text):
    """Comma, space or newline separated addresses; ValidationError names the bad ones."""
    addresses = [part for part in re.split(r"[\s,;]+", text or "") if part]
    bad = []
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError:
            bad.append(address)
    if bad:
        raise ValidationError(_("Not an email address: %s") % ", ".join(bad))
    if not addresses:
        raise ValidationError(_("Enter at least one address."))
    if len(addresses) > MAX_TEST_ADDRESSES:
        raise ValidationError(_("At most %d addresses per test.") % MAX_TEST_ADDRESSES)
    return list(dict.fromkeys(addresses))


def parse_schedule(text):
    try:
        naive = datetime.fromisoformat((text or "").strip())
    except ValueError:
        raise ValidationError(_("Enter a date and time like 2026-05-01 09:00.")) from None
    when = timezone.make_aware(naive) if timezone.is_naive(naive) else naive
    if when <= timezone.now():
        raise ValidationError(_("Choose a time in the future."))
    return when


class SendingAdminMixin:
    change_form_template = "admin/newsletter/sending/issue_change_form.html"
    actions = ("retry_failed_action",)
    # The send's own fields: shown, never edited, and followed live by the panel script.
    readonly_fields = (
        "sending_status",
        "sending_scheduled_at",
        "sending_started_at",
        "sending_sent_at",
        "sending_recipients",
    )

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def sending_status(self, obj):
        return format_html('<span data-sending-field="status">{}</span>', obj.get_status_display())

    @admin.display(description=gettext_lazy("scheduled for"), ordering="scheduled_at")
    def sending_scheduled_at(self, obj):
        return format_html(
            '<span data-sending-field="scheduled_at">{}</span>',
            with_zone(obj.scheduled_at) if obj.scheduled_at else "—",
        )

    @admin.display(description=gettext_lazy("send started"))
    def sending_started_at(self, obj):
        return with_zone(obj.send_started_at)

    @admin.display(description=gettext_lazy("sent"), ordering="sent_at")
    def sending_sent_at(self, obj):
        return with_zone(obj.sent_at)

    @admin.display(description=gettext_lazy("recipients"))
    def sending_recipients(self, obj):
        return format_html('<span data-sending-field="recipients">{}</span>', obj.recipient_count)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        own = [
            path(
                "<int:object_id>/sending/",
                wrap(require_POST(self.sending_action_view)),
                name="newsletter_issue_sending",
            ),
            path(
                "<int:object_id>/sending/progress/",
                wrap(self.sending_progress_view),
                name="newsletter_issue_sending_progress",
            ),
        ]
        return own + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        issue = Issue.objects.filter(pk=object_id).first() if object_id.isdigit() else None
        if issue is not None:
            extra_context["sending"] = sending_context(issue)
            extra_context["sending"]["may_send"] = self.has_send_permission(request)
        return super().change_view(request, object_id, form_url, extra_context)

    def has_send_permission(self, request, obj=None):
        return request.user.has_perm(SEND_PERMISSION)

    # -- views ------------------------------------------------------------------------
    def sending_progress_view(self, request, object_id):
        issue = get_object_or_404(Issue, pk=object_id)
        if not self.has_view_or_change_permission(request, issue):
            raise PermissionDenied
        return JsonResponse({**sending.progress(issue=issue), "issue": issue_state(issue)})

    def sending_action_view(self, request, object_id):
        issue = get_object_or_404(Issue, pk=object_id)
        if not self.has_send_permission(request, issue):
            raise PermissionDenied
        action = request.POST.get("sending_action", "")
        handler = SENDING_ACTIONS.get(action)
        if handler is None:
            raise Http404("Unknown sending action.")
        try:
            if action in ASK_FIRST and not is_confirmed(request):
                refuse_unless_sendable(issue)
                return confirm_page(request, self, issue, action=action, when=asked_time(request))
            text = handler(request, issue)
        except (sending.SendError, ValidationError) as error:
            text = error.messages[0] if isinstance(error, ValidationError) else str(error)
            self.message_user(request, text, messages.ERROR)
        else:
            self.message_user(request, text, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:newsletter_issue_change", args=[issue.pk]))

    # -- list action ------------------------------------------------------------------
    @admin.action(description=gettext_lazy("Retry failed deliveries"), permissions=["send"])
    def retry_failed_action(self, request, queryset):
        total = 0
        for issue in queryset:
            try:
                total += sending.retry_failed(issue=issue)
            except sending.SendError:
                continue
        self.message_user(request, _("%d failed deliveries queued again.") % total)


def asked_time(request):
    """The schedule time a confirmation names (None: send now); refuses a bad one first."""
    if request.POST.get("sending_action") != "schedule":
        return None
    return parse_schedule(request.POST.get("sending_schedule_at"))


def refuse_unless_sendable(issue):
    """No confirmation page offers to mail an issue that can no longer go out."""
    if issue.status not in Issue.SENDABLE:
        raise sent_already()


def sent_already():
    return sending.SendError(_("This issue has been sent already."))


def send_now(request, issue):
    # Scheduled for now first: should the broker lose the task, the beat task that
    # starts due issues sends it within a minute anyway.
    try:
        sending.schedule_send(issue=issue, when=timezone.now())
    except sending.SendError:
        raise sent_already() from None  # its own refusal speaks of scheduling
    send_issue_task.delay_on_commit(issue_id=issue.pk)
    return _("Sending starts in a moment; progress shows below.")


def schedule(request, issue):
    when = parse_schedule(request.POST.get("sending_schedule_at"))
    sending.schedule_send(issue=issue, when=when)
    return _("Scheduled for %s.") % with_zone(when)


def test_to_me(request, issue):
    if not request.user.email:
        raise ValidationError(_("Your admin account has no email address."))
    send_test_task.delay_on_commit(issue_id=issue.pk, addresses=[request.user.email])
    return _("A test is on its way to %s.") % request.user.email


def test_to_list(request, issue):
    addresses = parse_addresses(request.POST.get("sending_test_addresses"))
    send_test_task.delay_on_commit(issue_id=issue.pk, addresses=addresses)
    return _("A test is on its way to %s.") % ", ".join(addresses)


def pause(request, issue):
    sending.pause_send(issue=issue)
    return _("Paused. Workers stop within seconds.")


def resume(request, issue):
    sending.resume_send(issue=issue)
    return _("Sending again.")


def cancel(request, issue):
    sending.cancel_send(issue=issue)
    return _("Cancelled. Readers not reached yet will not get this issue.")


def retry(request, issue):
    count = sending.retry_failed(issue=issue)
    return _("%d failed deliveries queued again.") % count


SENDING_ACTIONS = {
    "send_now": send_now,
    "schedule": schedule,
    "test_me": test_to_me,
    "test_list": test_to_list,
    "pause": pause,
    "resume": resume,
    "cancel": cancel,
    "retry_failed": retry,
}


def available_buttons(issue):
    """Which of the panel's buttons apply to the issue in its state now."""
    status = issue.status
    return {
        "send": status in Issue.SENDABLE,
        "pause": status in Issue.PAUSABLE,
        "resume": status in Issue.RESUMABLE,
        "cancel": status in Issue.CANCELLABLE,
        "retry": status in Issue.RETRYABLE
        and Delivery.objects.filter(issue=issue, status=Delivery.Status.FAILED).exists(),
    }


def issue_state(issue):
    """The issue's own fields the page shows beside the panel, for the panel script."""
    issue = Issue.objects.filter(pk=issue.pk).first() or issue
    return {
        "status_label": issue.get_status_display(),
        "recipients": issue.recipient_count,
        "scheduled_at": with_zone(issue.scheduled_at) if issue.scheduled_at else "—",
        "buttons": available_buttons(issue),
    }


def sending_context(issue):
    """Which buttons apply to the issue now, plus the progress the panel starts from."""
    return {
        "buttons": available_buttons(issue),
        "zone": zone_name(),
        "progress": sending.progress(issue=issue),
        "progress_url": reverse("admin:newsletter_issue_sending_progress", args=[issue.pk]),
        "action_url": reverse("admin:newsletter_issue_sending", args=[issue.pk]),
    }


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The ledger, read only: who got which issue, and why not."""

    list_display = ("subscriber", "issue", "status", "attempts", "sent_at", "provider", "error")
    list_filter = ("status", "provider", "issue")
    search_fields = ("subscriber__email", "provider_message_id")
    list_select_related = ("subscriber", "issue")
    show_full_result_count = False  # no COUNT(*) over a million rows per page view

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
