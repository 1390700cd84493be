"""The public archive's page cache: the site-wide version, the two page caches, the
sentinels that stand in for per-request values, and the hooks that make pages stale.

Two caches, one in front of the other:

- The served-page cache answers a request from one cache read and no query. A site-wide
  archive version lives in the cache, and every write to a newsletter or an issue
  replaces it (the post_save and post_delete signals, and ArchiveWritesQuerySet's
  update() and bulk_create(), which the sending engine uses and which send no signals).
  A served page is stored under the request's identity (kind, slugs, page, language)
  together with the version it was built from, and one MGET of the version and the page
  answers a request: a page built from an older version is a miss.
- The content cache keeps the rendered page under the digest of its rows (its state, see
  newsletter.archive.state), so after a write only the pages whose rows changed render
  their templates again.

The version is replaced twice per write: at once, so the writer's own connection (and
every test, whose transaction never commits) stops reading pages built before the write;
and again after the commit, so a page that a concurrent request built from the rows of
before the commit under the first new version is never served. A request reads the
version before it reads the database, so a page is never stored under a version newer
than its rows; and a page built inside a transaction that wrote is not stored at all (its
rows may still roll back). A lost version (Redis flushed or evicted) is replaced by a new
random one, which only costs misses.

Both caches hold whole pages with random sentinels where the per-request values go (the
CSRF token and the signup form's signed time stamp); a request fills them in by string
replacement, so the common path renders no template.
"""

import functools
import hashlib
import secrets
import threading
import weakref
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import models, transaction
from django.db.models.signals import post_delete, post_migrate, post_save

VERSION_KEY = "newsletter:archive-version"
# Bump when the stored entry changes shape, so no entry of the old shape is unpickled.
ENTRY_FORMAT = "1"
# Bump when templates change shape, so no cached page of the old shape is served.
FRAGMENT_VERSION = "2"
CACHE_SECONDS = 60 * 60


def digest(*parts):
    return hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()[:32]


# --- the version and its invalidation hooks ----------------------------------------------
def new_version():
    return secrets.token_hex(8)


def replace_version():
    cache.set(VERSION_KEY, new_version(), None)


class VersionReplacement:
    """The on-commit replacement of the version after one write.

    Django keeps an on_commit callback until its transaction commits (then runs it) and
    drops it when the transaction or the savepoint it was registered in rolls back. Held
    here only weakly (and freed by reference counting as soon as Django lets go of it), a
    replacement is therefore alive exactly while its write is uncommitted.
    """

    def __call__(self):
        replace_version()


pending = threading.local()  # per thread, like Django's connections


def pending_replacements():
    if not hasattr(pending, "replacements"):
        pending.replacements = weakref.WeakSet()
    return pending.replacements


def bump_archive_version(**_signal_kwargs):
    """Make every served page stale: now, and again once the current transaction commits."""
    replace_version()
    replacement = VersionReplacement()
    pending_replacements().add(replacement)
    transaction.on_commit(replacement)


def writes_uncommitted():
    """True inside a transaction that changed a newsletter or an issue and has not committed."""
    return transaction.get_connection().in_atomic_block and len(pending_replacements()) > 0


class ArchiveWritesQuerySet(models.QuerySet):
    """update() and bulk_create() send no signals (the sending engine marks issues sent with
    an UPDATE), yet the public pages' cache must learn of every write."""

    def update(self, **kwargs):
        rows = super().update(**kwargs)
        if rows:
            bump_archive_version()
        return rows

    def bulk_create(self, *args, **kwargs):
        created = super().bulk_create(*args, **kwargs)
        bump_archive_version()
        return created


def connect_invalidation(app_config):
    """Any saved or deleted newsletter or issue may change a public page."""
    for model in (app_config.get_model("Newsletter"), app_config.get_model("Issue")):
        post_save.connect(bump_archive_version, sender=model)
        post_delete.connect(bump_archive_version, sender=model)
    # Data migrations and `flush` change rows without our querysets or signals.
    post_migrate.connect(bump_archive_version, sender=app_config)


# --- the served-page cache -----------------------------------------------------------------
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


def page_key(*identity):
    return ":".join(("newsletter:served", ENTRY_FORMAT, site_digest(), *map(str, identity)))


def lookup(key):
    """(the stored entry if it was built from the current version, else None; the version)."""
    found = cache.get_many([VERSION_KEY, key])
    version = found.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, new_version(), None)
        return None, cache.get(VERSION_KEY)
    stored = found.get(key)
    if stored is not None and stored[0] == version:
        return stored[1], version
    return None, version


def store(key, version, entry):
    """Keep entry as built from version (the one lookup() returned before the rows were read)."""
    if version is not None and not writes_uncommitted():
        cache.set(key, (version, entry), CACHE_SECONDS)


# --- the content cache and its sentinels ---------------------------------------------------
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


@dataclass(frozen=True)
class ServedPage:
    """What the hot path needs to answer a request without the database."""

    page: CachedPage
    state: object  # the page's ArchiveState, for ETag, Last-Modified and 304s
    language: str


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
