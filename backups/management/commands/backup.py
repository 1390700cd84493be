from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from backups.archive import create_backup
from backups.database import BackupError


class Command(BaseCommand):
    help = "Write the database and the media files into a timestamped .tar.gz archive."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dir",
            type=Path,
            default=Path(settings.VAR_DIR) / "backups",
            help="Folder for the archive (default: backups/ in RUNDBRIEF_VAR_DIR).",
        )

    def handle(self, *args, dir, **options):
        try:
            path = create_backup(directory=dir)
        except (BackupError, OSError) as exc:
            raise CommandError(f"Backup failed: {exc}") from exc
        if settings.AWS_STORAGE_BUCKET_NAME:
            self.stderr.write("Media files are in S3: back up the bucket with its own tools.")
        self.stdout.write(str(path))
