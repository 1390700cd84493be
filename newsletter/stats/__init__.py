"""Author-facing statistics of one newsletter, aggregated in SQL.

Every function here runs a fixed number of queries whatever the number of readers,
events or issues (GROUP BY in the database, never a loop over rows), so the statistics
page costs the same for ten readers and for a hundred thousand.

Readers gained and lost come from the append-only subscribers.Event history:
- gained: a confirmation (double opt-in or preference centre), or an import that came
  with an opt-in declaration (those readers are confirmed at once);
- lost: an unsubscribe (except a pending signup that expired: never a reader), a
  permanent bounce, a spam complaint, an erasure recorded against the newsletter.
Erasure deletes a reader's own events (GDPR), so an erased reader's earlier
confirmation no longer counts as gained either.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, Max, Min, OuterRef, Q, Subquery
from django.db.models.functions import TruncWeek
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from newsletter.models import Delivery, Issue
from subscribers.models import Event, Subscription

WEEKS = 26
RECENT_ISSUES = 25

Kind, Reason = Event.Kind, Event.Reason
GAINED = Q(kind=Kind.CONFIRMED) | Q(kind=Kind.IMPORTED, data__has_key="opted_in_declaration")
LOST = (
    (Q(kind=Kind.UNSUBSCRIBED) & ~Q(reason=Reason.EXPIRED))
    | Q(kind=Kind.BOUNCED, reason=Reason.BOUNCE)  # transient bounces carry no reason
    | Q(kind=Kind.COMPLAINED)
    | Q(kind=Kind.ERASED)
)
# The order readers see the reasons in: what they chose first, then what happened to them.
REASON_ORDER = (
    Reason.LINK,
    Reason.ONE_CLICK,
    Reason.PREFERENCES,
    Reason.BOUNCE,
    Reason.COMPLAINT,
    Reason.ADMIN,
    Reason.ERASED,
)


@dataclass(frozen=True)
class Week:
    starts_on: date
    gained: int = 0
    lost: int = 0

    @property
    def net(self):
        return self.gained - self.lost


@dataclass(frozen=True)
class ReasonCount:
    reason: str
    label: str
    count: int


@dataclass(frozen=True)
class IssueStats:
    issue: Issue
    recipients: int
    sent: int  # accepted by the mail server or provider
    failed: int  # never accepted
    skipped: int
    unfinished: int
    bounces: int = 0
    complaints: int = 0

    @property
    def bounce_rate(self):
        """Permanent bounces per mail accepted, in percent to one decimal; None if none sent."""
        return round(100 * self.bounces / self.sent, 1) if self.sent else None


@dataclass
class NewsletterStats:
    confirmed: int
    pending: int
    signups: int  # double opt-in signups in the window
    signups_confirmed: int
    signups_expired: int
    weeks: list = field(default_factory=list)
    reasons: list = field(default_factory=list)
    issues: list = field(default_factory=list)

    @property
    def gained(self):
        return sum(week.gained for week in self.weeks)

    @property
    def lost(self):
        return sum(week.lost for week in self.weeks)

    @property
    def net(self):
        return self.gained - self.lost

    @property
    def confirmation_rate(self):
        """Share of the window's signups that confirmed, in percent; None without signups."""
        if not self.signups:
            return None
        return round(100 * self.signups_confirmed / self.signups)

    @property
    def is_empty(self):
        return not (self.confirmed or self.pending or self.gained or self.lost or self.issues)


def newsletter_stats(newsletter, *, now=None, weeks=WEEKS):
    """Everything the statistics page shows, in six queries."""
    first_week = week_start(now, weeks)
    window = window_of(first_week, weeks)
    counts = subscription_counts(newsletter)
    signups = signup_counts(newsletter, window)
    return NewsletterStats(
        confirmed=counts["confirmed"],
        pending=counts["pending"],
        signups=signups["signups"],
        signups_confirmed=signups["confirmed"],
        signups_expired=signups["expired"],
        weeks=weekly_changes(newsletter, first_week, weeks),
        reasons=loss_reasons(newsletter, window),
        issues=issue_stats(newsletter),
    )


def week_start(now, weeks):
    """Monday (in the site's time zone) of the first of the last `weeks` weeks."""
    today = timezone.localdate(now)
    this_monday = today - timedelta(days=today.weekday())
    return this_monday - timedelta(weeks=weeks - 1)


def subscription_counts(newsletter):
    """Readers now, by status: one query."""
    status = Subscription.Status
    return Subscription.objects.filter(newsletter=newsletter).aggregate(
        confirmed=Count("id", filter=Q(status=status.CONFIRMED)),
        pending=Count("id", filter=Q(status=status.PENDING)),
    )


def window_of(first_week, weeks):
    """From Monday 00:00 of the first week to Monday 00:00 after the last, local time."""
    since = timezone.make_aware(datetime.combine(first_week, time.min))
    until = timezone.make_aware(datetime.combine(first_week + timedelta(weeks=weeks), time.min))
    return since, until


def events_of(newsletter, window):
    since, until = window
    return Event.objects.filter(
        newsletter=newsletter, created_at__gte=since, created_at__lt=until
    ).order_by()


