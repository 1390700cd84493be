"""Transactional mails to readers (confirmation, welcome) built from template triplets."""

from email.utils import make_msgid

from anymail.message import AnymailMessage
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape, linebreaks
from django.utils.safestring import mark_safe

from subscribers.tokens import confirmation_token


def absolute(path):
    return settings.SITE_URL + path


def confirmation_url(subscription):
    return absolute(
        reverse("subscribers:confirm", kwargs={"token": confirmation_token(subscription)})
    )


def preferences_url(subscriber):
    return absolute(reverse("subscribers:preferences", kwargs={"token": subscriber.token}))


def unsubscribe_url(subscription):
    return absolute(reverse("subscribers:unsubscribe", kwargs={"token": subscription.token}))


def build_message(template, context, *, newsletter, to, tag):
    """A multipart mail (text first, then HTML) from emails/subscribers/<template>-*."""
    prefix = f"emails/subscribers/{template}"
    subject = render_to_string(f"{prefix}-subject.txt", context).strip()
    message = AnymailMessage(
        subject=" ".join(subject.split()),
        body=render_to_string(f"{prefix}-body.txt", context),
        from_email=newsletter.from_header,
        to=[to],
        reply_to=[newsletter.reply_to] if newsletter.reply_to else None,
        headers={"Message-ID": make_msgid(domain=settings.MAIL_DOMAIN)},
        tags=[tag],
    )
    message.attach_alternative(render_to_string(f"{prefix}-body.html", context), "text/html")
    return message


def _language(subscription):
    # A newsletter's mails are in its language, like its pages: not the reader's browser's.
    return subscription.newsletter.language


def confirmation_message(subscription):
    newsletter = subscription.newsletter
    with translation.override(_language(subscription)):
        context = {
            "newsletter": newsletter,
            "subscriber": subscription.subscriber,
            "confirm_url": confirmation_url(subscription),
            "max_age_days": settings.CONFIRMATION_MAX_AGE_DAYS,
            "site_name": settings.SITE_NAME,
        }
        return build_message(
            "confirmation",
            context,
            newsletter=newsletter,
            to=subscription.subscriber.email,
            tag="confirmation",
        )


def welcome_body_html(markdown_text):
    """The welcome body as sanitised HTML, through the issue renderer when it exists."""
    try:
        from newsletter.rendering import render_markdown
    except ImportError:  # the authoring module is not there (yet): plain paragraphs
        return linebreaks(escape(markdown_text))
    return render_markdown(markdown_text)


def welcome_message(subscription):
    newsletter = subscription.newsletter
    with translation.override(_language(subscription)):
        context = {
            "newsletter": newsletter,
            "subscriber": subscription.subscriber,
            "subject": newsletter.welcome_subject,
            "body_text": newsletter.welcome_body,
            "body_html": mark_safe(welcome_body_html(newsletter.welcome_body)),  # noqa: S308 - sanitised by render_markdown or escaped  # nosec B308, B703
            "unsubscribe_url": unsubscribe_url(subscription),
            "preferences_url": preferences_url(subscription.subscriber),
            "site_name": settings.SITE_NAME,
        }
        message = build_message(
            "welcome",
            context,
            newsletter=newsletter,
            to=subscription.subscriber.email,
            tag="welcome",
        )
    # The welcome mail is the first of the list's mails: it gets the unsubscribe headers.
    message.extra_headers["List-Unsubscribe"] = f"<{context['unsubscribe_url']}>"
    message.extra_headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return message
