"""Input cleaning for signups and imports: addresses (syntax and domain, IDN domains
accepted) and names, and any other text bound for a mail header.
"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from email_validator import EmailNotValidError, EmailUndeliverableError, validate_email
from email_validator.rfc_constants import DOT_ATOM_TEXT, EMAIL_MAX_LENGTH

NAME_MAX_LENGTH = 200  # Subscriber.name and the name fields of every form
# Control characters (Unicode category Cc: C0, DEL and C1, among them CR, LF, NUL, ESC
# and NEL), the line and paragraph separators (Zl, Zp) and lone surrogates (Cs). A name
# or subject holding one breaks the header it goes into: the mail cannot be built. The
# categories are fixed by Unicode's stability policy, so a character class is exact
# (tests compare it with unicodedata) and fast enough for an import of a million rows.
_NOT_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def normalise_email(email):
    """Lower-case the domain (and the local part: no mail system we know of needs case)."""
    return email.strip().lower()


def validate_single_line(value):
    """Refuse text for a mail header (a name, a subject) with control characters in it.

    The model fields use it as their validator, so the admin's forms refuse it too.
    """
    if value and _NOT_ONE_LINE.search(value):
        raise ValidationError(
            _("Line breaks and other control characters are not allowed here."),
            code="control_characters",
        )


def one_line(text):
    """Text with each control character or line separator made a space (for stored data
    written before they were refused), runs of spaces closed up."""
    return " ".join(_NOT_ONE_LINE.sub(" ", text).split())


def clean_name(raw, *, max_length=NAME_MAX_LENGTH):
    """A person's name as stored: stripped, one line, within max_length (never cut)."""
    name = (raw or "").strip()
    validate_single_line(name)
    if len(name) > max_length:
        raise ValidationError(
            _("Please use at most %(limit)d characters (it has %(length)d)."),
            code="max_length",
            params={"limit": max_length, "length": len(name)},
        )
    return name


def clean_address(raw, *, check_mx=None):
    """Return the canonical form of an address or raise ValidationError with the reason.

    The domain may be internationalised (bücher.de); the local part must be ASCII, because
    mail with a non-ASCII local part needs SMTPUTF8 end to end.
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


# The fast path of AddressCleaner: a plain ASCII address, as most lists are. The part
# before the @ is the dot-atom that email-validator itself returns unchanged; the domain
# is letters, digits, dots and dashes, judged once per import.
_PLAIN_DOMAIN = re.compile(r"[A-Za-z0-9.\-]+")
DOMAINS_REMEMBERED = 10_000  # bounds the memory of an import with many distinct domains


class AddressCleaner:
    """clean_address(raw, check_mx=False) for a long list, asking about each domain once.

    email-validator stays the judge: an address takes the fast path only when it is plain
    ASCII (dot-atom local part) and email-validator accepted its domain as already
    canonical (lower-case ASCII, nothing to convert); then the canonical form is just
    the lower-cased address. Everything else, valid or not, goes to clean_address, so
    the results and error messages are the same.
    """

    def __init__(self):
        self._domains = {}  # domain as written -> True if canonical and valid

    def __call__(self, raw):
        address = (raw or "").strip()
        local, at, domain = address.rpartition("@")
        if (
            at
            and len(address) <= EMAIL_MAX_LENGTH
            and DOT_ATOM_TEXT.match(local)
            and self._domain_is_plain(domain)
        ):
            return normalise_email(address)
        return clean_address(address, check_mx=False)

    def _domain_is_plain(self, domain):
        known = self._domains.get(domain)
        if known is not None:
            return known
        plain = bool(_PLAIN_DOMAIN.fullmatch(domain)) and _judged_canonical(domain)
        if len(self._domains) < DOMAINS_REMEMBERED:
            self._domains[domain] = plain
        return plain


def _judged_canonical(domain):
    """Whether email-validator accepts the domain and would write it as it is (lower-cased)."""
    try:
        result = validate_email(f"a@{domain}", check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return False
    return result.domain == result.ascii_domain == domain.lower()
