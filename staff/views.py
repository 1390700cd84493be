"""The self-service two-factor page: set up an authenticator app, see backup codes, turn off."""

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from staff import two_factor


class ConfirmDeviceForm(forms.Form):
    token = forms.CharField(
        label=_("Code from the app"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )


def two_factor_setup(request):
    """Show the user's two-factor state; set up (or replace) the app from a QR code."""
    user = request.user
    setting_up = not two_factor.has_two_factor(user) or "replace" in request.GET
    form = ConfirmDeviceForm(request.POST or None)
    context = {"enabled": two_factor.has_two_factor(user), "required": two_factor.is_required(user)}
    if setting_up:
        device = two_factor.pending_device(user)
        if form.is_valid():
            codes = two_factor.confirm_device(
                request, device=device, token=form.cleaned_data["token"]
            )
            if codes is not None:
                messages.success(request, _("Two-factor sign-in is on."))
                return render_page(request, {"backup_codes": codes, "enabled": True})
            form.add_error(
                "token", _("That code is not right. Enter the current code from the app.")
            )
        context.update(
            form=form,
            qr_code=two_factor.qr_code_data_uri(device),
            secret=two_factor.secret_text(device),
        )
    return render_page(request, context)


@require_POST
def two_factor_off(request):
    """Turn two-factor sign-in off, unless the site requires it for this user."""
    if two_factor.is_required(request.user):
        messages.error(request, _("This site requires two-factor sign-in for your account."))
    else:
        two_factor.turn_off(request.user)
        messages.success(request, _("Two-factor sign-in is off."))
    return redirect("admin:staff_two_factor")


def render_page(request, context):
    context = {**admin.site.each_context(request), "title": _("Two-factor sign-in"), **context}
    return TemplateResponse(request, "staff/two_factor.html", context)
