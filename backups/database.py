"""The database half of a backup: pg_dump/pg_restore for PostgreSQL, SQLite's backup API.

A live SQLite database in WAL mode is never copied as a file (its latest writes may sit
in the -wal file); its own online backup API copies a consistent snapshot, and copies a
restored snapshot back into the live database in one step that other connections see
whole or not at all.
"""

import contextlib
import os
import shutil
import sqlite3
import subprocess  # nosec B404

from django.db import connection


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why."""


def engine():
    """'postgresql' or 'sqlite', the two databases Rundbrief runs on."""
    return "postgresql" if connection.vendor == "postgresql" else "sqlite"


def dump(path):
    """Write a snapshot of the configured database to path."""
    if engine() == "postgresql":
        _pg_run("pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={path}")
    else:
        with contextlib.closing(sqlite3.connect(path)) as target:
            _sqlite_copy(source=_live_sqlite(), target=target)


def load(path):
    """Replace the configured database's contents with the snapshot at path."""
    if engine() == "postgresql":
        connection.close()  # its open transaction would hold locks pg_restore waits for
        _pg_run(
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            str(path),
        )
    else:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as snapshot:
            _check_sqlite(snapshot)
            _sqlite_copy(source=snapshot, target=_live_sqlite())


def _pg_run(program, *args):
    if not shutil.which(program):
        raise BackupError(f"{program} is not installed (Debian: postgresql-client).")
    settings = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": str(settings.get("PASSWORD") or "")}
    target = [
        f"--host={settings.get('HOST') or '127.0.0.1'}",
        f"--port={settings.get('PORT') or 5432}",
        f"--username={settings.get('USER') or 'postgres'}",
        f"--dbname={settings['NAME']}",
    ]
    # A fixed program and an argument list, no shell: nothing in the settings is parsed.
    command = [program, *target, *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True)  # nosec B603
    if result.returncode != 0:
        raise BackupError(f"{program} failed: {result.stderr.strip()}")


def _live_sqlite():
    connection.ensure_connection()
    return connection.connection


def _check_sqlite(snapshot):
    try:
        (verdict,) = snapshot.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"the database in the backup cannot be read: {exc}") from exc
    if verdict != "ok":
        raise BackupError(f"the database in the backup is damaged: {verdict}")


def _sqlite_copy(*, source, target):
    try:
        source.backup(target)
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite backup failed: {exc}") from exc
