"""Write a consistent backup of Redress: database snapshot, stored files and a manifest."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from complaints.services.backup import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Write one .tar.gz holding a consistent snapshot of the database (SQLite's online "
        "backup, or pg_dump --format=custom), every stored file the rows name, and "
        "manifest.json (migrations, rows per table, SHA-256 of every file). DEST is the "
        "archive's path, or a directory for redress-<UTC time>.tar.gz. Check it with "
        "manage.py restore_check."
    )

    def add_arguments(self, parser):
        parser.add_argument("dest", metavar="DEST", type=Path)

    def handle(self, *args, dest, **options):
        try:
            backup = backup_create(dest=dest)
        except BackupError as exc:
            raise CommandError(f"No backup written: {exc}", returncode=2) from exc
        manifest = backup.manifest
        for name, absent in manifest["absent_files"].items():
            self.stderr.write(
                f"Warning: {name} ({absent['model']} {absent['pk']}) is {absent['reason']}; "
                "recorded as absent"
            )
        files = manifest["files"]
        self.stdout.write(
            f"Backup written to {backup.path}: {manifest['database']['vendor']} database, "
            f"{len(manifest['tables'])} tables, {sum(manifest['tables'].values())} rows, "
            f"{len(files)} files ({sum(f['size'] for f in files.values())} bytes)"
        )
