"""The chunk writer (COPY on PostgreSQL, the ORM on SQLite) keeps the import's rules."""

import threading

import pytest
from django.utils import translation

from subscribers.imports.importing import ColumnMapping, import_subscribers
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


def reader_threads():
    return [thread for thread in threading.enumerate() if thread.name == "csv-import-reader"]


def test_a_file_that_breaks_midway_keeps_the_chunks_before_and_raises(newsletter):
    def lines():
        yield "email"
        yield from ("a@example.org", "b@example.org", "c@example.org")
        raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")

    with pytest.raises(UnicodeDecodeError):
        import_subscribers(newsletter=newsletter, lines=lines(), chunk_size=2)
    assert Subscription.objects.count() == 2
    assert not reader_threads()


def test_a_failing_write_stops_the_reading_thread(newsletter):
    def fails(report, ids):
        raise RuntimeError("disk full")

    rows = ["email"] + [f"p{n}@example.org" for n in range(50)]
    with pytest.raises(RuntimeError):
        import_subscribers(newsletter=newsletter, lines=rows, chunk_size=2, on_chunk=fails)
    assert not reader_threads()


def test_reasons_are_in_the_language_of_the_caller(newsletter):
    rejections = []
    with translation.override("de"):
        import_subscribers(
            newsletter=newsletter, lines=["email", "kaputt"], on_reject=rejections.append
        )
    assert [r.reason for r in rejections] == ["Geben Sie eine gültige E-Mail-Adresse ein."]
