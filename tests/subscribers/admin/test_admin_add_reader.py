"""Adding one reader by hand in the admin: with a consent declaration, or by starting
double opt-in; the suppression list decides, the owner's permission is needed, and the
admin log records it. The import is offered from the Subscribers list too."""

import pytest
from django.contrib.admin.models import ADDITION, LogEntry

from staff.roles import AUTHOR, OWNER
from subscribers import suppression
from subscribers.models import Event, Subscriber, Subscription, Suppression
from tests.staff.staff_users import StaffClient, make_staff

pytestmark = pytest.mark.django_db

ADD = "/admin/subscribers/subscriber/add/"
LIST = "/admin/subscribers/subscriber/"


def add_data(newsletter, **overrides):
    data = {
        "email": "Ada@Example.org",
        "name": "Ada Lovelace",
        "newsletter": newsletter.pk,
        "consent": "declared",
        "declaration": "Signed the paper list at the 2026 fair.",
    }
    return {**data, **overrides}


@pytest.fixture
def owner():
    return StaffClient(make_staff("owner", role=OWNER))


def test_an_owner_adds_a_reader_with_a_consent_declaration(owner, newsletter):
    response = owner.submit(ADD, add_data(newsletter))

    assert response.status_code == 302, response.content.decode()[:2000]
    subscription = Subscription.objects.get()
    assert subscription.subscriber.email == "ada@example.org"
    assert subscription.subscriber.name == "Ada Lovelace"
    assert subscription.status == Subscription.Status.CONFIRMED
    assert subscription.source == Subscription.Source.ADMIN
    assert subscription.consent_text == "Signed the paper list at the 2026 fair."
    assert subscription.confirmed_at is not None
    assert Event.objects.filter(kind=Event.Kind.CONFIRMED).count() == 1
    entry = LogEntry.objects.get()
    assert (entry.action_flag, entry.object_id) == (ADDITION, str(subscription.subscriber.pk))


def test_a_declaration_is_required_for_an_opted_in_reader(owner, newsletter):
    response = owner.submit(ADD, add_data(newsletter, declaration="  "))

    assert response.status_code == 200
    assert "Say how and when this person opted in." in response.content.decode()
    assert not Subscriber.objects.exists()


def test_an_owner_starts_double_opt_in_with_a_confirmation_mail(
    owner, newsletter, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = owner.submit(ADD, add_data(newsletter, consent="confirm", declaration=""))

    assert response.status_code == 302
    subscription = Subscription.objects.get()
    assert subscription.status == Subscription.Status.PENDING
    assert subscription.confirmation_sent_at is not None
    assert len(callbacks) == 1  # the confirmation mail, queued once committed
    assert Event.objects.filter(kind=Event.Kind.CONFIRMATION_SENT).count() == 1
    assert LogEntry.objects.get().action_flag == ADDITION


def test_a_suppressed_address_is_refused_with_a_reason(owner, newsletter):
    suppression.suppress(email="ada@example.org", reason=Suppression.Reason.COMPLAINED)

    response = owner.submit(ADD, add_data(newsletter))

    assert response.status_code == 200
    assert "on the suppression list" in response.content.decode()
    assert not Subscription.objects.exists()


def test_a_bad_name_is_refused_before_anything_is_written(owner, newsletter):
    response = owner.submit(ADD, add_data(newsletter, name="Ada\nLovelace"))

    assert response.status_code == 200
    assert not Subscriber.objects.exists()


def test_an_existing_reader_is_added_to_another_newsletter(owner, newsletter, other_newsletter):
    owner.submit(ADD, add_data(newsletter))
    response = owner.submit(ADD, add_data(other_newsletter, email="ada@example.org"))

    assert response.status_code == 302
    assert Subscriber.objects.count() == 1
    assert Subscription.objects.filter(status=Subscription.Status.CONFIRMED).count() == 2


def test_a_reader_already_on_the_newsletter_is_refused(owner, newsletter):
    owner.submit(ADD, add_data(newsletter))
    response = owner.submit(ADD, add_data(newsletter))

    assert response.status_code == 200
    assert "already confirmed" in response.content.decode()


def test_an_author_may_not_add_readers(newsletter):
    author = StaffClient(make_staff("author", role=AUTHOR))

    assert author.get(ADD).status_code == 403
    assert author.submit(ADD, add_data(newsletter)).status_code == 403
    assert not Subscriber.objects.exists()


def test_the_subscribers_list_offers_adding_and_the_import(owner):
    page = owner.get(LIST).content.decode()

    assert f'href="{ADD}"' in page
    assert 'href="/admin/subscribers/subscription/import/"' in page


def test_the_add_form_shows_the_consent_choice(owner):
    page = owner.get(ADD).content.decode()

    assert 'name="consent"' in page and 'name="declaration"' in page
