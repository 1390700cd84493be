from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from backups.archive import restore_backup
from backups.database import BackupError


class Command(BaseCommand):
    help = (
        "Replace the database and the media files with those in a backup archive. "
        "Stop the web server and the workers first."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="An archive written by `manage.py backup`.")

    def handle(self, *args, file, **options):
        try:
            manifest = restore_backup(path=file)
        except (BackupError, OSError) as exc:
            raise CommandError(f"Restore failed: {exc}") from exc
        self.stdout.write(f"Restored the backup of {manifest['created_at']} from {file}.")
