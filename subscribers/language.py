"""A newsletter's pages speak its language, whatever the reader's browser asks for.

The signup form, its errors, the thanks page, the confirmation mail and the pages its
links open all belong to one newsletter: a German newsletter's reader with an English
browser would otherwise meet English pages around German content.
"""

from django.shortcuts import render
from django.utils import translation

from newsletter.models import Newsletter
from subscribers.models import Subscription


def render_in(language, request, template, context=None, *, status=None):
    """Render a page in `language`; Content-Language says so (LocaleMiddleware keeps it)."""
    if not language:  # no newsletter to speak for: the browser's language, as elsewhere
        return render(request, template, context, status=status)
    with translation.override(language):
        response = render(request, template, context, status=status)
    response["Content-Language"] = language
    return response


def of_subscriber(subscriber):
    """The language of the reader's newsletters when they share one, else None."""
    languages = set(
        Newsletter.objects.filter(
            subscriptions__subscriber=subscriber,
            subscriptions__status__in=Subscription.ACTIVE_STATUSES,
        ).values_list("language", flat=True)
    )
    if len(languages) == 1:
        return languages.pop()
    return subscriber.language or None
