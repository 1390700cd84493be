"""The admin sign-in form (password, then a code for users with two-factor) and the lockout page."""

from math import ceil

from axes.helpers import get_cool_off
from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from staff import two_factor


class StaffAuthenticationForm(AdminAuthenticationForm):
    """Django's admin sign-in form plus the two-factor code.

    A missing or wrong code gives the same message as a wrong password, so the form never
    tells which of the two was right, and it counts as a failed sign-in for the lockout.
    """

    otp_token = forms.CharField(
        label=_("Two-factor code"),
        required=False,
        max_length=16,
        help_text=_("Only if you have set up two-factor sign-in: the code from your app."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": _(
            "Please enter the correct %(username)s and password, and the two-factor code if "
            "you have set it up. Note that both fields may be case-sensitive."
        ),
    }

    def clean(self):
        cleaned_data = super().clean()
        user = self.get_user()
        if user is not None and two_factor.has_two_factor(user):
            device = two_factor.verified_device(user, cleaned_data.get("otp_token"))
            if device is None:
                user_login_failed.send(
                    sender=__name__,
                    credentials={"username": cleaned_data.get("username")},
                    request=self.request,
                )
                raise self.get_invalid_login_error()
            # django-otp's user_logged_in receiver stores this device in the session.
            user.otp_device = device
        return cleaned_data


def lockout_response(request, original_response=None, credentials=None):
    """The page a locked-out sign-in gets: 429, for how long, and the same for every name."""
    seconds = int(get_cool_off(request).total_seconds())
    context = {
        "title": _("Sign-in paused"),
        "site_header": admin.site.site_header,
        "site_title": admin.site.site_title,
        "minutes": ceil(seconds / 60),
    }
    response = render(request, "staff/locked_out.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response
