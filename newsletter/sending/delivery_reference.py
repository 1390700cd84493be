"""The `delivery` value in a mail's provider metadata: the delivery id plus a keyed tag.

Providers echo metadata back in their webhooks. A bare id would let anyone who can reach
the webhook name any delivery by counting; the tag (an HMAC of the id under SECRET_KEY)
makes a reference impossible to make up without the server's key.
"""

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "newsletter.delivery-reference"
TAG_LENGTH = 24  # hex digits: 96 bits, short enough for every provider's metadata limits


def tag(delivery_id, secret=None):
    digest = salted_hmac(SALT, str(delivery_id), secret=secret, algorithm="sha256")
    return digest.hexdigest()[:TAG_LENGTH]


def sign(delivery_id):
    """`<id>.<tag>` for a delivery, "" for a mail without one (a test send)."""
    return f"{delivery_id}.{tag(delivery_id)}" if delivery_id else ""


def unsign(reference):
    """The delivery id a reference names, or None if it is not one this server made."""
    if not isinstance(reference, str) or len(reference) > 40:
        return None
    delivery_id, _, given = reference.partition(".")
    if not (delivery_id.isascii() and delivery_id.isdigit()) or len(given) != TAG_LENGTH:
        return None
    # Mails sent before a key rotation still carry tags under a key in SECRET_KEY_FALLBACKS.
    keys = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    if not any(constant_time_compare(given, tag(int(delivery_id), key)) for key in keys):
        return None
    return int(delivery_id)
