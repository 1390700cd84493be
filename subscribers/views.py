"""Public pages of the subscribers app: form → one service call → redirect or render.

GET never changes state (link scanners fetch every URL in a mail). Unsubscribing acts on
a POST that needs no cookie (RFC 8058: the token is the secret). Confirming needs a
person's click on the page's button, with its CSRF token: a mail gateway's link check
that runs the page's scripts must not consent for the reader.

Every page of one newsletter is in that newsletter's language (subscribers.language).
"""

import json

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from config.net import client_ip
from newsletter.models import Newsletter
from subscribers import language, ratelimit, services
from subscribers.consent import consent_ip, request_evidence
from subscribers.forms import EraseForm, PreferencesForm, ResendForm, SignupForm
from subscribers.models import Event, Subscriber, Subscription
from subscribers.tasks import resend_confirmation_task, subscribe_task
from subscribers.tokens import LinkExpired, LinkInvalid, subscription_token_from


def rate_limited(request, wait_seconds, *, newsletter_language=None):
    """The 429 page, saying (and telling machines by Retry-After) when to try again."""
    context = {"minutes": max(1, -(-wait_seconds // 60))}
    response = language.render_in(
        newsletter_language, request, "subscribers/rate_limited.html", context, status=429
    )
    response["Retry-After"] = str(wait_seconds)
    return response


def _signup(request, newsletter, *, source, check_fill_time):
    """Shared POST handling of the signup page and the embedded form.

    The signup itself runs in the worker: whatever state the address is in (new,
    pending, confirmed, blocked), the request does the same work and gives the same
    redirect, so neither the answer nor its timing tells who is a reader. Forms with
    errors and bots' forms count against their own per-IP limit (ratelimit).
    """
    with translation.override(newsletter.language):
        form = SignupForm(request.POST, newsletter=newsletter, check_fill_time=check_fill_time)
        valid = form.is_valid()
    person = valid and not form.is_bot
    ip = client_ip(request)
    wait = ratelimit.signup_wait(ip) if person else ratelimit.invalid_attempt_wait(ip)
    if wait:
        return rate_limited(request, wait, newsletter_language=newsletter.language)
    if not valid:
        context = {"newsletter": newsletter, "form": form}
        return language.render_in(
            newsletter.language, request, "subscribers/subscribe.html", context
        )
    if person:  # bots get the same answer as people and nothing else
        subscribe_task.delay_on_commit(
            newsletter_id=newsletter.pk,
            email=form.cleaned_data["email"],
            name=form.cleaned_data["name"],
            source=source,
            # Only what CONSENT_IP_MODE keeps goes through the broker.
            ip=consent_ip(ip),
            language=newsletter.language,
        )
    return redirect("subscribers:subscribe_done", newsletter_slug=newsletter.slug)


@require_http_methods(["GET", "POST"])
def subscribe(request, newsletter_slug):
    newsletter = get_object_or_404(Newsletter, slug=newsletter_slug)
    if request.method == "POST":
        return _signup(request, newsletter, source=Subscription.Source.FORM, check_fill_time=True)
    form = SignupForm(newsletter=newsletter)
    context = {"newsletter": newsletter, "form": form}
    return language.render_in(newsletter.language, request, "subscribers/subscribe.html", context)


def subscribe_done(request, newsletter_slug):
    newsletter = get_object_or_404(Newsletter, slug=newsletter_slug)
    context = {"newsletter": newsletter}
    return language.render_in(
        newsletter.language, request, "subscribers/subscribe_done.html", context
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def embed_subscribe(request, newsletter_slug):
    """The target of the copy-paste form on other sites.

    A cross-site POST carries no CSRF cookie, so this endpoint has its own protection:
    the honeypot, per-IP and per-address limits, and double opt-in itself (a forged
    signup only ever yields one throttled confirmation mail, which nobody clicks).
    A form with errors is shown again as our own page, where the normal checks apply.
    """
    newsletter = get_object_or_404(Newsletter, slug=newsletter_slug)
    if request.method == "GET":
        return redirect("subscribers:subscribe", newsletter_slug=newsletter.slug)
    return _signup(request, newsletter, source=Subscription.Source.EMBED, check_fill_time=False)


def _link_problem(request, *, expired, newsletter=None):
    form = ResendForm(initial={"newsletter": newsletter.slug if newsletter else None})
    context = {"expired": expired, "form": form}
    return language.render_in(
        newsletter.language if newsletter else None,
        request,
        "subscribers/link_invalid.html",
        context,
        status=410 if expired else 400,
    )


def _pending_or_done(token):
    return (
        Subscription.objects.select_related("subscriber", "newsletter")
        .filter(token=token)
        .exclude(status__in=Subscription.BLOCKED_STATUSES)
        .first()
    )


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request, token):
    """GET shows a page with one button; its POST (the person's click) confirms."""
    try:
        subscription_token = subscription_token_from(token)
    except LinkExpired:
        return _link_problem(request, expired=True)
    except LinkInvalid:
        return _link_problem(request, expired=False)
    subscription = _pending_or_done(subscription_token)
    if subscription is None or subscription.status == Subscription.Status.UNSUBSCRIBED:
        newsletter = subscription.newsletter if subscription else None
        return _link_problem(request, expired=False, newsletter=newsletter)
    newsletter = subscription.newsletter
    context = {"subscription": subscription, "newsletter": newsletter}
    if request.method == "POST" and subscription.status == Subscription.Status.PENDING:
        services.confirm_subscription(subscription=subscription, evidence=request_evidence(request))
    elif subscription.status != Subscription.Status.CONFIRMED:
        return language.render_in(newsletter.language, request, "subscribers/confirm.html", context)
    return language.render_in(newsletter.language, request, "subscribers/confirmed.html", context)


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    """RFC 8058: a POST unsubscribes at once, without cookies; a GET shows one button."""
    subscription = get_object_or_404(
        Subscription.objects.select_related("subscriber", "newsletter"), token=token
    )
    newsletter_language = subscription.newsletter.language
    context = {"subscription": subscription}
    if request.method == "GET":
        return language.render_in(
            newsletter_language, request, "subscribers/unsubscribe.html", context
        )
    one_click = request.POST.get("List-Unsubscribe") == "One-Click"
    reason = Event.Reason.ONE_CLICK if one_click else Event.Reason.LINK
    services.unsubscribe(subscription=subscription, reason=reason)
    if one_click:
        with translation.override(newsletter_language):
            text = _("You are unsubscribed.")
        return HttpResponse(text, content_type="text/plain; charset=utf-8")
    return language.render_in(
        newsletter_language, request, "subscribers/unsubscribed.html", context
    )


def _subscriber(token):
    return get_object_or_404(Subscriber, token=token)


def _active_newsletters(subscriber):
    return Newsletter.objects.filter(
        subscriptions__subscriber=subscriber,
        subscriptions__status__in=Subscription.ACTIVE_STATUSES,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def preferences(request, token):
    subscriber = _subscriber(token)
    reader_language = language.of_subscriber(subscriber)
    if request.method == "POST":
        with translation.override(reader_language or translation.get_language()):
            form = PreferencesForm(request.POST, subscriber=subscriber)
            valid = form.is_valid()
        if valid:
            services.update_preferences(
                subscriber=subscriber,
                name=form.cleaned_data["name"],
                newsletters=form.chosen_newsletters(),
            )
            return redirect(f"{request.path}?saved=1")
    else:
        initial = {"name": subscriber.name, "newsletters": _active_newsletters(subscriber)}
        form = PreferencesForm(initial=initial, subscriber=subscriber)
    context = {"subscriber": subscriber, "form": form, "saved": "saved" in request.GET}
    return language.render_in(reader_language, request, "subscribers/preferences.html", context)


@require_POST
def preferences_unsubscribe_all(request, token):
    subscriber = _subscriber(token)
    services.unsubscribe_all(subscriber=subscriber, reason=Event.Reason.PREFERENCES)
    return redirect(reverse("subscribers:preferences", kwargs={"token": token}) + "?saved=1")


@require_POST
def preferences_export(request, token):
    subscriber = _subscriber(token)
    data = services.export_data(subscriber=subscriber)
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json"
    )
    filename = f"rundbrief-data-{timezone.now():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def preferences_erase(request, token):
    subscriber = _subscriber(token)
    form = EraseForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.erase_subscriber(subscriber=subscriber)
        return redirect("subscribers:erased")
    context = {"subscriber": subscriber, "form": form}
    reader_language = language.of_subscriber(subscriber)
    return language.render_in(reader_language, request, "subscribers/erase.html", context)


def erased(request):
    return render(request, "subscribers/erased.html")


@require_http_methods(["GET", "POST"])
def resend(request):
    """Ask for a new confirmation mail; the answer never says whether one was sent."""
    if request.method == "GET":
        form = ResendForm(initial={"newsletter": request.GET.get("newsletter")})
        return render(request, "subscribers/resend.html", {"form": form})
    if wait := ratelimit.signup_wait(client_ip(request)):
        return rate_limited(request, wait)
    form = ResendForm(request.POST)
    if not form.is_valid():
        return render(request, "subscribers/resend.html", {"form": form})
    # In the worker, like a signup: the answer takes the same time for every address.
    resend_confirmation_task.delay_on_commit(
        newsletter_id=form.cleaned_data["newsletter"].pk, email=form.cleaned_data["email"]
    )
    return render(request, "subscribers/resend_done.html", {"form": form})
