"""Two-factor sign-in for staff: who must have it, and setting up one's own TOTP device.

A user with a confirmed device must give a code at every admin sign-in; the device also
gets a set of one-time backup codes (a static device) for a lost phone.
"""

from base64 import b32encode

import segno
from django.conf import settings
from django.db import transaction
from django_otp import devices_for_user, match_token
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

BACKUP_CODE_COUNT = 10
APP_DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"


def has_two_factor(user):
    """Whether the user has a confirmed device, so that sign-in asks for a code."""
    cached = getattr(user, "_staff_has_two_factor", None)
    if cached is None:
        cached = user.is_authenticated and any(devices_for_user(user, confirmed=True))
        user._staff_has_two_factor = cached
    return cached


def is_required(user):
    """Whether the site requires this user to use two-factor sign-in (ADMIN_REQUIRE_2FA)."""
    mode = settings.ADMIN_REQUIRE_2FA
    return (mode == "staff" and user.is_staff) or (mode == "superusers" and user.is_superuser)


def needs_code(user):
    """Signed in with a password only, although the user has a device."""
    return user.is_authenticated and not user.is_verified() and has_two_factor(user)


def needs_setup(user):
    """Required to use two-factor sign-in, but has no device yet."""
    return user.is_authenticated and is_required(user) and not has_two_factor(user)


def verified_device(user, token):
    """The user's device that accepts this code (app code or backup code), or None."""
    token = "".join(str(token or "").split())
    if not token:
        return None
    return match_token(user, token)


def pending_device(user):
    """The unconfirmed app device the setup page shows, made on first visit."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
    return device


def confirm_device(request, *, device, token):
    """Confirm the pending device with its first code; return fresh backup codes, or None.

    The new device replaces any earlier one, and the session counts as verified by it.
    """
    if not device.verify_token("".join(str(token or "").split())):
        return None
    with transaction.atomic():
        TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = replace_backup_codes(device.user)
    otp_login(request, device)
    return codes


def replace_backup_codes(user):
    """A new set of one-time backup codes for the user; the old ones stop working."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def turn_off(user):
    """Remove all of the user's devices; sign-in asks for the password only again."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


def secret_text(device):
    """The device's secret in base32, in groups of four, for typing into an app."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_code_data_uri(device):
    """The otpauth:// link as an SVG QR code in a data: URI (the CSP's img-src allows data:)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)
