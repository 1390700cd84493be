"""Signed, expiring confirmation links over the random per-subscription secret, and the
signed, single-use time stamps of the signup form."""

import re
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.cache import cache

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


@dataclass(frozen=True)
class FormStamp:
    nonce: str  # random, so each page view's stamp can be spent once
    age: float  # seconds since the form was shown


def form_started_stamp(now=None):
    """A signed stamp for a signup form: a random nonce and the time the form was shown."""
    started = time.time() if now is None else now
    nonce = secrets.token_urlsafe(12)
    return signing.Signer(salt=FORM_SALT).sign(f"{nonce}:{started:.3f}")


def read_form_stamp(stamp):
    """The FormStamp inside a signed stamp, or None when it is missing or tampered."""
    try:
        nonce, started = signing.Signer(salt=FORM_SALT).unsign(stamp or "").rsplit(":", 1)
        return FormStamp(nonce=nonce, age=time.time() - float(started))
    except (signing.BadSignature, ValueError):
        return None


def seconds_since_form_started(stamp):
    """Age of a form stamp in seconds, or None when it is missing or tampered."""
    form_stamp = read_form_stamp(stamp)
    return None if form_stamp is None else form_stamp.age


def spend_form_stamp(form_stamp, *, max_age):
    """True the first time a stamp is spent; False for every later use of it.

    The nonce is remembered as long as the stamp could still be accepted (max_age), so
    one page view can never carry more than one signup.
    """
    return cache.add(f"form-stamp:{form_stamp.nonce}", 1, timeout=max_age)
