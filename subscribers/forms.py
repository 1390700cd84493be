"""The public forms: signup (with its honeypot and fill-time check), resend, the preference
centre and erasure."""

import re

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from newsletter.models import Newsletter
from subscribers.models import Subscription
from subscribers.tokens import form_started_stamp, read_form_stamp, spend_form_stamp
from subscribers.validation import clean_address, clean_name


class AddressField(forms.CharField):
    """An email input validated by subscribers.validation (syntax, domain, IDN)."""

    widget = forms.EmailInput(attrs={"autocomplete": "email", "inputmode": "email"})

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 320)
        kwargs.setdefault("label", _("Email address"))
        super().__init__(**kwargs)

    def clean(self, value):
        return clean_address(super().clean(value))


class NameField(forms.CharField):
    """A person's name as subscribers.validation.clean_name judges it: one line, not cut."""

    # No max_length (and so no maxlength attribute, with which a browser cuts a pasted
    # name silently): clean_name refuses a long name with a message instead.
    widget = forms.TextInput(attrs={"autocomplete": "name"})

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, value):
        return clean_name(super().clean(value))


class SignupForm(forms.Form):
    """Email, optional name and the newsletter's consent text, plus two bot traps."""

    email = AddressField()
    name = NameField(label=_("Name (optional)"))
    consent = forms.BooleanField(
        required=True, error_messages={"required": _("Please tick the box to agree.")}
    )
    # Honeypot: hidden from people by CSS and aria-hidden, filled in by naive bots.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    started = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, newsletter, check_fill_time=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.newsletter = newsletter
        self.check_fill_time = check_fill_time
        self.fields["consent"].label = newsletter.consent_text
        self.initial.setdefault("started", form_started_stamp())
        self.is_bot = False

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("website"):
            self.is_bot = True
        if self.check_fill_time:
            self._check_time_stamp(read_form_stamp(cleaned.get("started")))
        return cleaned

    def _check_time_stamp(self, stamp):
        """Too quick: the form again. Too old or used before: a bot, answered as everyone.

        The stamp is only spent by a form that is otherwise valid, so a person who
        corrects a mistake sends the same stamp again without losing the signup.
        """
        if stamp is None or stamp.age < settings.SIGNUP_MIN_FILL_SECONDS:
            # A fresh stamp, so a person who was just quick can simply send again.
            self.data = self.data.copy()
            self.data["started"] = form_started_stamp()
            raise forms.ValidationError(
                _("That was very quick. Please check your details and send the form again."),
                code="too_fast",
            )
        max_age = settings.SIGNUP_FORM_MAX_AGE_HOURS * 3600
        if stamp.age > max_age:
            self.is_bot = True
        elif not self.errors and not self.is_bot:
            self.is_bot = not spend_form_stamp(stamp, max_age=max_age)


class ResendForm(forms.Form):
    email = AddressField()
    newsletter = forms.ModelChoiceField(
        label=_("Newsletter"),
        queryset=Newsletter.objects.all(),
        to_field_name="slug",
        empty_label=_("Choose a newsletter"),
    )


class NewsletterChoices(forms.ModelMultipleChoiceField):
    """Newsletters by id. An id no row can have is refused before the query: SQLite raises
    OverflowError for a number above 2**63 instead of finding nothing."""

    def clean(self, value):
        for pk in value if isinstance(value, (list, tuple)) else ():
            if not re.fullmatch(r"[0-9]{1,18}", str(pk)):
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super().clean(value)


class ConsentChoices(NewsletterChoices):
    """Newsletters to add, each labelled with its own consent text: ticking one agrees to it."""

    def label_from_instance(self, obj):
        return f"{obj.name}: {obj.consent_text}"


class PreferencesForm(forms.Form):
    """The reader's own newsletters, and the public ones they may add with consent."""

    name = NameField(label=_("Name"))
    newsletters = NewsletterChoices(
        label=_("Newsletters you receive"),
        queryset=Newsletter.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    add = ConsentChoices(
        label=_("Add a newsletter"),
        help_text=_("Ticking a box means you agree to the text next to it."),
        queryset=Newsletter.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, subscriber, **kwargs):
        super().__init__(*args, **kwargs)
        subscriptions = subscriber.subscriptions.all()
        own = subscriptions.exclude(status__in=Subscription.BLOCKED_STATUSES)
        self.fields["newsletters"].queryset = Newsletter.objects.filter(
            pk__in=own.values("newsletter_id")
        )
        self.fields["add"].queryset = Newsletter.objects.public().exclude(
            pk__in=subscriptions.values("newsletter_id")
        )

    def chosen_newsletters(self):
        return [*self.cleaned_data["newsletters"], *self.cleaned_data["add"]]


class EraseForm(forms.Form):
    sure = forms.BooleanField(
        label=_("Yes, delete all my data. This cannot be undone."),
        required=True,
        error_messages={"required": _("Please tick the box to confirm.")},
    )
