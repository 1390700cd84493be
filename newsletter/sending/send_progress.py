"""The live progress of a send, for the admin panel: counts, an honest rate, time left,
errors, the mail server's state in words, and why the send waits and until when.

A send can stand still for good reasons (paused, the mail server not answering, a quota
reached, readers waiting for a retry, rows held by a worker that died); the panel says
which, and when it goes on, instead of showing a rate of 0.
"""

import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Min
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from newsletter.models import Delivery, Issue
from newsletter.sending.breaker import CircuitBreaker
from newsletter.sending.transport import transport_name

RATE_WINDOW_SECONDS = 60


def rate_limit_key(issue_id):
    return f"send:rate-limited:{issue_id}"


def note_rate_limited(issue_id, wait):
    """A lane stopped for a quota (hour, day, warm-up): the panel shows until when."""
    cache.set(rate_limit_key(issue_id), time.time() + wait, timeout=int(wait) + 5)


def progress(*, issue):
    """Counts, current rate, time left, errors and waiting reasons of a send."""
    issue = Issue.objects.filter(pk=issue.pk).first() or issue
    rows = Delivery.objects.filter(issue_id=issue.pk)
    counts = dict(rows.values_list("status").annotate(n=Count("id")).order_by())
    total = sum(counts.values())
    unfinished = total - sum(counts.get(status, 0) for status in Delivery.FINISHED)
    rate, basis = sending_rate(issue, rows, counts.get(Delivery.Status.SENT, 0))
    errors = rows.filter(status__in=Delivery.WITH_ERROR)
    failures = errors.values("error").annotate(n=Count("id")).order_by("-n")[:10]
    providers = errors.values("provider").annotate(n=Count("id")).order_by("-n")
    breaker = CircuitBreaker(transport_name())
    return {
        "status": issue.status,
        "status_label": str(Issue.Status(issue.status).label) if issue.status else "",
        "total": total,
        "counts": {status: counts.get(status, 0) for status, _label in Delivery.Status.choices},
        "sent": counts.get(Delivery.Status.SENT, 0),
        "rate_per_second": round(rate, 2),
        "rate_basis": basis,
        "eta_seconds": round(unfinished / rate) if rate and unfinished else None,
        "failures": [{"reason": f["error"], "count": f["n"]} for f in failures],
        "provider_errors": {p["provider"] or "?": p["n"] for p in providers},
        "breaker": {**breaker.status(), "label": breaker_label(breaker.status())},
        "waiting": waiting(issue, rows, counts, breaker.status()),
    }


def sending_rate(issue, rows, sent):
    """(mails per second, what it is measured over): the last minute, or since the start
    when the send is younger, or the whole send once it is over."""
    now = timezone.now()
    started = issue.send_started_at
    if started is None:
        return 0.0, ""
    if issue.status == Issue.Status.SENT and issue.sent_at:
        seconds = max(1.0, (issue.sent_at - started).total_seconds())
        return sent / seconds, _("on average over the whole send")
    seconds = min(RATE_WINDOW_SECONDS, max(1.0, (now - started).total_seconds()))
    recent = rows.filter(
        status=Delivery.Status.SENT, sent_at__gte=now - timedelta(seconds=seconds)
    ).count()
    if seconds < RATE_WINDOW_SECONDS:
        return recent / seconds, _("since the start %(wait)s ago") % {"wait": duration(seconds)}
    return recent / seconds, _("over the last minute")


def duration(seconds):
    """A short, translated length of time: 35 s, 7 min, 2 h."""
    seconds = max(0, round(seconds))
    if seconds < 120:
        return _("%(n)d s") % {"n": seconds}
    if seconds < 7200:
        return _("%(n)d min") % {"n": round(seconds / 60)}
    return _("%(n)d h") % {"n": round(seconds / 3600)}


def clock(moment):
    """A moment as the author's local time of day, and how far off it is."""
    if isinstance(moment, float):
        moment = datetime.fromtimestamp(moment, tz=timezone.get_current_timezone())
    wait = (moment - timezone.now()).total_seconds()
    return {"time": timezone.localtime(moment).strftime("%H:%M:%S"), "wait": duration(wait)}


def breaker_label(status):
    if status["state"] == CircuitBreaker.OPEN:
        return _("paused after errors, next try at %(time)s (in %(wait)s)") % clock(
            status["open_until"]
        )
    if status["state"] == CircuitBreaker.HALF_OPEN:
        return _("one test mail is checking whether it answers again")
    return _("working normally")


def waiting(issue, rows, counts, breaker):
    """Why the send is not going at full speed now, each with when it goes on."""
    if issue.status not in Issue.IN_PROGRESS:
        return []
    reasons = []
    if issue.status == Issue.Status.PAUSED:
        reasons.append(reason("paused", _("Paused. Press Resume to go on.")))
    if breaker["state"] == CircuitBreaker.OPEN:
        text = _("The mail server is not answering; next try at %(time)s (in %(wait)s).")
        until = breaker["open_until"]
        reasons.append(reason("breaker", text % clock(until), until=until))
    elif breaker["state"] == CircuitBreaker.HALF_OPEN:
        text = _("The mail server failed many times in a row; one test mail checks now.")
        reasons.append(reason("breaker", text))
    limited_until = cache.get(rate_limit_key(issue.pk))
    if limited_until and limited_until > time.time():
        text = _("The sending limit is reached; the next mails go out at %(time)s (in %(wait)s).")
        reasons.append(reason("rate_limit", text % clock(limited_until), until=limited_until))
    reasons += retry_and_held(rows, counts)
    return reasons


def retry_and_held(rows, counts):
    """Readers waiting for a retry, and rows held by a worker that stopped answering."""
    reasons = []
    retrying = counts.get(Delivery.Status.RETRYING, 0)
    if retrying:
        due = rows.filter(status=Delivery.Status.RETRYING).aggregate(at=Min("next_attempt_at"))
        text = ngettext(
            "%(count)d reader waits for another try after a temporary error; "
            "next try at %(time)s (in %(wait)s).",
            "%(count)d readers wait for another try after a temporary error; "
            "next try at %(time)s (in %(wait)s).",
            retrying,
        )
        at = due["at"] or timezone.now()
        reasons.append(reason("retry", text % {"count": retrying, **clock(at)}, count=retrying))
    lease = timedelta(seconds=settings.SEND_LEASE_SECONDS)
    # A live worker finishes its claim within half the lease (claim_size); older claims
    # belong to a worker that died and are sent again once the lease is over.
    held = rows.filter(status=Delivery.Status.SENDING, claimed_at__lt=timezone.now() - lease / 2)
    stale = held.aggregate(n=Count("id"), first=Min("claimed_at"))
    if stale["n"]:
        text = ngettext(
            "%(count)d reader was taken by a worker that stopped; "
            "sent again from %(time)s (in %(wait)s).",
            "%(count)d readers were taken by a worker that stopped; "
            "sent again from %(time)s (in %(wait)s).",
            stale["n"],
        )
        values = {"count": stale["n"], **clock(stale["first"] + lease)}
        reasons.append(reason("held", text % values, count=stale["n"]))
    return reasons


def reason(code, text, **extra):
    return {"reason": code, "text": text, **extra}
