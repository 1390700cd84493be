import hashlib
import hmac

from django.conf import settings

from subscribers.models import Suppression
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


def suppressions_of(email):
    """The suppression list's entries for this address, under whichever key made them."""
    return Suppression.objects.filter(email_hash__in=email_hashes(email))


def suppressed_among(addresses):
    """The addresses (as given) that are on the suppression list (one indexed query)."""
    by_hash = {digest: address for address in addresses for digest in email_hashes(address)}
    found = Suppression.objects.filter(email_hash__in=by_hash).values_list("email_hash", flat=True)
    return {by_hash[digest] for digest in found}
