"""Mails to readers outside an issue: the confirmation (from a template triplet) and the
welcome (rendered and headed like an issue: newsletter/rendering/,
newsletter/sending/emails.py)."""

from email.utils import make_msgid

from anymail.message import AnymailMessage
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from config.site import absolute_reverse, absolute_url
from newsletter.models import Issue
from newsletter.rendering import Recipient, render_issue
from newsletter.sending.emails import (
    list_id_for_transport,
    list_unsubscribe_header,
    mail_date,
    to_header,
)
from subscribers.tokens import confirmation_token


def confirmation_url(subscription):
    return absolute_reverse("subscribers:confirm", token=confirmation_token(subscription))


def preferences_url(subscriber):
    return absolute_reverse("subscribers:preferences", token=subscriber.token)


def unsubscribe_url(subscription):
    return absolute_reverse("subscribers:unsubscribe", token=subscription.token)


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


def welcome_issue(newsletter):
    """The welcome text as an unsaved issue: it renders, placeholders and all, like one."""
    with translation.override(newsletter.language):
        names = {"name": newsletter.name}
        subject = newsletter.welcome_subject or _("Welcome to %(name)s") % names
        body = newsletter.welcome_body or _("Thank you for subscribing to %(name)s.") % names
    return Issue(newsletter=newsletter, subject=subject, body_markdown=body, show_in_archive=False)


def welcome_recipient(subscription):
    """The reader's values for the welcome's placeholders ({{ web_url }}: the archive)."""
    subscriber = subscription.subscriber
    return Recipient(
        email=subscriber.email,
        name=subscriber.name,
        custom_fields=subscriber.custom_fields or {},
        unsubscribe_url=unsubscribe_url(subscription),
        preferences_url=preferences_url(subscriber),
        web_url=absolute_url(subscription.newsletter.get_absolute_url()),
    )


def welcome_headers(newsletter, recipient):
    """The list headers an issue carries: the welcome is the list's first mail."""
    return {
        "Message-ID": make_msgid(domain=settings.MAIL_DOMAIN),
        "List-Unsubscribe": list_unsubscribe_header(recipient.unsubscribe_url),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": list_id_for_transport(newsletter),
        "Precedence": "bulk",
        "Date": mail_date(),
    }


def welcome_message(subscription):
    """The newsletter's welcome for one reader, rendered through the issue renderer."""
    newsletter = subscription.newsletter
    recipient = welcome_recipient(subscription)
    subject, html, text = render_issue(welcome_issue(newsletter)).personalise(recipient)
    message = AnymailMessage(
        subject=subject,
        body=text,
        from_email=newsletter.from_header,
        to=[to_header(recipient)],
        reply_to=[newsletter.reply_to] if newsletter.reply_to else None,
        headers=welcome_headers(newsletter, recipient),
        tags=["welcome"],
    )
    message.attach_alternative(html, "text/html")
    return message
