"""Writes behind the authoring admin: autosaving drafts, duplicating issues, uploads."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from newsletter.models import Issue, Upload

DRAFT_FIELDS = ("subject", "preview_text", "slug", "body_markdown")


def save_draft(*, issue, data):
    """Store the authoring fields of an editable issue; data is already validated."""
    for name in DRAFT_FIELDS:
        setattr(issue, name, data[name])
    issue.save(update_fields=[*DRAFT_FIELDS, "updated_at"])
    return issue


def free_slug(newsletter, slug):
    """slug, or slug-copy, slug-copy-2, … whichever is still free in the newsletter."""
    taken = set(
        Issue.objects.filter(newsletter=newsletter, slug__startswith=slug).values_list(
            "slug", flat=True
        )
    )
    candidate, number = f"{slug}-copy"[:200], 2
    while candidate in taken:
        candidate, number = f"{slug}-copy-{number}"[:200], number + 1
    return candidate


def duplicate_issue(*, issue):
    """A new draft with the issue's content; nothing of its sending history."""
    for _attempt in range(3):  # another author may take the same free slug meanwhile
        copy = Issue(
            newsletter=issue.newsletter,
            subject=issue.subject,
            preview_text=issue.preview_text,
            slug=free_slug(issue.newsletter, issue.slug),
            body_markdown=issue.body_markdown,
            show_in_archive=issue.show_in_archive,
            status=Issue.Status.DRAFT,
            created_at=timezone.now(),
        )
        try:
            with transaction.atomic():
                copy.save()
            return copy
        except IntegrityError:
            continue
    raise IntegrityError("No free slug for the copy; try again.")


def store_upload(*, file, user):
    """Keep an uploaded image in media storage (local or S3) and return the Upload."""
    return Upload.objects.create(file=file, uploaded_by=user)
