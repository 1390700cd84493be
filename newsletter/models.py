import secrets
from email.utils import formataddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from newsletter.archive.page_cache import ArchiveWritesQuerySet
from newsletter.rendering import render_markdown, validate_image_urls
from newsletter.rendering.placeholders import validate_placeholders
from subscribers.validation import validate_single_line

hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour like #1a73e8."))
# Newsletter slugs share the URL root with the site's own paths; issue slugs share a
# newsletter's root with its signup page and feeds.
RESERVED_NEWSLETTER_SLUGS = frozenset(
    {
        "admin", "static", "media", "healthz", "i18n", "embed", "confirm", "u",
        "preferences", "resend", "sitemap.xml", "robots.txt", "api", "webhooks", "anymail",
    }
)  # fmt: skip
RESERVED_ISSUE_SLUGS = frozenset({"subscribe", "feed"})


DEFAULT_CONSENT_TEXT = _(
    "I agree to receive this newsletter and know that I can unsubscribe at any time."
)


def default_consent_in_any_language():
    texts = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            texts.add(str(DEFAULT_CONSENT_TEXT))
    return texts


class NewsletterQuerySet(ArchiveWritesQuerySet):
    def public(self):
        return self.filter(archive_public=True)


def authored_text_errors(obj, fields, *, body):
    """Per-field errors of text an author writes for a mail: placeholders in each field and
    the body, and the body's image URLs (checked once its placeholders are right)."""
    errors = {}
    for name in (*fields, body):
        try:
            validate_placeholders(getattr(obj, name))
        except ValidationError as error:
            errors[name] = error
    if body not in errors:
        try:
            validate_image_urls(getattr(obj, body))
        except ValidationError as error:
            errors[body] = error
    return errors


