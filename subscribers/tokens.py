"""Signed, expiring confirmation links over the random per-subscription secret."""

import re
import time

from django.conf import settings
from django.core import signing

CONFIRM_SALT = "subscribers.confirm"
FORM_SALT = "subscribers.form-started"
# Every stored token comes from secrets.token_urlsafe (subscribers.models.new_token). A link
# with anything else names nobody, and must not reach the database: PostgreSQL refuses a
# NUL in a text parameter with an error instead of finding no row.
STORED_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")


class StoredTokenConverter:
    """The `<token:...>` URL part: only what a stored token can look like, else a 404."""

    regex = STORED_TOKEN_RE.pattern

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


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
        token = _signer().unsign(signed, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise LinkExpired from exc
    except signing.BadSignature as exc:
        raise LinkInvalid from exc
    if not STORED_TOKEN_RE.fullmatch(token):
        raise LinkInvalid
    return token


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
