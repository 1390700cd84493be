"""The admin's "Add subscriber": one reader by hand, through subscribers.manual."""

from django import forms
from django.contrib.admin.utils import flatten_fieldsets
from django.utils.translation import gettext_lazy as _

from newsletter.models import Newsletter
from subscribers import manual
from subscribers.models import Subscriber
from subscribers.validation import clean_name

ADD_PERMISSION = "subscribers.add_subscriber"
DECLARED, CONFIRM = "declared", "confirm"
ADD_FIELDSETS = (
    (None, {"fields": ("email", "name", "newsletter")}),
    (_("Consent"), {"fields": ("consent", "declaration")}),
)


class AddReaderForm(forms.ModelForm):
    newsletter = forms.ModelChoiceField(label=_("Newsletter"), queryset=Newsletter.objects.all())
    consent = forms.ChoiceField(
        label=_("Consent"),
        widget=forms.RadioSelect,
        initial=CONFIRM,
        choices=[
            (CONFIRM, _("Send a confirmation mail: the reader is added once they confirm")),
            (DECLARED, _("This person already opted in (say how and when below)")),
        ],
    )
    declaration = forms.CharField(
        label=_("How and when did they opt in?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "E.g. “Signed up on the paper list at the 2026 fair”. Stored as the consent "
            "evidence of the subscription."
        ),
    )

    class Meta:
        model = Subscriber
        fields = ("email", "name")

    def clean_name(self):
        return clean_name(self.cleaned_data.get("name"))

    def clean(self):
        cleaned = super().clean()
        declared = cleaned.get("consent") == DECLARED
        if declared and not (cleaned.get("declaration") or "").strip():
            self.add_error("declaration", _("Say how and when this person opted in."))
        if not declared:
            cleaned["declaration"] = ""
        if cleaned.get("email") and cleaned.get("newsletter"):
            reason = manual.refusal(newsletter=cleaned["newsletter"], email=cleaned["email"])
            if reason:
                self.add_error("email", reason)
        return cleaned

    def validate_unique(self):
        pass  # a reader already known may be added to another newsletter


class AddReaderAdminMixin:
    """Add view of SubscriberAdmin: the form above, saved by the service, logged by Django."""

    def has_add_permission(self, request):
        return request.user.has_perm(ADD_PERMISSION)

    def get_fieldsets(self, request, obj=None):
        return ADD_FIELDSETS if obj is None else super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else super().get_readonly_fields(request, obj)

    def get_inlines(self, request, obj):
        return () if obj is None else super().get_inlines(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = AddReaderForm
            kwargs["fields"] = flatten_fieldsets(ADD_FIELDSETS)
        return super().get_form(request, obj, change=change, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        data = form.cleaned_data
        subscription = manual.add_reader(
            newsletter=data["newsletter"],
            email=data["email"],
            name=data.get("name") or "",
            declaration=data["declaration"],
        )
        saved = subscription.subscriber
        obj.pk, obj.email, obj.name = saved.pk, saved.email, saved.name
        obj._state.adding = False