class Newsletter(models.Model):
    class Language(models.TextChoices):
        ENGLISH = "en", _("English")
        GERMAN = "de", _("German")

    # The name, the sender name and the subjects go into mail headers: one line each.
    name = models.CharField(_("name"), max_length=200, validators=[validate_single_line])
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    language = models.CharField(
        _("language"), max_length=5, choices=Language.choices, default=Language.ENGLISH
    )
    from_name = models.CharField(
        _("sender name"), max_length=200, validators=[validate_single_line]
    )
    from_email = models.EmailField(_("sender address"))
    reply_to = models.EmailField(
        _("reply-to"), blank=True, help_text=_("Replies from readers go here.")
    )
    footer = models.TextField(
        _("footer"), blank=True, help_text=_("Postal address and legal notice, where required.")
    )
    accent_colour = models.CharField(
        _("accent colour"), max_length=7, default="#1a73e8", validators=[hex_colour]
    )
    logo = models.ImageField(_("logo"), upload_to="logos/", blank=True)
    consent_text = models.TextField(
        _("consent text"),
        default=DEFAULT_CONSENT_TEXT,
    )
    # Bumped whenever consent_text changes, so consent evidence names the exact wording.
    consent_version = models.PositiveIntegerField(_("consent text version"), default=1)
    welcome_enabled = models.BooleanField(_("send a welcome mail"), default=False)
    welcome_subject = models.CharField(
        _("welcome subject"), max_length=200, blank=True, validators=[validate_single_line]
    )
    welcome_body = models.TextField(_("welcome body (Markdown)"), blank=True)
    archive_public = models.BooleanField(_("public archive"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = NewsletterQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("newsletter")
        verbose_name_plural = _("newsletters")

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # The default wording is shown to readers: in the newsletter's language, not in
        # whatever language the author's admin happened to use.
        if self.pk is None and str(self.consent_text) in default_consent_in_any_language():
            with translation.override(self.language):
                self.consent_text = str(DEFAULT_CONSENT_TEXT)
        # Consent evidence names the wording's version, so new wording is a new version.
        if self.pk is not None:
            stored = Newsletter.objects.filter(pk=self.pk).values_list("consent_text", flat=True)
            old_text = stored.first()
            if old_text is not None and old_text != self.consent_text:
                self.consent_version += 1
                if kwargs.get("update_fields") is not None:
                    kwargs["update_fields"] = {*kwargs["update_fields"], "consent_version"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("newsletter:detail", kwargs={"slug": self.slug})

    def clean(self):
        super().clean()
        if self.slug and self.slug.lower() in RESERVED_NEWSLETTER_SLUGS:
            raise ValidationError(
                {"slug": _("“%(slug)s” is used by the site itself; choose another slug.")
                 % {"slug": self.slug}}
            )  # fmt: skip
        self.clean_welcome()

    def clean_welcome(self):
        """The welcome mail is rendered like an issue: the same placeholder rules."""
        errors = authored_text_errors(self, ("welcome_subject",), body="welcome_body")
        if errors:
            raise ValidationError(errors)

    @property
    def from_header(self):
        return formataddr((self.from_name, self.from_email))


class IssueQuerySet(ArchiveWritesQuerySet):
    def in_archive(self):
        return self.filter(status=Issue.Status.SENT, show_in_archive=True)

    def due(self, now=None):
        return self.filter(status=Issue.Status.SCHEDULED, scheduled_at__lte=now or timezone.now())


class Issue(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        PAUSED = "paused", _("Paused")
        SENT = "sent", _("Sent")
        CANCELLED = "cancelled", _("Cancelled")

    # The states each send action starts from: the services accept an action only from
    # these, and the admin shows its button only there.
    SENDABLE = frozenset({Status.DRAFT, Status.SCHEDULED})
    PAUSABLE = frozenset({Status.SENDING})
    RESUMABLE = frozenset({Status.PAUSED})
    CANCELLABLE = frozenset({Status.SCHEDULED, Status.SENDING, Status.PAUSED})
    RETRYABLE = frozenset({Status.SENDING, Status.PAUSED, Status.SENT})
    # Started and not over: its deliveries are being worked, or wait for Resume.
    IN_PROGRESS = frozenset({Status.SENDING, Status.PAUSED})
    FINISHED = frozenset({Status.SENT, Status.CANCELLED})

    newsletter = models.ForeignKey(
        Newsletter, on_delete=models.PROTECT, related_name="issues", verbose_name=_("newsletter")
    )
    subject = models.CharField(_("subject"), max_length=200, validators=[validate_single_line])
    preview_text = models.CharField(
        _("preview text"),
        max_length=200,
        blank=True,
        help_text=_("Shown in the inbox."),
        validators=[validate_single_line],
    )
    slug = models.SlugField(_("slug"), max_length=200)
    body_markdown = models.TextField(_("body (Markdown)"), blank=True)
    # Sanitised HTML of the body, rendered once on save (placeholders still unfilled).
    body_html = models.TextField(_("body (HTML)"), blank=True, editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    scheduled_at = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    show_in_archive = models.BooleanField(_("show in archive"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    send_started_at = models.DateTimeField(_("send started"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    recipient_count = models.PositiveIntegerField(_("recipients"), default=0)

    objects = IssueQuerySet.as_manager()

    class Meta:
        ordering = ["-sent_at", "-created_at"]
        verbose_name = _("issue")
        verbose_name_plural = _("issues")
        # Writing an issue and mailing it to every reader are different trusts (staff roles).
        permissions = [("send_issue", _("Can send, schedule, test, pause and cancel issues"))]
        constraints = [
            models.UniqueConstraint(fields=["newsletter", "slug"], name="issue_slug_per_newsletter")
        ]
        indexes = [models.Index(fields=["newsletter", "status", "-sent_at"])]

    def __str__(self):
        return self.subject

    def save(self, *args, **kwargs):
        # The Entry.save pattern: keep the sanitised HTML next to the Markdown source.
        self.body_html = render_markdown(self.body_markdown)
        if kwargs.get("update_fields") is not None and "body_markdown" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "body_html"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse(
            "newsletter:issue", kwargs={"slug": self.newsletter.slug, "issue_slug": self.slug}
        )

    @property
    def is_editable(self):
        # Its content is what goes out: fixed once the send has started.
        return self.status in self.SENDABLE

    def clean(self):
        super().clean()
        errors = authored_text_errors(self, ("subject", "preview_text"), body="body_markdown")
        if self.slug and self.slug.lower() in RESERVED_ISSUE_SLUGS:
            errors["slug"] = _("“%(slug)s” is reserved; choose another slug.") % {"slug": self.slug}
        if errors:
            raise ValidationError(errors)


class DeliveryQuerySet(models.QuerySet):
    def unfinished(self):
        return self.filter(status__in=Delivery.UNFINISHED)


class Delivery(models.Model):
    """One row per recipient of an issue: the ledger the sending engine works from."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        RETRYING = "retrying", _("Retrying")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    UNFINISHED = frozenset({Status.QUEUED, Status.SENDING, Status.RETRYING})
    FINISHED = frozenset({Status.SENT, Status.FAILED, Status.SKIPPED})
    # The last attempt ended in an error (for good, or to be tried again).
    WITH_ERROR = frozenset({Status.FAILED, Status.RETRYING})

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.ForeignKey(
        "subscribers.Subscriber", on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
    # The transport of the last attempt (smtp, postmark, …), for per-provider error counts.
    provider = models.CharField(max_length=40, blank=True)
    error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        # The dev outbox holds readers' mails with their personal token links.
        permissions = [("view_outbox", _("Can read the dev outbox"))]
        constraints = [
            models.UniqueConstraint(fields=["issue", "subscriber"], name="one_delivery_per_reader")
        ]
        indexes = [
            # Workers claim unfinished rows of one issue; a partial index keeps that cheap.
            # Its states are UNFINISHED's, spelled out in the order the migration has them.
            models.Index(
                fields=["issue", "id"],
                name="delivery_unfinished",
                condition=Q(status__in=["queued", "sending", "retrying"]),
            ),
            models.Index(fields=["issue", "status"]),
            models.Index(fields=["provider_message_id"]),
        ]

    def __str__(self):
        return f"{self.issue_id}/{self.subscriber_id}: {self.status}"


class TrackingEvent(models.Model):
    """A provider event applied to a delivery: at most one of each kind per delivery.

    The unique constraint is the webhook's idempotency: the row is inserted in the same
    transaction as the event's effect, so a repeated or concurrent post of the same event
    (or a second bounce report for the same mail) changes nothing, whatever the cache holds.
    """

    class Kind(models.TextChoices):
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Complained")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    esp = models.CharField(max_length=40)
    event_id = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("tracking event")
        verbose_name_plural = _("tracking events")
        constraints = [
            models.UniqueConstraint(fields=["delivery", "kind"], name="one_tracking_event_per_kind")
        ]

    def __str__(self):
        return f"{self.delivery_id}: {self.kind}"


def new_upload_name(instance, filename):
    suffix = filename.rsplit(".", 1)[-1].lower()[:5] if "." in filename else "bin"
    return f"uploads/{timezone.now():%Y/%m}/{secrets.token_urlsafe(12)}.{suffix}"


class Upload(models.Model):
    """An image an author uploaded into media storage for use in issues."""

    file = models.ImageField(_("file"), upload_to=new_upload_name)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("upload")
        verbose_name_plural = _("uploads")

    def __str__(self):
        return self.file.name
