"""The provider webhook endpoint: only the configured provider's, only with its secret.

anymail's own urls mount a webhook for every provider it knows, and accept any post while
WEBHOOK_SECRET is unset. Here one URL serves the provider EMAIL_PROVIDER names (every
other answers 404), every post must carry the basic-auth secret (and pass the provider's
signature check where anymail has one), and a body anymail cannot parse answers 400
instead of raising a server error. Events are then sent on anymail's `tracking` signal,
as anymail's own view does, to newsletter/tracking/receivers.py.
"""

import logging
from functools import cache

from anymail import urls as anymail_urls
from anymail.exceptions import AnymailError, AnymailWebhookValidationFailure
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ImproperlyConfigured, RequestDataTooBig
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseNotAllowed,
)
from django.views.decorators.csrf import csrf_exempt

logger = logging.getLogger(__name__)

METHODS = ("POST", "HEAD", "OPTIONS")  # some providers check the URL with HEAD first
# What anymail raises on a body it cannot read: not JSON, the wrong shape, a missing field.
MALFORMED = (
    AnymailError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    RecursionError,
)


def configured_provider():
    """The anymail provider mail is sent through ("postmark", …), or "" for SMTP/outbox."""
    backend = settings.EMAIL_BACKEND
    if not backend.startswith("anymail.backends."):
        return ""
    return backend.split(".")[2]


@cache
def tracking_views():
    """anymail's tracking view class per provider, by the name in its URL."""
    views = {}
    for pattern in anymail_urls.urlpatterns:
        name = pattern.name or ""
        if name.endswith("_tracking_webhook"):
            views[name.removesuffix("_tracking_webhook")] = pattern.callback.view_class
    return views


def basic_auth_secrets():
    """The accepted `user:password` strings; empty means the webhook stays shut."""
    configured = settings.ANYMAIL.get("WEBHOOK_SECRET") or []
    secrets = [configured] if isinstance(configured, str) else list(configured)
    return [
        secret for secret in secrets if isinstance(secret, str) and is_user_and_password(secret)
    ]


def is_user_and_password(secret):
    user, _, password = secret.partition(":")
    return bool(user and password)


def unauthorised():
    # Amazon SNS sends credentials only after a 401 that asks for them.
    response = HttpResponse("Basic auth required.", status=401)
    response["WWW-Authenticate"] = 'Basic realm="webhooks"'
    return response


@csrf_exempt
@login_not_required  # providers post without a session; the secret is the login
def tracking_webhook(request, esp):
    """Receive one provider post: check who sent it, parse it, hand its events on."""
    view_class = tracking_views().get(esp) if esp == configured_provider() else None
    if view_class is None:
        raise Http404("No webhook for this provider.")
    if request.method not in METHODS:
        return HttpResponseNotAllowed(METHODS)
    if not basic_auth_secrets():
        logger.error("%s webhook refused: set ANYMAIL_WEBHOOK_SECRET=user:password", esp)
        return HttpResponseForbidden("Webhook not configured.")
    try:
        view = view_class(basic_auth=basic_auth_secrets())
    except ImproperlyConfigured as error:
        logger.error("%s webhook refused: %s", esp, error)
        return HttpResponseForbidden("Webhook not configured.")
    if request.method != "POST":
        return HttpResponse()
    if not request.headers.get("Authorization"):
        return unauthorised()
    return receive(request, view)


def receive(request, view):
    try:
        view.run_validators(request)
    except AnymailWebhookValidationFailure as failure:
        logger.warning("%s webhook refused: %s", view.esp_name, failure)
        return HttpResponseForbidden("Invalid credentials or signature.")
    except (RequestDataTooBig, *MALFORMED) as error:
        return malformed(view, error)
    try:
        events = view.parse_events(request)
    except (RequestDataTooBig, *MALFORMED) as error:
        return malformed(view, error)
    for event in events:
        view.signal.send(sender=view.__class__, event=event, esp_name=view.esp_name)
    return HttpResponse()


def malformed(view, error):
    logger.info("%s webhook body refused: %s", view.esp_name, str(error)[:200])
    return HttpResponseBadRequest("Malformed webhook body.")
