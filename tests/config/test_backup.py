"""`manage.py backup` and `restore` (make backup / make restore) round-trip a whole site."""

import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from newsletter.models import Issue, Newsletter, Upload
from subscribers.models import Subscriber, Subscription, Suppression
from subscribers.suppression import is_suppressed, suppress
from tests.conftest import BASE_DIR, database_url_for_processes

pytestmark = pytest.mark.django_db(transaction=True)
PICTURE = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture
def site(media):
    """A small populated site: a newsletter, an issue, a reader, a suppression, an image."""
    newsletter = Newsletter.objects.create(
        name="Garden Notes", slug="garden", from_name="Garden", from_email="notes@example.org"
    )
    Issue.objects.create(newsletter=newsletter, subject="Spring", slug="spring")
    subscriber = Subscriber.objects.create(email="reader@example.org", name="Rea")
    Subscription.objects.create(
        subscriber=subscriber, newsletter=newsletter, status=Subscription.Status.CONFIRMED
    )
    suppress(email="gone@example.org", reason=Suppression.Reason.COMPLAINED)
    (media / "uploads" / "2026").mkdir(parents=True)
    (media / "uploads" / "2026" / "tulip.png").write_bytes(PICTURE)
    Upload.objects.create(file="uploads/2026/tulip.png")
    return newsletter


def backup(tmp_path):
    out = io.StringIO()
    call_command("backup", dir=tmp_path / "backups", stdout=out)
    return out.getvalue().strip()


def test_a_restore_brings_back_the_database_and_the_media_files(site, media, tmp_path):
    archive = backup(tmp_path)
    assert os.path.basename(archive).startswith("rundbrief-")
    assert archive.endswith(".tar.gz")
    # Everything changes after the backup...
    Newsletter.objects.filter(pk=site.pk).update(name="Renamed")
    Subscriber.objects.filter(email="reader@example.org").delete()
    Subscriber.objects.create(email="after@example.org")
    Suppression.objects.all().delete()
    (media / "uploads" / "2026" / "tulip.png").unlink()
    (media / "stray.txt").write_text("uploaded after the backup")

    call_command("restore", archive, stdout=io.StringIO())

    # ...and the restore puts back the site as it was.
    assert Newsletter.objects.get().name == "Garden Notes"
    assert Issue.objects.get().subject == "Spring"
    subscription = Subscription.objects.select_related("subscriber").get()
    assert (subscription.subscriber.email, subscription.subscriber.name) == (
        "reader@example.org",
        "Rea",
    )
    assert subscription.status == Subscription.Status.CONFIRMED
    assert not Subscriber.objects.filter(email="after@example.org").exists()
    assert is_suppressed("gone@example.org")
    upload = Upload.objects.get()
    assert upload.file.read() == PICTURE
    assert not (media / "stray.txt").exists()
    assert sorted(p.name for p in media.iterdir()) == ["uploads"]


def test_the_backup_holds_a_consistent_database_snapshot_not_a_live_file(site, tmp_path):
    with tarfile.open(backup(tmp_path)) as archive:
        names = set(archive.getnames())
    snapshot = "database.pgdump" if connection.vendor == "postgresql" else "database.sqlite3"
    assert {"manifest.json", snapshot, "media/uploads/2026/tulip.png"} <= names
    assert not any(name.endswith(("-wal", "-shm")) for name in names)


def test_a_backup_restores_into_a_new_empty_site(site, tmp_path):
    archive = backup(tmp_path)
    with empty_site(tmp_path / "new") as env:
        result = manage(["restore", archive], env)
        assert result.returncode == 0, result.stderr
        count = "from subscribers.suppression import is_suppressed as s; " + (
            "from subscribers.models import Subscriber as S; "
            "print(S.objects.count(), s('gone@example.org'))"
        )
        result = manage(["shell", "-v", "0", "-c", count], env)
        assert result.stdout.split() == ["1", "True"], result.stderr
    assert (tmp_path / "new" / "media" / "uploads" / "2026" / "tulip.png").read_bytes() == PICTURE


def test_restore_refuses_a_missing_file(db, tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("restore", str(tmp_path / "nothing.tar.gz"))


@pytest.mark.parametrize("content", [b"not an archive at all", b""], ids=["garbage", "empty"])
def test_restore_refuses_a_file_that_is_not_a_backup(db, tmp_path, content):
    path = tmp_path / "fake.tar.gz"
    path.write_bytes(content)
    with pytest.raises(CommandError, match="not a Rundbrief backup"):
        call_command("restore", str(path))


def test_restore_refuses_an_archive_without_a_manifest_and_changes_nothing(site, media, tmp_path):
    path = tmp_path / "other.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        archive.add(media / "uploads", "media/uploads")
    Newsletter.objects.filter(pk=site.pk).update(name="Kept")
    with pytest.raises(CommandError, match="not a Rundbrief backup"):
        call_command("restore", str(path))
    assert Newsletter.objects.get().name == "Kept"
    assert (media / "uploads" / "2026" / "tulip.png").exists()


def test_restore_refuses_a_truncated_backup_and_changes_nothing(site, media, tmp_path):
    archive = backup(tmp_path)
    data = Path(archive).read_bytes()
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(data[: len(data) // 2])
    Newsletter.objects.filter(pk=site.pk).update(name="Kept")
    with pytest.raises(CommandError, match="not a Rundbrief backup|damaged"):
        call_command("restore", str(truncated))
    assert Newsletter.objects.get().name == "Kept"
    assert sorted(p.name for p in media.iterdir()) == ["uploads"]


def test_restore_refuses_media_that_would_land_outside_media_root(site, media, tmp_path):
    good = backup(tmp_path)
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(good) as source, tarfile.open(evil, "w:gz") as target:
        for member in source.getmembers():
            target.addfile(member, source.extractfile(member) if member.isfile() else None)
        escape = tarfile.TarInfo("media/../../escaped.txt")
        escape.size = 4
        target.addfile(escape, io.BytesIO(b"evil"))
    Newsletter.objects.filter(pk=site.pk).update(name="Kept")
    with pytest.raises(CommandError, match="damaged or unsafe"):
        call_command("restore", str(evil))
    assert Newsletter.objects.get().name == "Kept"
    assert not (tmp_path / "escaped.txt").exists()
    assert sorted(p.name for p in media.iterdir()) == ["uploads"]


class empty_site:
    """A site with a database of its own and no tables: PostgreSQL or SQLite, as the suite."""

    def __init__(self, var_dir):
        self.var_dir = var_dir
        self.url = ""
        if connection.vendor == "postgresql":
            self.name = connection.settings_dict["NAME"] + "_restore"
            self.url = database_url_for_processes().rsplit("/", 1)[0] + "/" + self.name

    def _admin(self, sql):
        with psycopg.connect(database_url_for_processes(), autocommit=True) as admin:
            admin.execute(sql)

    def __enter__(self):
        if self.url:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}"')
            self._admin(f'CREATE DATABASE "{self.name}"')
        return {
            "RUNDBRIEF_VAR_DIR": str(self.var_dir),
            "MEDIA_ROOT": str(self.var_dir / "media"),
            "DATABASE_URL": self.url,
        }

    def __exit__(self, *exc):
        if self.url:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def manage(args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.test_settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
