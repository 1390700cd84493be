"""The public pages' hot path: one cache round trip and no database.

A site-wide archive version lives in the cache. Every write to a newsletter or an issue
replaces it (post_save and post_delete signals, and the querysets' update() and
bulk_create(), which the sending engine uses and which send no signals; see
newsletter.models). A served page is stored under the request's identity (kind, slug,
page, language) together with the version it was built from, and one MGET of the version
and the page answers a request: a page built from an older version is a miss.

The version is replaced twice per write: at once, so the writer's own connection (and
every test, whose transaction never commits) stops reading pages built before the write;
and again after the commit, so a page that a concurrent request built from the rows of
before the commit under the first new version is never served. A request reads the
version before it reads the database, so a page is never stored under a version newer
than its rows; and a page built inside a transaction that wrote is not stored at all (its
rows may still roll back). A lost version (Redis flushed or evicted) is replaced by a new
random one, which only costs misses.
"""

import secrets

from django.core.cache import cache
from django.db import transaction

VERSION_KEY = "newsletter:archive-version"
# Bump when the stored entry changes shape, so no entry of the old shape is unpickled.
ENTRY_FORMAT = "1"


def new_version():
    return secrets.token_hex(8)


def replace_version():
    cache.set(VERSION_KEY, new_version(), None)


def bump_archive_version(**_signal_kwargs):
    """Make every served page stale: now, and again once the current transaction commits."""
    replace_version()
    transaction.on_commit(replace_version)


def writes_uncommitted():
    """True inside a transaction that changed a newsletter or an issue and has not committed."""
    connection = transaction.get_connection()
    pending = connection.run_on_commit if connection.in_atomic_block else ()
    return any(callback is replace_version for _ids, callback, _robust in pending)


def page_key(*identity):
    return ":".join(("newsletter:served", ENTRY_FORMAT, *(str(part) for part in identity)))


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


def store(key, version, entry, timeout):
    """Keep entry as built from version (the one lookup() returned before the rows were read)."""
    if version is not None and not writes_uncommitted():
        cache.set(key, (version, entry), timeout)
