"""The numbers on the statistics page, aggregated in SQL from events and deliveries."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from newsletter.stats import WEEKS, issue_stats, newsletter_stats
from subscribers.models import Event
from tests.factories import (
    NOW,
    berlin,
    event,
    make_issue,
    make_newsletter,
    make_reader,
    make_send,
    populate,
)

pytestmark = pytest.mark.django_db
Kind, Reason = Event.Kind, Event.Reason


def weeks_by_monday(stats):
    return {week.starts_on: week for week in stats.weeks}


def test_it_lists_the_last_26_weeks_from_monday_to_monday_ending_with_this_one():
    stats = newsletter_stats(make_newsletter(), now=NOW)

    mondays = [week.starts_on for week in stats.weeks]
    assert len(mondays) == WEEKS == 26
    assert mondays[-1] == date(2026, 1, 12)
    assert mondays[0] == date(2025, 7, 21)
    assert all(day.weekday() == 0 for day in mondays)


def test_weeks_begin_at_midnight_in_the_sites_time_zone_not_in_utc():
    newsletter = make_newsletter()
    # Winter (UTC+1): Monday 00:30 in Berlin is still Sunday 23:30 in UTC.
    event(newsletter, Kind.CONFIRMED, berlin(2026, 1, 11, 23, 30))
    event(newsletter, Kind.CONFIRMED, berlin(2026, 1, 12, 0, 30))
    event(newsletter, Kind.CONFIRMED, berlin(2026, 1, 12, 0, 45))
    # Summer (UTC+2): Monday 01:30 in Berlin is Sunday 23:30 in UTC.
    event(newsletter, Kind.UNSUBSCRIBED, berlin(2025, 8, 3, 23, 59), reason=Reason.LINK)
    event(newsletter, Kind.UNSUBSCRIBED, berlin(2025, 8, 4, 1, 30), reason=Reason.LINK)

    weeks = weeks_by_monday(newsletter_stats(newsletter, now=NOW))

    assert weeks[date(2026, 1, 5)].gained == 1
    assert weeks[date(2026, 1, 12)].gained == 2
    assert weeks[date(2025, 7, 28)].lost == 1
    assert weeks[date(2025, 8, 4)].lost == 1


def test_events_outside_the_window_and_of_other_newsletters_do_not_count():
    newsletter, other = make_newsletter(), make_newsletter(slug="other", name="Other")
    event(newsletter, Kind.CONFIRMED, berlin(2025, 7, 20, 23, 59))  # the Sunday before
    event(newsletter, Kind.CONFIRMED, berlin(2025, 7, 21, 0, 0))  # the first minute in
    event(other, Kind.CONFIRMED, berlin(2025, 12, 1, 10, 0))
    event(newsletter, Kind.UNSUBSCRIBED, berlin(2026, 1, 19, 0, 0), reason=Reason.LINK)  # next week

    stats = newsletter_stats(newsletter, now=NOW)

    assert stats.gained == 1
    assert weeks_by_monday(stats)[date(2025, 7, 21)].gained == 1
    assert stats.lost == 0
    assert sum(reason.count for reason in stats.reasons) == 0


def test_gained_counts_confirmations_and_imports_with_an_opt_in_declaration():
    newsletter = make_newsletter()
    at = berlin(2025, 12, 3, 9, 0)
    event(newsletter, Kind.CONFIRMED, at)
    event(newsletter, Kind.IMPORTED, at, opted_in_declaration="They opted in at the fair.")
    event(newsletter, Kind.IMPORTED, at)  # pending until they confirm: not a reader yet
    event(newsletter, Kind.SUBSCRIBED, at)  # only a signup

    stats = newsletter_stats(newsletter, now=NOW)

    assert weeks_by_monday(stats)[date(2025, 12, 1)].gained == 2
    assert stats.gained == 2


def test_lost_counts_unsubscribes_permanent_bounces_complaints_and_erasures():
    newsletter = make_newsletter()
    at = berlin(2025, 11, 5, 9, 0)
    for reason in (Reason.LINK, Reason.ONE_CLICK, Reason.PREFERENCES, Reason.ADMIN):
        event(newsletter, Kind.UNSUBSCRIBED, at, reason=reason)
    event(newsletter, Kind.BOUNCED, at, reason=Reason.BOUNCE)
    event(newsletter, Kind.COMPLAINED, at, reason=Reason.COMPLAINT)
    event(newsletter, Kind.ERASED, at, reason=Reason.ERASED)
    # Not readers lost: a transient bounce, a signup that was never confirmed.
    event(newsletter, Kind.BOUNCED, at, permanent=False)
    event(newsletter, Kind.UNSUBSCRIBED, at, reason=Reason.EXPIRED)

    stats = newsletter_stats(newsletter, now=NOW)

    assert weeks_by_monday(stats)[date(2025, 11, 3)].lost == 7
    assert stats.lost == 7
    assert stats.net == -7


def test_loss_reasons_are_counted_per_reason_with_every_reason_listed():
    newsletter = make_newsletter()
    at = berlin(2025, 10, 1, 12, 0)
    for reason, times in ((Reason.LINK, 3), (Reason.ONE_CLICK, 2), (Reason.PREFERENCES, 1)):
        for _ in range(times):
            event(newsletter, Kind.UNSUBSCRIBED, at, reason=reason)
    event(newsletter, Kind.BOUNCED, at, reason=Reason.BOUNCE)
    event(newsletter, Kind.COMPLAINED, at, reason=Reason.COMPLAINT)
    event(newsletter, Kind.COMPLAINED, at)  # a complaint recorded without a reason

    reasons = {r.reason: r.count for r in newsletter_stats(newsletter, now=NOW).reasons}

    assert reasons == {
        "link": 3, "one_click": 2, "preferences": 1, "bounce": 1,
        "complaint": 2, "admin": 0, "erased": 0,
    }  # fmt: skip


def test_an_unsubscribe_without_a_reason_is_shown_as_other():
    newsletter = make_newsletter()
    event(newsletter, Kind.UNSUBSCRIBED, berlin(2025, 10, 1, 12, 0))

    reasons = newsletter_stats(newsletter, now=NOW).reasons

    assert reasons[-1].reason == "other"
    assert reasons[-1].count == 1


def test_readers_now_come_from_the_subscriptions_state():
    newsletter = make_newsletter()
    for index in range(3):
        make_reader(f"c{index}@example.org", newsletter, status="confirmed")
    make_reader("p@example.org", newsletter, status="pending")
    make_reader("u@example.org", newsletter, status="unsubscribed")
    make_reader("elsewhere@example.org", make_newsletter(slug="x", name="X"), status="confirmed")

    stats = newsletter_stats(newsletter, now=NOW)

    assert (stats.confirmed, stats.pending) == (3, 1)


def test_confirmation_rate_is_the_share_of_signups_that_confirmed_afterwards():
    newsletter = make_newsletter()
    at = berlin(2025, 12, 1, 10, 0)
    readers = [make_reader(f"s{i}@example.org") for i in range(4)]
    for reader in readers:
        event(newsletter, Kind.SUBSCRIBED, at, subscriber=reader)
    event(newsletter, Kind.CONFIRMED, at + timedelta(minutes=5), subscriber=readers[0])
    event(newsletter, Kind.CONFIRMED, at + timedelta(days=2), subscriber=readers[1])
    event(newsletter, Kind.UNSUBSCRIBED, at + timedelta(days=8), reason=Reason.EXPIRED,
          subscriber=readers[2])  # fmt: skip
    # A confirmation from before this signup (an earlier subscription) does not count.
    event(newsletter, Kind.CONFIRMED, at - timedelta(days=60), subscriber=readers[3])

    stats = newsletter_stats(newsletter, now=NOW)

    assert (stats.signups, stats.signups_confirmed, stats.signups_expired) == (4, 2, 1)
    assert stats.confirmation_rate == 50


def test_the_confirmation_rate_is_none_without_signups():
    assert newsletter_stats(make_newsletter(), now=NOW).confirmation_rate is None


def test_each_send_shows_recipients_sent_failed_skipped_and_unfinished():
    newsletter = make_newsletter()
    readers = [make_reader(f"d{i}@example.org", newsletter) for i in range(7)]
    at = berlin(2025, 12, 10, 9, 0)
    make_send(newsletter, "December", at, [
        (readers[0], "sent", at), (readers[1], "sent", at), (readers[2], "sent", at),
        (readers[3], "failed", None), (readers[4], "skipped", None),
        (readers[5], "queued", None),
        (readers[6], "failed", at),  # accepted, then bounced: the webhook marks it failed
    ])  # fmt: skip
    make_issue(newsletter, sent=False, subject="Draft", slug="draft")  # never sent: not listed

    [row] = issue_stats(newsletter)

    assert row.issue.subject == "December"
    assert (row.recipients, row.sent, row.failed, row.skipped, row.unfinished) == (7, 4, 1, 1, 1)


def test_bounces_and_complaints_count_against_the_last_issue_the_reader_was_sent():
    newsletter = make_newsletter()
    ann, ben, cid = (make_reader(f"{n}@example.org", newsletter) for n in ("ann", "ben", "cid"))
    first_at, second_at = berlin(2025, 11, 1, 9, 0), berlin(2025, 11, 15, 9, 0)
    first = make_send(
        newsletter, "First", first_at, [(r, "sent", first_at) for r in (ann, ben, cid)]
    )
    second = make_send(
        newsletter, "Second", second_at, [(ben, "sent", second_at), (cid, "failed", None)]
    )
    event(newsletter, Kind.BOUNCED, first_at + timedelta(hours=1), Reason.BOUNCE, ann)
    event(newsletter, Kind.BOUNCED, second_at + timedelta(hours=1), Reason.BOUNCE, ben)
    # cid's second mail never went out, so the complaint is about the first issue.
    event(newsletter, Kind.COMPLAINED, second_at + timedelta(hours=2), Reason.COMPLAINT, cid)
    # A transient bounce and another newsletter's complaint are not counted.
    event(newsletter, Kind.BOUNCED, second_at + timedelta(hours=3), "", ben, permanent=False)
    event(make_newsletter(slug="o", name="O"), Kind.COMPLAINED, second_at, Reason.COMPLAINT, ann)

    rows = {row.issue: row for row in issue_stats(newsletter)}

    assert (rows[first].bounces, rows[first].complaints) == (1, 1)
    assert (rows[second].bounces, rows[second].complaints) == (1, 0)
    assert rows[first].bounce_rate == pytest.approx(33.3)
    assert list(rows) == [second, first]  # the latest send first


def test_an_empty_newsletter_is_empty():
    stats = newsletter_stats(make_newsletter(), now=NOW)

    assert stats.is_empty
    assert (stats.gained, stats.lost, stats.issues) == (0, 0, [])


def queries_for_stats(newsletter):
    with CaptureQueriesContext(connection) as queries:
        newsletter_stats(newsletter, now=NOW)
    return len(queries)


def test_the_number_of_queries_does_not_grow_with_readers_events_or_issues(
    django_assert_max_num_queries,
):
    small, large = make_newsletter(slug="small"), make_newsletter(slug="large", name="Large")
    populate(small, readers=3, issues=1)
    populate(large, readers=120, issues=8)

    with django_assert_max_num_queries(6):
        small_stats = newsletter_stats(small, now=NOW)
    with django_assert_max_num_queries(6):
        large_stats = newsletter_stats(large, now=NOW)

    assert queries_for_stats(small) == queries_for_stats(large)
    assert (len(small_stats.issues), len(large_stats.issues)) == (1, 8)
    assert large_stats.gained == 120
    assert large_stats.lost == 24 + 18  # every fifth unsubscribed, every seventh bounced
    # Readers 0 and 63 bounced without ever being sent a mail (their deliveries failed).
    assert sum(row.bounces for row in large_stats.issues) == 16
