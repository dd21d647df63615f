"""Prove that a backup restores whole: rows, migrations, case histories and every file."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from complaints.services.backup import BackupError, backup_restore_check


class Command(BaseCommand):
    help = (
        "Restore ARCHIVE (written by manage.py backup) into a scratch database and folder, "
        "removed after; compare the rows of every table and the migrations with its manifest, "
        "verify every case's history chain and every file's SHA-256; print each difference "
        "and exit with status 1 if there is any."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", metavar="ARCHIVE", type=Path)
        parser.add_argument(
            "--scratch-dir",
            type=Path,
            help="where to unpack the archive (default: the system's temporary directory)",
        )

    def handle(self, *args, archive, scratch_dir, **options):
        try:
            check = backup_restore_check(archive=archive, scratch_dir=scratch_dir)
        except BackupError as exc:
            raise CommandError(f"Could not check {archive}: {exc}", returncode=2) from exc
        database = check.manifest["database"]
        self.stdout.write(
            f"Restored {archive} ({database['vendor']} backup made "
            f"{check.manifest['created_at']}) into a scratch database and folder."
        )
        for line in check.differences:
            self.stdout.write(line)
        for note in check.notes:
            self.stderr.write(f"Note: {note}")
        if check.differences:
            raise CommandError(
                f"{len(check.differences)} difference(s) between the backup's manifest and "
                "what it restores to.",
                returncode=1,
            )
        for line in check.passed:
            self.stdout.write(line)
        self.stdout.write(f"OK: {archive} restores whole")
