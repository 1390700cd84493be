"""Backups of a whole site: the database and the media files in one .tar.gz archive.

The archive holds a manifest (what it is and which database it came from), the database
snapshot (backups/database.py) and media/ with every file under MEDIA_ROOT. A restore
checks the archive completely before it changes anything.
"""

import json
import shutil
import tarfile
import tempfile
import zlib
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from backups.database import BackupError, dump, engine, load

FORMAT = "rundbrief-backup"
VERSION = 1
MANIFEST = "manifest.json"
SNAPSHOTS = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}
STAGING = ".restoring"  # inside MEDIA_ROOT, which may be a mount point that cannot move


def create_backup(*, directory):
    """Write rundbrief-YYYYmmdd-HHMMSS.tar.gz into directory; returns its path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    path = directory / f"rundbrief-{stamp}.tar.gz"
    partial = directory / f".{path.name}.partial"
    with tempfile.TemporaryDirectory() as scratch:
        snapshot = Path(scratch) / SNAPSHOTS[engine()]
        dump(snapshot)
        manifest = {"format": FORMAT, "version": VERSION, "database": engine(), "created_at": stamp}
        (Path(scratch) / MANIFEST).write_text(json.dumps(manifest))
        try:
            _write_archive(partial, Path(scratch) / MANIFEST, snapshot)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    partial.rename(path)  # never a half-written file under the final name
    return path


def _write_archive(path, manifest, snapshot):
    with tarfile.open(path, "w:gz") as archive:
        archive.add(manifest, MANIFEST)
        archive.add(snapshot, snapshot.name)
        if media_root().is_dir():
            archive.add(media_root(), "media", filter=_skip_staging)


def restore_backup(*, path):
    """Replace the database and the media files with those in the archive at path."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} does not exist.")
    staging = media_root() / STAGING
    with tempfile.TemporaryDirectory() as scratch, _open(path) as archive:
        manifest = _manifest(archive, path)
        snapshot = Path(scratch) / SNAPSHOTS[manifest["database"]]
        try:
            _unpack(archive, snapshot, staging)
            load(snapshot)
        except (BackupError, tarfile.TarError, EOFError, zlib.error) as exc:
            shutil.rmtree(staging, ignore_errors=True)
            if isinstance(exc, BackupError):
                raise
            raise BackupError(f"{path} is damaged or unsafe to unpack: {exc}") from exc
        _swap_media(staging)
    return manifest


def _unpack(archive, snapshot, staging):
    """The snapshot into its scratch folder, media/ into the staging folder; nothing of
    the site changes yet."""
    archive.extractall(snapshot.parent, members=[archive.getmember(snapshot.name)], filter="data")
    members = [m for m in archive.getmembers() if m.name.startswith("media/")]
    shutil.rmtree(staging, ignore_errors=True)
    _extract_media(archive, members, staging)


def media_root():
    return Path(settings.MEDIA_ROOT)


def _open(path):
    try:
        return tarfile.open(path, "r:gz")
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"{path} is not a Rundbrief backup (not a .tar.gz archive).") from exc


def _manifest(archive, path):
    """The archive's manifest, once it is sure the archive is one of ours for this site."""
    try:
        manifest = json.load(archive.extractfile(MANIFEST))
        names = set(archive.getnames())
    except (KeyError, ValueError, tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise BackupError(f"{path} is not a Rundbrief backup (no readable manifest).") from exc
    if manifest.get("format") != FORMAT or manifest.get("database") not in SNAPSHOTS:
        raise BackupError(f"{path} is not a Rundbrief backup.")
    if manifest.get("version") != VERSION:
        raise BackupError(f"{path} is a backup format this version cannot read.")
    if SNAPSHOTS[manifest["database"]] not in names:
        raise BackupError(f"{path} is incomplete: it has no database snapshot.")
    if manifest["database"] != engine():
        raise BackupError(
            f"{path} holds a {manifest['database']} database, but this site runs on "
            f"{engine()}: restore it into a site configured the same way."
        )
    return manifest


def _extract_media(archive, members, staging):
    """Unpack media/ into the staging folder ("data" filter: no links out, no absolute
    paths, no device files)."""
    staging.mkdir(parents=True)
    for member in members:
        member.name = member.name.removeprefix("media/")
    archive.extractall(staging, members=[m for m in members if m.name], filter="data")


def _swap_media(staging):
    """MEDIA_ROOT's contents become the staged ones."""
    for entry in media_root().iterdir():
        if entry == staging:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    for entry in staging.iterdir():
        entry.rename(media_root() / entry.name)
    staging.rmdir()


def _skip_staging(member):
    return None if member.name.startswith(f"media/{STAGING}") else member
