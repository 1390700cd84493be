"""Readers, their subscriptions and history, the suppression list and import jobs, with the
status groups and querysets that the services and the sending engine ask."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from subscribers.hashing import email_hashes
from subscribers.validation import NAME_MAX_LENGTH, validate_single_line


def new_token():
    # 18 random bytes: 24 URL-safe characters. Short enough that List-Unsubscribe
    # URLs never get RFC 2047-folded, long enough to be unguessable. Not derived from
    # the address.
    return secrets.token_urlsafe(18)


class Subscriber(models.Model):
    """A reader, once per address across all of the site's newsletters."""

    email = models.EmailField(_("email"), max_length=254, unique=True)
    # Goes into the To: header of every mail to this reader, so it is one line.
    name = models.CharField(
        _("name"), max_length=NAME_MAX_LENGTH, blank=True, validators=[validate_single_line]
    )
    language = models.CharField(_("language"), max_length=5, blank=True)
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    # Opens the preference centre; rotated on erasure.
    token = models.CharField(max_length=32, unique=True, default=new_token, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("subscriber")
        verbose_name_plural = _("subscribers")
        # Beyond add/change/delete/view: taking readers' data out, and bringing lists in.
        permissions = [
            ("export_subscriber", _("Can export readers' data")),
            ("import_subscriber", _("Can import readers from CSV")),
        ]

    def __str__(self):
        return self.email


class SubscriptionQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status__in=Subscription.ACTIVE_STATUSES)

    def confirmed(self):
        return self.filter(status=Subscription.Status.CONFIRMED)

    def pending(self):
        return self.filter(status=Subscription.Status.PENDING)


