"""Django admin for readers: lists with counts, bulk actions, history, CSV import/export.

Actions and views stay thin: every change goes through subscribers.services (and the
suppression list through subscribers.suppression).
"""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from newsletter.models import Newsletter
from staff.read_only import ReadOnlyAdminMixin
from subscribers import services, suppression
from subscribers.admin.actions import (
    ERASE_PERMISSION,
    EXPORT_PERMISSION,
    erase_people,
    export_selected,
    resend_confirmation_selected,
    resend_people,
    unsubscribe_people,
    unsubscribe_selected,
)
from subscribers.admin.add import AddReaderAdminMixin
from subscribers.admin.imports import ImportViewsMixin
from subscribers.hashing import email_hash
from subscribers.models import Event, Subscriber, Subscription, Suppression


def status_counts(queryset):
    """[(label, count)] for every status, in the order of the choices."""
    counts = dict(queryset.values_list("status").annotate(n=Count("pk")).order_by())
    return [(label, counts.get(value, 0)) for value, label in Subscription.Status.choices]


class SubscriptionInline(admin.TabularInline):
    model = Subscription
    extra = 0
    fields = ("newsletter", "status", "source", "subscribed_at", "confirmed_at", "consent_version")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    """The append-only history: shown, never edited."""

    model = Event
    extra = 0
    fields = ("created_at", "kind", "reason", "newsletter", "data")
    readonly_fields = fields
    can_delete = False
    ordering = ("-created_at", "-id")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Subscription)
class SubscriptionAdmin(ImportViewsMixin, admin.ModelAdmin):
    list_display = (
        "subscriber",
        "subscriber_name",
        "newsletter",
        "status",
        "source",
        "subscribed_at",
        "confirmed_at",
    )
    list_filter = ("newsletter", "status", "source", "subscribed_at", "confirmed_at")
    search_fields = ("subscriber__email", "subscriber__name")
    date_hierarchy = "subscribed_at"
    list_select_related = ("subscriber", "newsletter")
    actions = (unsubscribe_selected, resend_confirmation_selected, export_selected)
    readonly_fields = (
        "subscriber",
        "newsletter",
        "token",
        "source",
        "consent_text",
        "consent_version",
        "consent_ip",
        "subscribed_at",
        "confirmation_sent_at",
        "confirmed_at",
        "unsubscribed_at",
    )
    fields = ("status", *readonly_fields)
    change_list_template = "admin/subscribers/subscription/change_list.html"

    @admin.display(description=_("name"), ordering="subscriber__name")
    def subscriber_name(self, obj):
        return obj.subscriber.name

    def has_add_permission(self, request):
        return False  # people come in by the form or the import, with consent evidence

    def has_export_permission(self, request):
        return request.user.has_perm(EXPORT_PERMISSION)

    def get_urls(self):
        return self.import_urls() + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        if hasattr(response, "context_data") and "cl" in response.context_data:
            queryset = response.context_data["cl"].queryset
            response.context_data["status_counts"] = status_counts(queryset)
        return response

    def save_model(self, request, obj, form, change):
        # Status changes from the change form go through the services, with an event.
        if "status" in form.changed_data:
            wanted = obj.status
            obj.status = form.initial["status"]
            self._change_status(request, obj, wanted)
            return
        super().save_model(request, obj, form, change)

    def _change_status(self, request, obj, wanted):
        if wanted == Subscription.Status.UNSUBSCRIBED:
            services.unsubscribe(subscription=obj, reason=Event.Reason.ADMIN)
        elif (
            wanted == Subscription.Status.PENDING and obj.status == Subscription.Status.UNSUBSCRIBED
        ):
            services.subscribe(
                newsletter=obj.newsletter,
                email=obj.subscriber.email,
                source=Subscription.Source.ADMIN,
            )
        else:
            self.message_user(
                request,
                _("An admin can only unsubscribe, or ask for a new opt-in by setting pending."),
                messages.WARNING,
            )


class SubscriptionListFilter(admin.SimpleListFilter):
    """Readers by one field of their subscriptions; subscription_filter() makes each one."""

    field = ""  # the lookup on the subscriptions
    options = staticmethod(list)  # () -> [(value, label)]

    def lookups(self, request, model_admin):
        return self.options()

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{f"subscriptions__{self.field}": self.value()}).distinct()
        return queryset


def subscription_filter(parameter, title, options, *, field=None):
    """A SubscriptionListFilter for `parameter`, on the field of that name unless given."""
    attributes = {
        "title": title,
        "parameter_name": parameter,
        "field": field or parameter,
        "options": staticmethod(options),
    }
    return type(f"{parameter.title()}Filter", (SubscriptionListFilter,), attributes)


def newsletter_choices():
    return [(n.pk, n.name) for n in Newsletter.objects.all()]


SUBSCRIPTION_FILTERS = (
    subscription_filter("newsletter", _("newsletter"), newsletter_choices, field="newsletter_id"),
    subscription_filter("status", _("status"), lambda: Subscription.Status.choices),
    subscription_filter("source", _("source"), lambda: Subscription.Source.choices),
)


@admin.register(Subscriber)
class SubscriberAdmin(AddReaderAdminMixin, admin.ModelAdmin):
    list_display = ("email", "name", "newsletter_count", "created_at")
    list_filter = (*SUBSCRIPTION_FILTERS, "created_at")
    search_fields = ("email", "name")
    date_hierarchy = "created_at"
    inlines = (SubscriptionInline, EventInline)
    actions = (unsubscribe_people, resend_people, erase_people)
    fields = ("email", "name", "language", "custom_fields", "token", "created_at")
    readonly_fields = ("email", "token", "created_at")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(newsletter_count=Count("subscriptions"))

    @admin.display(description=_("newsletters"), ordering="newsletter_count")
    def newsletter_count(self, obj):
        return obj.newsletter_count

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # deleting without a suppression is not allowed
        return actions

    def has_delete_permission(self, request, obj=None):
        return False  # use "erase", which leaves the suppression hash behind

    def has_erase_permission(self, request):
        # Erasing is deleting the person's data: it takes the model's delete permission.
        return request.user.has_perm(ERASE_PERMISSION)


@admin.register(Event)
class EventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "kind", "reason", "subscriber", "newsletter")
    list_filter = ("kind", "reason", "newsletter", "created_at")
    search_fields = ("subscriber__email",)
    list_select_related = ("subscriber", "newsletter")
    date_hierarchy = "created_at"


class SuppressionForm(forms.ModelForm):
    email = forms.EmailField(label=_("Address to block"))

    class Meta:
        model = Suppression
        fields = ("email",)


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "reason", "created_at")
    list_filter = ("reason",)
    form = SuppressionForm

    def get_search_results(self, request, queryset, search_term):
        # Search by address: hash the term, the list only knows hashes.
        if search_term:
            return queryset.of([search_term]), False
        return queryset, False

    search_fields = ("email_hash",)

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        suppression.suppress(email=form.cleaned_data["email"], reason=Suppression.Reason.ADMIN)
        saved = Suppression.objects.get(email_hash=email_hash(form.cleaned_data["email"]))
        obj.pk, obj.email_hash, obj.reason = saved.pk, saved.email_hash, saved.reason
