"""Reading the public archive with a constant number of queries, plus HTTP validators.

An archive page served from scratch first reads a small "state" of what it shows (one or
two cheap queries, never proportional to the archive's size). The state gives the ETag
and Last-Modified, answers conditional GETs with 304, and keys the cache of the whole
rendered page, so a page whose rows did not change is not rendered again. Most requests
never get here: newsletter.archive.page_cache serves the page with its state from one cache
read while no newsletter or issue has changed since it was built.

Whole pages are cached with random sentinels where the per-request values go (the CSRF
token and the signup form's signed time stamp); a request fills them in by string
replacement, so the common path renders no template.
"""

import functools
import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max
from django.utils.cache import get_conditional_response
from django.utils.http import http_date

from newsletter.models import Issue, Newsletter

CACHE_SECONDS = 60 * 60
PAGE_SIZE = 20
# Bump when templates change shape, so no cached fragment of the old shape is served.
FRAGMENT_VERSION = "2"
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


def digest(*parts):
    return hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()[:32]


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


@dataclass(frozen=True)
class PageSentinels:
    """Random stand-ins rendered into a cached page where per-request values belong.

    Random per rendering, so no author can write them into an issue and have them filled.
    """

    csrf_token: str
    form_started: str

    @classmethod
    def new(cls):
        return cls(f"csrf{secrets.token_hex(16)}", f"started{secrets.token_hex(16)}")


@dataclass(frozen=True)
class CachedPage:
    html: str
    sentinels: PageSentinels

    @property
    def has_form(self):
        return self.sentinels.csrf_token in self.html

    def filled(self, csrf_token, form_started):
        """The page for one request; csrf_token and form_started are called only if used."""
        if not self.has_form:
            return self.html
        html = self.html.replace(self.sentinels.csrf_token, csrf_token())
        return html.replace(self.sentinels.form_started, form_started())


@functools.cache
def deploy_fingerprint():
    """Templates and static manifest of this deploy (read once): a deploy never serves old HTML."""
    templates = sorted((settings.BASE_DIR / "templates").rglob("*.html"))
    stats = [(str(path), path.stat().st_mtime_ns, path.stat().st_size) for path in templates]
    manifest = settings.STATIC_ROOT / "staticfiles.json"
    manifest_stamp = manifest.stat().st_mtime_ns if manifest.exists() else None
    return digest(*stats, manifest_stamp)


def site_digest():
    """What every page shows besides its rows: this deploy's templates, the site's name and URL."""
    return digest(deploy_fingerprint(), settings.SITE_URL, settings.SITE_NAME)


def cached_page(kind, state, language, build):
    """The whole page for (kind, state, language); build(sentinels) renders it on a miss."""
    key = f"newsletter:page:{kind}:{language}:{site_digest()}:{state.key}"
    stored = cache.get(key)
    if stored is not None:
        html, csrf_token, form_started = stored
        return CachedPage(html, PageSentinels(csrf_token, form_started))
    sentinels = PageSentinels.new()
    page = CachedPage(build(sentinels), sentinels)
    cache.set(key, (page.html, sentinels.csrf_token, sentinels.form_started), CACHE_SECONDS)
    return page


@dataclass(frozen=True)
class ServedPage:
    """What the hot path needs to answer a request without the database."""

    page: CachedPage
    state: ArchiveState  # for ETag, Last-Modified and 304s
    language: str
