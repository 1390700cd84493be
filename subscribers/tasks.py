"""Celery tasks of the subscribers app: load by id, call one service or send one mail."""

import logging
import smtplib

from anymail.exceptions import AnymailAPIError
from celery import shared_task
from django.db import OperationalError

from newsletter.models import Newsletter
from subscribers import emails, services
from subscribers.imports import jobs
from subscribers.models import Subscription

logger = logging.getLogger(__name__)

# Network trouble is worth retrying; a refused message is not.
TRANSIENT_ERRORS = (
    OSError,
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    AnymailAPIError,
)
MAIL_TASK_OPTIONS = {
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 10,
    "retry_backoff_max": 600,
    "max_retries": 6,
    "soft_time_limit": 60,
    "time_limit": 90,
}


def _subscription(subscription_id, status):
    return (
        Subscription.objects.select_related("subscriber", "newsletter")
        .filter(pk=subscription_id, status=status)
        .first()
    )


@shared_task(
    name="subscribers.subscribe",
    autoretry_for=(OperationalError,),  # the database restarting, not bad input
    retry_backoff=5,
    max_retries=5,
    soft_time_limit=60,
    time_limit=90,
)
def subscribe_task(*, newsletter_id, email, name, source, ip, language):
    """A public signup, run here so the form answers alike (and as fast) for every address."""
    newsletter = Newsletter.objects.filter(pk=newsletter_id).first()
    if newsletter is None:  # deleted since the form was sent
        return
    services.subscribe(
        newsletter=newsletter, email=email, name=name, source=source, ip=ip, language=language
    )


@shared_task(name="subscribers.resend_confirmation", soft_time_limit=60, time_limit=90)
def resend_confirmation_task(*, newsletter_id, email):
    """A reader's request for a new confirmation mail, run here for the same reason."""
    newsletter = Newsletter.objects.filter(pk=newsletter_id).first()
    if newsletter is not None:
        services.resend_confirmation(newsletter=newsletter, email=email)


@shared_task(name="subscribers.send_confirmation", **MAIL_TASK_OPTIONS)
def send_confirmation_task(subscription_id):
    """Mail the double opt-in link of a still pending subscription."""
    subscription = _subscription(subscription_id, Subscription.Status.PENDING)
    if subscription is None:  # confirmed, unsubscribed or purged in the meantime
        return
    emails.confirmation_message(subscription).send()


@shared_task(name="subscribers.send_welcome", **MAIL_TASK_OPTIONS)
def send_welcome_task(subscription_id):
    """Mail the newsletter's welcome text after a confirmation, if it is switched on."""
    subscription = _subscription(subscription_id, Subscription.Status.CONFIRMED)
    if subscription is None or not subscription.newsletter.welcome_enabled:
        return
    emails.welcome_message(subscription).send()


@shared_task(name="subscribers.purge_pending", soft_time_limit=600, time_limit=660)
def purge_pending_task():
    """Delete subscriptions that were never confirmed in time (beat, nightly)."""
    purged = services.purge_pending()
    logger.info("Purged %d expired pending subscriptions", purged)
    return purged


@shared_task(name="subscribers.run_import", soft_time_limit=3600, time_limit=3660)
def run_import_task(job_id):
    """Import the CSV file of one import job (queue "default": it is no reader's mail)."""
    jobs.run_import(job_id=job_id)