class Subscription(models.Model):
    """A reader's relation to one newsletter, with the consent evidence behind it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Complained")

    class Source(models.TextChoices):
        FORM = "form", _("Signup page")
        EMBED = "embed", _("Embedded form")
        IMPORT = "import", _("Import")
        ADMIN = "admin", _("Admin")
        PREFERENCES = "preferences", _("Preference centre")

    # The reader gets this newsletter, or will once they confirm.
    ACTIVE_STATUSES = (Status.PENDING, Status.CONFIRMED)
    # Mail to the address bounced or was reported as spam: nothing turns these back into mail.
    BLOCKED_STATUSES = (Status.BOUNCED, Status.COMPLAINED)

    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="subscriptions"
    )
    newsletter = models.ForeignKey(
        "newsletter.Newsletter", on_delete=models.CASCADE, related_name="subscriptions"
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    # Per subscriber and newsletter: the unsubscribe token and the confirmation secret.
    token = models.CharField(max_length=32, unique=True, default=new_token, editable=False)
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    consent_text = models.TextField(_("consent text shown"), blank=True)
    consent_version = models.PositiveIntegerField(_("consent text version"), null=True)
    consent_ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    subscribed_at = models.DateTimeField(_("signed up"), default=timezone.now)
    confirmation_sent_at = models.DateTimeField(_("confirmation sent"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ["-subscribed_at"]
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber", "newsletter"], name="one_subscription_per_newsletter"
            )
        ]
        indexes = [models.Index(fields=["newsletter", "status"])]

    def __str__(self):
        return f"{self.subscriber_id} → {self.newsletter_id} ({self.status})"


class Event(models.Model):
    """Append-only history of what happened to a subscriber, kept as evidence."""

    class Kind(models.TextChoices):
        SUBSCRIBED = "subscribed", _("Signed up")
        CONFIRMATION_SENT = "confirmation_sent", _("Confirmation sent")
        CONFIRMED = "confirmed", _("Confirmed")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Complained")
        IMPORTED = "imported", _("Imported")
        UPDATED = "updated", _("Details changed")
        EXPORTED = "exported", _("Data downloaded")
        ERASED = "erased", _("Erased")

    class Reason(models.TextChoices):
        NONE = "", _("—")
        LINK = "link", _("Unsubscribe link")
        ONE_CLICK = "one_click", _("One-click unsubscribe")
        PREFERENCES = "preferences", _("Preference centre")
        BOUNCE = "bounce", _("Bounce")
        COMPLAINT = "complaint", _("Complaint")
        ADMIN = "admin", _("Admin")
        ERASED = "erased", _("Erased")
        EXPIRED = "expired", _("Confirmation expired")

    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    newsletter = models.ForeignKey(
        "newsletter.Newsletter", on_delete=models.SET_NULL, null=True, blank=True
    )
    kind = models.CharField(_("event"), max_length=20, choices=Kind.choices)
    reason = models.CharField(
        _("reason"), max_length=12, choices=Reason.choices, blank=True, default=""
    )
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def __str__(self):
        return f"{self.kind} {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Events are append-only.")
        super().save(*args, **kwargs)


class SuppressionQuerySet(models.QuerySet):
    def of(self, addresses):
        """The entries for these addresses, under whichever hash key made them."""
        return self.hashed([digest for address in addresses for digest in email_hashes(address)])

    def hashed(self, digests):
        return self.filter(email_hash__in=digests)

    def hard(self):
        return self.filter(reason__in=Suppression.HARD_REASONS)


class Suppression(models.Model):
    """An address that must never be mailed again, kept only as a keyed hash."""

    class Reason(models.TextChoices):
        ERASED = "erased", _("Erased on request")
        BOUNCED = "bounced", _("Hard bounce")
        COMPLAINED = "complained", _("Spam complaint")
        ADMIN = "admin", _("Blocked by admin")

    # Entries that a person's own new signup does not lift.
    HARD_REASONS = (Reason.BOUNCED, Reason.COMPLAINED, Reason.ADMIN)

    email_hash = models.CharField(max_length=64, unique=True)
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices)
    created_at = models.DateTimeField(_("since"), default=timezone.now)

    objects = SuppressionQuerySet.as_manager()

    class Meta:
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppressed addresses")

    def __str__(self):
        return f"{self.email_hash[:12]}… ({self.reason})"


class ImportJobQuerySet(models.QuerySet):
    def unfinished(self):
        return self.filter(status__in=ImportJob.UNFINISHED_STATUSES)


class ImportJob(models.Model):
    """A CSV import run in the background by the worker, with its progress and report."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    # Running means a worker has it, or had it and died: its task comes back.
    UNFINISHED_STATUSES = (Status.QUEUED, Status.RUNNING)
    FINISHED_STATUSES = (Status.DONE, Status.FAILED)

    newsletter = models.ForeignKey(
        "newsletter.Newsletter", on_delete=models.CASCADE, related_name="import_jobs"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("started by"),
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    # The uploaded file lives in VAR_DIR/imports (private, never under MEDIA_ROOT).
    upload_name = models.CharField(max_length=100, editable=False)
    original_name = models.CharField(_("file"), max_length=255, blank=True)
    delimiter = models.CharField(max_length=1, default=",")
    mapping = models.JSONField(_("columns"), default=dict)
    opted_in_declaration = models.TextField(_("opt-in declaration"), blank=True)
    send_confirmations = models.BooleanField(_("send confirmation mails"), default=False)
    total_rows = models.PositiveIntegerField(_("rows in the file"), default=0)
    processed = models.PositiveIntegerField(_("rows processed"), default=0)
    imported = models.PositiveIntegerField(_("imported"), default=0)
    skipped_suppressed = models.PositiveIntegerField(_("skipped (suppressed)"), default=0)
    unchanged = models.PositiveIntegerField(_("already there"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    confirmations_queued = models.PositiveIntegerField(_("confirmations queued"), default=0)
    rejections = models.JSONField(_("first rejected rows"), default=list, blank=True)
    rejects_size = models.PositiveBigIntegerField(default=0, editable=False)  # resume point
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self):
        return f"{self.original_name or self.upload_name} → {self.newsletter_id} ({self.status})"

    @property
    def finished(self):
        return self.status in self.FINISHED_STATUSES
