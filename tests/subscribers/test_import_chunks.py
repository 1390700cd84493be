"""The chunk writer (COPY on PostgreSQL, the ORM on SQLite) keeps the import's rules."""

import pytest

from subscribers.importing import ColumnMapping, import_subscribers
from subscribers.models import Event, Subscriber, Subscription, Suppression
from subscribers.suppression import email_hash

pytestmark = pytest.mark.django_db


def test_rules_hold_across_small_chunks(newsletter, other_newsletter, make_subscription):
    make_subscription("known@example.org", to=other_newsletter)
    Subscriber.objects.filter(email="known@example.org").update(name="Known Name")
    Suppression.objects.create(email_hash=email_hash("gone@example.org"), reason="complained")
    lines = [
        "email,name,city",
        "a@example.org,A,Ulm",
        "known@example.org,Someone Else,Rome",
        "gone@example.org,Gone,Bonn",
        "b@example.org,B,",
        "A@Example.org,A twice,Kiel",  # a duplicate in the next chunk
        "c@example.org,C,Graz",
    ]
    chunks = []
    report = import_subscribers(
        newsletter=newsletter,
        lines=lines,
        mapping=ColumnMapping(email="email", name="name", custom={"city": "city"}),
        opted_in_declaration="Met at the fair",
        chunk_size=2,
        on_chunk=lambda report, ids: chunks.append(sorted(ids)),
    )
    assert (report.rows, report.created, report.unchanged, report.suppressed) == (6, 4, 1, 1)
    ids = dict(Subscriber.objects.values_list("email", "id"))
    assert sorted(sum(chunks, [])) == sorted(
        ids[email]
        for email in ("a@example.org", "known@example.org", "b@example.org", "c@example.org")
    )
    known = Subscriber.objects.get(email="known@example.org")
    assert known.name == "Known Name"  # an import never changes an existing person
    a = Subscriber.objects.get(email="a@example.org")
    assert (a.name, a.custom_fields, a.language) == ("A", {"city": "Ulm"}, newsletter.language)
    assert len(a.token) == 24
    assert not Subscriber.objects.filter(email="gone@example.org").exists()
    imported = Subscription.objects.filter(newsletter=newsletter)
    assert {s.status for s in imported} == {Subscription.Status.CONFIRMED}
    assert {s.consent_text for s in imported} == {"Met at the fair"}
    assert all(s.confirmed_at and s.source == Subscription.Source.IMPORT for s in imported)
    assert len({s.token for s in imported}) == 4
    events = Event.objects.filter(kind=Event.Kind.IMPORTED, newsletter=newsletter)
    assert events.count() == 4
    assert {e.data["opted_in_declaration"] for e in events} == {"Met at the fair"}


def test_a_failing_chunk_leaves_nothing_of_itself(newsletter):
    def fails_on_the_second_chunk(report, ids):
        if report.rows > 2:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        import_subscribers(
            newsletter=newsletter,
            lines=["email", "a@example.org", "b@example.org", "c@example.org"],
            chunk_size=2,
            on_chunk=fails_on_the_second_chunk,
        )
    assert list(Subscriber.objects.values_list("email", flat=True).order_by("email")) == [
        "a@example.org",
        "b@example.org",
    ]
    assert Subscription.objects.count() == Event.objects.count() == 2
