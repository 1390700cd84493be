import csv
import io

import pytest
from django.core.management import CommandError, call_command

from subscribers.models import Event, Subscriber, Subscription, Suppression
from subscribers.suppression import email_hash

pytestmark = pytest.mark.django_db

CSV = (
    "E-Mail,Name,City\n"
    "ada@example.org,Ada,London\n"
    "not-an-address,Bob,Paris\n"
    "grace@example.org,Grace,NYC\n"
    "gone@example.org,Gone,Rome\n"
    "ADA@example.org,Ada again,London\n"
)


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_subscribers", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_without_a_declaration_rows_are_pending_and_rejects_are_reported(csv_file, newsletter):
    Suppression.objects.create(email_hash=email_hash("gone@example.org"), reason="erased")
    out, err = run("garden", csv_file, "--field", "city=City")
    assert "5 rows: 2 imported (pending confirmation)" in out
    assert "1 already there, 1 suppressed, 1 rejected" in out
    assert "line 3: 'not-an-address'" in err
    assert "rows read" in err  # progress
    assert set(Subscription.objects.values_list("status", flat=True)) == {"pending"}
    ada = Subscriber.objects.get(email="ada@example.org")
    assert ada.name == "Ada"
    assert ada.custom_fields == {"city": "London"}
    assert not Subscriber.objects.filter(email="gone@example.org").exists()
    assert Event.objects.filter(kind=Event.Kind.IMPORTED).count() == 2


def test_a_declaration_confirms_and_is_stored_as_consent_evidence(csv_file, newsletter):
    run("garden", csv_file, "--opted-in", "Paper list, 2024 fair")
    subscription = Subscription.objects.get(subscriber__email="grace@example.org")
    assert subscription.status == Subscription.Status.CONFIRMED
    assert subscription.source == Subscription.Source.IMPORT
    assert subscription.consent_text == "Paper list, 2024 fair"
    assert subscription.confirmed_at is not None


def test_importing_the_same_file_twice_changes_nothing(csv_file, newsletter, make_subscription):
    unsubscribed = make_subscription("grace@example.org", status=Subscription.Status.UNSUBSCRIBED)
    run("garden", csv_file, "--opted-in", "fair")
    snapshot = list(Subscription.objects.order_by("pk").values())
    events = Event.objects.count()
    out, _ = run("garden", csv_file, "--opted-in", "fair")
    assert "0 imported" in out
    assert list(Subscription.objects.order_by("pk").values()) == snapshot
    assert Event.objects.count() == events
    unsubscribed.refresh_from_db()
    assert unsubscribed.status == Subscription.Status.UNSUBSCRIBED  # never resubscribed by import


def test_rejects_can_go_to_a_csv_file(csv_file, newsletter, tmp_path):
    report = tmp_path / "rejects.csv"
    run("garden", csv_file, "--rejects", report)
    rows = list(csv.reader(report.open()))
    assert rows[0] == ["line", "value", "reason"]
    assert rows[1][:2] == ["3", "not-an-address"]


def test_an_unknown_column_is_a_clear_error(csv_file, newsletter):
    with pytest.raises(CommandError, match="Columns not found in the file: Mail"):
        run("garden", csv_file, "--email-column", "Mail")
    assert not Subscriber.objects.exists()


def test_an_unknown_newsletter_is_a_clear_error(csv_file, db):
    with pytest.raises(CommandError, match="No newsletter"):
        run("nope", csv_file)
