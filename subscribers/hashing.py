"""Keyed hashes of addresses: what the suppression list and the admin log keep instead."""

import hashlib
import hmac

from django.conf import settings

from subscribers.validation import normalise_email


def hash_keys():
    """The current key first, then the old ones whose entries must still match.

    Only development and tests may run without a key of its own (settings refuse that in
    production); they hash with SECRET_KEY.
    """
    current = settings.SUPPRESSION_HASH_KEY or settings.SECRET_KEY
    return [current, *settings.SUPPRESSION_HASH_KEY_FALLBACKS]


def email_hash(email, key=None):
    """Keyed hash that lets erased or complained addresses be recognised, not recovered.

    New entries use the current key; look addresses up with email_hashes().
    """
    key = key or hash_keys()[0]
    return hmac.new(key.encode(), normalise_email(email).encode(), hashlib.sha256).hexdigest()


def email_hashes(email):
    """The address's hash under every key, current first: what the list may hold for it."""
    return [email_hash(email, key) for key in hash_keys()]
