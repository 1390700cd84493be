"""Address validation for signups and imports: syntax and domain, IDN domains accepted."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from email_validator import EmailNotValidError, EmailUndeliverableError, validate_email

from subscribers.suppression import normalise_email


def clean_address(raw, *, check_mx=None):
    """Return the canonical form of an address or raise ValidationError with the reason.

    The domain may be internationalised (bücher.de); the local part must be ASCII, because
    mail with a non-ASCII local part needs SMTPUTF8 end to end (see DELIVERABILITY.md).
    The MX lookup is a network call, so it only runs when SIGNUP_CHECK_MX is on.
    """
    check_mx = settings.SIGNUP_CHECK_MX if check_mx is None else check_mx
    try:
        result = validate_email(
            (raw or "").strip(), check_deliverability=check_mx, allow_smtputf8=False
        )
    except EmailUndeliverableError as exc:
        raise ValidationError(
            _("The domain of this address does not accept mail."), code="undeliverable"
        ) from exc
    except EmailNotValidError as exc:
        raise ValidationError(_("Enter a valid email address."), code="invalid") from exc
    if len(result.normalized) > 254:
        raise ValidationError(_("This address is too long."), code="too_long")
    return normalise_email(result.normalized)
