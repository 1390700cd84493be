import hashlib
import hmac

from django.conf import settings


def normalise_email(email):
    """Lower-case the domain (and the local part: no mail system we know of needs case)."""
    return email.strip().lower()


def email_hash(email):
    """Keyed hash that lets erased or complained addresses be recognised, not recovered."""
    key = settings.SUPPRESSION_HASH_KEY.encode()
    return hmac.new(key, normalise_email(email).encode(), hashlib.sha256).hexdigest()