def weekly_changes(newsletter, first_week, weeks):
    """Readers gained and lost per calendar week (Monday to Sunday, local time)."""
    rows = (
        events_of(newsletter, window_of(first_week, weeks))
        .filter(GAINED | LOST)
        .annotate(week=TruncWeek("created_at", tzinfo=timezone.get_current_timezone()))
        .values("week")
        .annotate(gained=Count("id", filter=GAINED), lost=Count("id", filter=LOST))
    )
    by_week = {_local_date(row["week"]): row for row in rows}
    result = []
    for offset in range(weeks):
        monday = first_week + timedelta(weeks=offset)
        row = by_week.get(monday, {})
        result.append(Week(monday, gained=row.get("gained", 0), lost=row.get("lost", 0)))
    return result


def _local_date(value):
    # PostgreSQL returns an aware datetime, SQLite may return a date or a naive datetime.
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def loss_reasons(newsletter, window):
    """Why readers left in the window, every known reason listed (zeros included)."""
    rows = (
        events_of(newsletter, window)
        .filter(LOST)
        .values("kind", "reason")
        .annotate(count=Count("id"))
    )
    counts = {}
    for row in rows:
        reason = row["reason"] or _reason_of_kind(row["kind"])
        counts[reason] = counts.get(reason, 0) + row["count"]
    labels = dict(Reason.choices)
    known = [ReasonCount(reason, labels[reason], counts.pop(reason, 0)) for reason in REASON_ORDER]
    other = sum(counts.values())  # an unsubscribe recorded without a reason
    return known + ([ReasonCount("other", _("Other"), other)] if other else [])


def _reason_of_kind(kind):
    return {Kind.COMPLAINED: Reason.COMPLAINT, Kind.ERASED: Reason.ERASED}.get(kind, "other")


def signup_counts(newsletter, window):
    """Readers who signed up in the window, how many confirmed afterwards, how many expired.

    One pass over the window's events grouped by reader (no correlated subquery, which
    PostgreSQL would run once per signup): a reader confirmed if their last confirmation
    is not older than their first signup, and expired likewise.
    """
    expired = Q(kind=Kind.UNSUBSCRIBED, reason=Reason.EXPIRED)
    per_reader = (
        events_of(newsletter, window)
        .filter(Q(kind__in=(Kind.SUBSCRIBED, Kind.CONFIRMED)) | expired)
        .filter(subscriber__isnull=False)
        .values("subscriber")
        .annotate(
            signed_up_at=Min("created_at", filter=Q(kind=Kind.SUBSCRIBED)),
            confirmed_at=Max("created_at", filter=Q(kind=Kind.CONFIRMED)),
            expired_at=Max("created_at", filter=expired),
        )
        .filter(signed_up_at__isnull=False)
    )
    return per_reader.aggregate(
        signups=Count("subscriber"),
        confirmed=Count("subscriber", filter=Q(confirmed_at__gte=F("signed_up_at"))),
        expired=Count("subscriber", filter=Q(expired_at__gte=F("signed_up_at"))),
    )


def issue_stats(newsletter, limit=RECENT_ISSUES):
    """The most recent sends with their delivery counts and the bounces they caused."""
    status = Delivery.Status
    issues = list(
        Issue.objects.filter(newsletter=newsletter, send_started_at__isnull=False)
        .order_by("-send_started_at", "-id")
        .annotate(
            n_recipients=Count("deliveries"),
            n_sent=Count("deliveries", filter=Q(deliveries__sent_at__isnull=False)),
            n_failed=Count(
                "deliveries",
                filter=Q(deliveries__status=status.FAILED, deliveries__sent_at__isnull=True),
            ),
            n_skipped=Count("deliveries", filter=Q(deliveries__status=status.SKIPPED)),
            n_unfinished=Count("deliveries", filter=Q(deliveries__status__in=Delivery.UNFINISHED)),
        )[:limit]
    )
    problems = problems_by_issue(newsletter)
    return [
        IssueStats(
            issue=issue,
            recipients=issue.n_recipients,
            sent=issue.n_sent,
            failed=issue.n_failed,
            skipped=issue.n_skipped,
            unfinished=issue.n_unfinished,
            bounces=problems.get(issue.pk, {}).get("bounces", 0),
            complaints=problems.get(issue.pk, {}).get("complaints", 0),
        )
        for issue in issues
    ]


def problems_by_issue(newsletter):
    """Permanent bounces and complaints, each counted against the issue that caused it.

    Events do not name a message, so an event is laid at the door of the last issue of
    this newsletter the reader was sent before it happened. One query: the attribution
    is a correlated subquery, the counting a GROUP BY over its result.
    """
    last_issue_sent = (
        Delivery.objects.filter(
            subscriber=OuterRef("subscriber"),
            issue__newsletter=OuterRef("newsletter"),
            sent_at__lte=OuterRef("created_at"),
        )
        .order_by("-sent_at", "-id")
        .values("issue")[:1]
    )
    bounce = Q(kind=Kind.BOUNCED, reason=Reason.BOUNCE)
    complaint = Q(kind=Kind.COMPLAINED)
    rows = (
        Event.objects.filter(bounce | complaint, newsletter=newsletter, subscriber__isnull=False)
        .order_by()
        .annotate(issue_id=Subquery(last_issue_sent))
        .filter(issue_id__isnull=False)
        .values("issue_id")
        .annotate(bounces=Count("id", filter=bounce), complaints=Count("id", filter=complaint))
    )
    return {row["issue_id"]: row for row in rows}
