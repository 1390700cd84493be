"""Writes behind the authoring admin: autosaving drafts, duplicating issues, uploads."""

import re

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from newsletter.models import RESERVED_ISSUE_SLUGS, Issue, Upload
from newsletter.rendering.placeholders import BRACES_RE

DRAFT_FIELDS = ("subject", "preview_text", "slug", "body_markdown")
SLUG_LENGTH = 200
FALLBACK_SLUG = "issue"


def slug_for_subject(subject):
    """The subject as a slug, its placeholders left out: they are not the issue's title."""
    slug = slugify(BRACES_RE.sub(" ", subject or ""))[: SLUG_LENGTH - 10].strip("-")
    if slug.lower() in RESERVED_ISSUE_SLUGS:
        slug = f"{slug}-{FALLBACK_SLUG}"  # "feed" is the archive's own path
    return slug or FALLBACK_SLUG


def follows_subject(issue):
    """True when the stored slug is the one made from the stored subject (or a numbered
    variant kept unique), i.e. nobody has set it by hand."""
    base = re.escape(slug_for_subject(issue.subject))
    return bool(re.fullmatch(rf"{base}(-\d+)?", issue.slug or ""))


def unique_slug(newsletter, base, exclude_pk=None):
    """base, or base-2, base-3, … whichever no other issue of the newsletter has."""
    taken = set(
        Issue.objects.filter(newsletter=newsletter, slug__startswith=base)
        .exclude(pk=exclude_pk)
        .values_list("slug", flat=True)
    )
    candidate, number = base, 2
    while candidate in taken:
        suffix = f"-{number}"
        candidate, number = base[: SLUG_LENGTH - len(suffix)] + suffix, number + 1
    return candidate


def slug_to_store(*, issue, subject, slug, newsletter=None):
    """The slug to save for an issue being edited (issue None: being added).

    1. A published issue keeps its slug: its archive address is out in the world.
    2. An empty slug, or one left as it was while it followed the subject, is made
       from the new subject, unique in the newsletter.
    3. Anything else the author typed is theirs and stays.
    """
    newsletter = newsletter or (issue.newsletter if issue else None)
    if issue is not None and issue.pk and not issue.is_editable:
        return issue.slug
    untouched = issue is not None and issue.pk and slug == issue.slug and follows_subject(issue)
    if slug and not untouched:
        return slug
    return unique_slug(newsletter, slug_for_subject(subject), issue.pk if issue else None)


def save_draft(*, issue, data):
    """Store the authoring fields of an editable issue; data is already validated."""
    for name in DRAFT_FIELDS:
        setattr(issue, name, data[name])
    issue.save(update_fields=[*DRAFT_FIELDS, "updated_at"])
    return issue


def duplicate_issue(*, issue):
    """A new draft with the issue's content; nothing of its sending history."""
    for _attempt in range(3):  # another author may take the same free slug meanwhile
        copy = Issue(
            newsletter=issue.newsletter,
            subject=issue.subject,
            preview_text=issue.preview_text,
            slug=unique_slug(issue.newsletter, slug_for_subject(issue.subject)),
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
