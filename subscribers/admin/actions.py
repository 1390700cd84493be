"""Bulk actions on readers in the admin, each behind its own permission and each logged.

Every action declares its permission: unsubscribing and resending need "change", the
export needs "export" and erasure needs "delete" (the plain delete stays off: it would
leave no suppression behind). Every action writes admin log entries naming the actor, so
the history says who unsubscribed, exported or erased whom. An erased reader's entries keep
the keyed hash instead of the address: erasure removes personal data from the log too.
"""

from itertools import islice

from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from subscribers import services
from subscribers.export import export_rows
from subscribers.models import Event, Subscription

EXPORT_PERMISSION = "subscribers.export_subscriber"
ERASE_PERMISSION = "subscribers.delete_subscriber"


LOG_BATCH = 1000


def log_change(request, objects, message):
    """One CHANGE entry per object, by the signed-in staff member, written in batches."""
    objects = iter(objects)
    while batch := list(islice(objects, LOG_BATCH)):
        LogEntry.objects.log_actions(request.user.pk, batch, CHANGE, message)


# -- subscriptions ----------------------------------------------------------------------
@admin.action(description=_("Unsubscribe the selected subscriptions"), permissions=["change"])
def unsubscribe_selected(modeladmin, request, queryset):
    done = [s for s in queryset if services.unsubscribe(subscription=s, reason=Event.Reason.ADMIN)]
    log_change(request, done, gettext("Unsubscribed"))
    modeladmin.message_user(request, _("%(n)d unsubscribed.") % {"n": len(done)})


@admin.action(description=_("Resend the confirmation mail (pending only)"), permissions=["change"])
def resend_confirmation_selected(modeladmin, request, queryset):
    sent = resend_confirmations(request, queryset)
    modeladmin.message_user(
        request, _("%(n)d confirmation mails queued (throttled ones skipped).") % {"n": sent}
    )


def resend_confirmations(request, subscriptions):
    """Queue confirmations for the pending ones; logs each on its subscription."""
    pending = subscriptions.pending().select_related("subscriber")
    sent = [s for s in pending if services.request_confirmation(subscription=s)]
    log_change(request, sent, gettext("Resent confirmation"))
    return len(sent)


@admin.action(description=_("Export the selected subscriptions as CSV"), permissions=["export"])
def export_selected(modeladmin, request, queryset):
    # Only what an entry needs: a large export must not load every row at once.
    logged = queryset.select_related(None).only("pk", "subscriber_id", "newsletter_id", "status")
    log_change(request, logged.iterator(chunk_size=LOG_BATCH), gettext("Exported"))
    return csv_response(queryset, "subscriptions")


def csv_response(queryset, name):
    response = StreamingHttpResponse(export_rows(queryset), content_type="text/csv; charset=utf-8")
    filename = f"{name}-{timezone.now():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# -- subscribers ------------------------------------------------------------------------
@admin.action(
    description=_("Unsubscribe the selected people from everything"), permissions=["change"]
)
def unsubscribe_people(modeladmin, request, queryset):
    ended = {s: services.unsubscribe_all(subscriber=s, reason=Event.Reason.ADMIN) for s in queryset}
    log_change(request, [s for s, count in ended.items() if count], gettext("Unsubscribed"))
    total = sum(ended.values())
    modeladmin.message_user(request, _("%(n)d subscriptions ended.") % {"n": total})


@admin.action(description=_("Resend pending confirmation mails"), permissions=["change"])
def resend_people(modeladmin, request, queryset):
    pending = Subscription.objects.pending().filter(subscriber__in=queryset)
    pending = pending.select_related("subscriber")
    sent = [s for s in pending if services.request_confirmation(subscription=s)]
    log_change(
        request, list({s.subscriber_id: s.subscriber for s in sent}.values()),
        gettext("Resent confirmation"),
    )  # fmt: skip
    modeladmin.message_user(
        request, _("%(n)d confirmation mails queued (throttled ones skipped).") % {"n": len(sent)}
    )


@admin.action(
    description=_("Erase the selected people (GDPR; keeps only a keyed hash)"),
    permissions=["erase"],
)
def erase_people(modeladmin, request, queryset):
    count = 0
    for subscriber in queryset:
        services.erase_subscriber(subscriber=subscriber, erased_by=request.user.pk)
        count += 1
    modeladmin.message_user(
        request, ngettext("%(n)d person erased.", "%(n)d people erased.", count) % {"n": count}
    )
