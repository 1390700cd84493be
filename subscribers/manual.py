"""Adding one reader by hand, as staff do from the admin.

Either the person already opted in somewhere the author can name (a paper list, a
contract), and that declaration is stored as the consent evidence; or the address gets
the usual double opt-in mail through services.subscribe. The suppression list decides
whether the address may be added at all.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from subscribers import services
from subscribers.models import Event, Subscriber, Subscription
from subscribers.suppression import is_suppressed
from subscribers.validation import clean_name, normalise_email


def refusal(*, newsletter, email):
    """Why the address cannot be added to the newsletter by hand, or None."""
    email = normalise_email(email)
    if is_suppressed(email):
        return _(
            "This address is on the suppression list (bounced, complained, blocked or "
            "erased): it cannot be added."
        )
    status = (
        Subscription.objects.filter(newsletter=newsletter, subscriber__email=email)
        .values_list("status", flat=True)
        .first()
    )
    if status == Subscription.Status.CONFIRMED:
        return _("This address is already confirmed for this newsletter.")
    if status in Subscription.BLOCKED_STATUSES:
        return _("Mail to this address bounced or was reported as spam: it cannot be added.")
    return None


@transaction.atomic
def add_reader(*, newsletter, email, name="", declaration=""):
    """Add one reader: confirmed with a consent declaration, else pending with a mail."""
    email, name, declaration = normalise_email(email), clean_name(name), declaration.strip()
    reason = refusal(newsletter=newsletter, email=email)
    if reason:
        raise ValidationError(reason, code="refused")
    if not declaration:
        return services.subscribe(
            newsletter=newsletter,
            email=email,
            name=name,
            source=Subscription.Source.ADMIN,
            language=newsletter.language,
        )
    return _confirm_declared(newsletter, email, name, declaration)


def _confirm_declared(newsletter, email, name, declaration):
    subscriber, _created = Subscriber.objects.get_or_create(
        email=email, defaults={"name": name, "language": newsletter.language}
    )
    if name and not subscriber.name:
        subscriber.name = name
        subscriber.save(update_fields=["name"])
    subscription, _new = Subscription.objects.select_for_update().get_or_create(
        subscriber=subscriber, newsletter=newsletter, defaults={"source": Subscription.Source.ADMIN}
    )
    now = timezone.now()
    subscription.status = Subscription.Status.CONFIRMED
    subscription.source = Subscription.Source.ADMIN
    subscription.consent_text = declaration
    subscription.consent_version = None  # the declaration, not a version of the form's text
    subscription.consent_ip = None
    subscription.subscribed_at = subscription.confirmed_at = now
    subscription.unsubscribed_at = None
    subscription.save()
    for kind in (Event.Kind.SUBSCRIBED, Event.Kind.CONFIRMED):
        Event.objects.create(
            subscriber=subscriber,
            newsletter=newsletter,
            kind=kind,
            reason=Event.Reason.ADMIN,
            data={"source": Subscription.Source.ADMIN, "opted_in_declaration": declaration},
        )
    return subscription
