"""The suppression list under a rotated hash key: old keys in the fallbacks still match."""

import pytest

from subscribers import services, suppression
from subscribers.imports.importing import ColumnMapping, import_subscribers
from subscribers.models import Subscriber, Subscription, Suppression
from subscribers.suppression import email_hash, suppressed_hashes

pytestmark = pytest.mark.django_db

OLD_KEY = "old-hash-key-Zq8v3LrP0xWm1Tn4Yb7Kc2Hd5Jf9Gs6Ae0Uo3Ii8Pl1Mk4Nj7Bh2V"
NEW_KEY = "new-hash-key-Vg5Cf9Dx6Sz3Qw8Rt1Yu4Io7Pa2Sd5Fg8Hj1Kl4Zx7Cv0Bn3Mq6W"


@pytest.fixture
def suppressed_under_old_key(settings):
    """gone@example.org suppressed under OLD_KEY, which has since become a fallback."""
    settings.SUPPRESSION_HASH_KEY = OLD_KEY
    settings.SUPPRESSION_HASH_KEY_FALLBACKS = []
    suppression.suppress(email="gone@example.org", reason=Suppression.Reason.COMPLAINED)
    old_hash = email_hash("gone@example.org")
    settings.SUPPRESSION_HASH_KEY = NEW_KEY
    settings.SUPPRESSION_HASH_KEY_FALLBACKS = [OLD_KEY]
    return old_hash


def test_an_address_suppressed_under_an_old_key_is_still_suppressed(suppressed_under_old_key):
    assert email_hash("gone@example.org") != suppressed_under_old_key
    assert suppression.is_suppressed("gone@example.org")
    assert suppression.is_suppressed("Gone@Example.org ")
    assert not suppression.is_suppressed("other@example.org")


def test_without_the_old_key_in_the_fallbacks_the_entry_is_not_recognised(
    suppressed_under_old_key, settings
):
    settings.SUPPRESSION_HASH_KEY_FALLBACKS = []
    assert not suppression.is_suppressed("gone@example.org")


def test_the_sending_engine_skips_an_address_suppressed_under_an_old_key(
    suppressed_under_old_key,
):
    hashes = suppressed_hashes(["gone@example.org", "other@example.org"])
    assert hashes == {email_hash("gone@example.org")}


def test_suppressing_again_moves_the_entry_to_the_current_key(suppressed_under_old_key, settings):
    suppression.suppress(email="gone@example.org", reason=Suppression.Reason.ADMIN)
    entry = Suppression.objects.get()
    assert entry.email_hash == email_hash("gone@example.org")
    assert entry.reason == Suppression.Reason.COMPLAINED  # the first reason stays
    settings.SUPPRESSION_HASH_KEY_FALLBACKS = []
    assert suppression.is_suppressed("gone@example.org")


def test_an_import_skips_an_address_suppressed_under_an_old_key(
    suppressed_under_old_key, newsletter
):
    report = import_subscribers(
        newsletter=newsletter,
        lines=["email", "gone@example.org", "new@example.org"],
        mapping=ColumnMapping(email="email"),
        opted_in_declaration="Met at the fair",
    )
    assert (report.created, report.suppressed) == (1, 1)
    assert not Subscriber.objects.filter(email="gone@example.org").exists()


def test_confirming_lifts_an_erasure_recorded_under_an_old_key(settings, make_subscription):
    settings.SUPPRESSION_HASH_KEY = OLD_KEY
    settings.SUPPRESSION_HASH_KEY_FALLBACKS = []
    suppression.suppress(email="back@example.org", reason=Suppression.Reason.ERASED)
    settings.SUPPRESSION_HASH_KEY = NEW_KEY
    settings.SUPPRESSION_HASH_KEY_FALLBACKS = [OLD_KEY]
    subscription = make_subscription("back@example.org")
    services.confirm_subscription(subscription=subscription)
    assert not Suppression.objects.exists()
    assert Subscription.objects.get().status == Subscription.Status.CONFIRMED


def test_the_admin_finds_an_address_suppressed_under_an_old_key(
    suppressed_under_old_key, admin_client
):
    response = admin_client.get("/admin/subscribers/suppression/", {"q": "gone@example.org"})
    assert response.status_code == 200
    assert suppressed_under_old_key[:12] in response.content.decode()
