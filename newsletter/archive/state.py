"""An archive page's state: what it shows, read with a constant number of queries, and the
HTTP validators derived from it.

A page served from scratch first reads its state (one or two cheap queries, never
proportional to the archive's size). The state gives the ETag and Last-Modified, answers
conditional GETs with 304, and keys the content cache of the whole rendered page
(newsletter.archive.page_cache), so a page whose rows did not change is not rendered again.
"""

from dataclasses import dataclass

from django.db.models import Count, Max
from django.utils.cache import get_conditional_response
from django.utils.http import http_date

from newsletter.archive.page_cache import FRAGMENT_VERSION, digest
from newsletter.models import Issue, Newsletter

PAGE_SIZE = 20
NEWSLETTER_FIELDS = (
    "name", "slug", "description", "language", "from_name", "footer", "accent_colour",
    "logo", "consent_text", "consent_version", "archive_public",
)  # fmt: skip


@dataclass(frozen=True)
class ArchiveState:
    key: str  # stable digest of everything the page shows
    last_modified: object  # datetime or None

    @property
    def etag(self):
        return f'"{self.key}"'


def newsletter_digest(newsletter):
    return digest(*(getattr(newsletter, name) for name in NEWSLETTER_FIELDS))


def newsletter_state(newsletter, page=1):
    """State of a landing page: the newsletter's fields and its archive's summary."""
    summary = (
        Issue.objects.in_archive()
        .filter(newsletter=newsletter)
        .aggregate(count=Count("id"), last_update=Max("updated_at"), last_sent=Max("sent_at"))
    )
    stamps = [s for s in (summary["last_update"], summary["last_sent"], newsletter.created_at) if s]
    key = digest(
        FRAGMENT_VERSION, newsletter_digest(newsletter), page,
        summary["count"], summary["last_update"], summary["last_sent"],
    )  # fmt: skip
    return ArchiveState(key, max(stamps)), summary["count"]


def issue_state(issue):
    newsletter = issue.newsletter
    key = digest(
        FRAGMENT_VERSION, newsletter_digest(newsletter), issue.pk, issue.updated_at, issue.sent_at
    )
    return ArchiveState(key, max(issue.updated_at, issue.sent_at or issue.updated_at))


def index_state(newsletters, language):
    # The index follows the browser's language: a German copy is not an English one.
    key = digest(FRAGMENT_VERSION, language, *(newsletter_digest(n) for n in newsletters))
    stamps = [n.created_at for n in newsletters]
    return ArchiveState(key, max(stamps) if stamps else None)


def not_modified(request, state):
    """A 304 response when the client's copy is current, else None."""
    return get_conditional_response(request, etag=state.etag, last_modified=last_modified(state))


def last_modified(state):
    return int(state.last_modified.timestamp()) if state.last_modified else None


def add_validators(response, state):
    response["ETag"] = state.etag
    if state.last_modified:
        response["Last-Modified"] = http_date(last_modified(state))
    # Browsers keep the page but ask again each time; a 304 costs two small queries.
    response["Cache-Control"] = "no-cache"
    return response


def newsletter_by_slug(slug):
    return Newsletter.objects.filter(slug=slug).first()


def archive_issue(newsletter_slug, issue_slug):
    return (
        Issue.objects.in_archive()
        .select_related("newsletter")
        .filter(newsletter__slug=newsletter_slug, newsletter__archive_public=True, slug=issue_slug)
        .first()
    )
