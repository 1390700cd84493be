"""Signed, expiring confirmation links over the random per-subscription secret."""

import time

from django.conf import settings
from django.core import signing

CONFIRM_SALT = "subscribers.confirm"
FORM_SALT = "subscribers.form-started"


class LinkExpired(Exception):
    pass


class LinkInvalid(Exception):
    pass


def _signer():
    return signing.TimestampSigner(salt=CONFIRM_SALT)


def confirmation_token(subscription):
    return _signer().sign(subscription.token)


def subscription_token_from(signed):
    """The Subscription.token inside a confirmation link, or LinkExpired / LinkInvalid."""
    max_age = settings.CONFIRMATION_MAX_AGE_DAYS * 86400
    try:
        return _signer().unsign(signed, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise LinkExpired from exc
    except signing.BadSignature as exc:
        raise LinkInvalid from exc


def form_started_stamp():
    """A signed time stamp put into signup forms to measure how fast they were filled."""
    return signing.Signer(salt=FORM_SALT).sign(f"{time.time():.3f}")


def seconds_since_form_started(stamp):
    """Age of a form stamp in seconds, or None when it is missing or tampered."""
    try:
        started = float(signing.Signer(salt=FORM_SALT).unsign(stamp or ""))
    except (signing.BadSignature, ValueError):
        return None
    return time.time() - started
