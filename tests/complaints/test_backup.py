"""manage.py backup writes one archive; restore_check proves it restores whole (issue 13 item 8).

The round trip runs on whichever database the suite runs on (SQLite, or PostgreSQL with
DATABASE_URL), so CI covers both. The data is committed (transaction=True): pg_dump and a
second SQLite connection see only what is committed.
"""

import hashlib
import json
import os
import stat
import tarfile
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader

from accounts.retention import customer_anonymise
from complaints.domain.lifecycle import Status
from complaints.models import Attachment, CaseEvent, NoticeKind
from complaints.services import backup as backup_service
from complaints.services.backup import SCRATCH_PREFIX, BackupError, pg_tool
from complaints.services.desk import complaint_attachment_add
from complaints.services.notices import notice_send
from complaints.services.transitions import complaint_transition
from complaints.tasks import outbox_deliver_one
from tests.accounts.factories import StaffUserFactory
from tests.complaints.factories import complaint_make

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"
on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="edits the SQLite file")
db = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def cases(monkeypatch):
    """Two complaints with histories: one with a technical report, one with a letter sent."""
    monkeypatch.setattr(outbox_deliver_one, "delay", lambda *args, **kwargs: None)
    agent = StaffUserFactory(role="support_agent")
    first = complaint_make()
    complaint_transition(complaint=first, to=Status.INVESTIGATING, actor=agent, reason="Looking.")
    complaint_attachment_add(
        complaint=first,
        actor=agent,
        upload=SimpleUploadedFile("report.pdf", PDF, content_type="application/pdf"),
        max_bytes=1_000_000,
    )
    second = complaint_make(subject="Bill is wrong", department="accounts")
    notice_send(complaint=second, kind=NoticeKind.ADR_LETTER, deadline_at=datetime.now(UTC))
    return first, second


def run(command: str, *args) -> tuple[str, str, int]:
    out, err = StringIO(), StringIO()
    try:
        call_command(command, *[str(a) for a in args], stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc.returncode
    return out.getvalue(), err.getvalue(), 0


def backup_to(folder: Path) -> Path:
    folder.mkdir()
    out, err, code = run("backup", folder)
    assert code == 0, err
    (archive,) = folder.iterdir()
    assert f"Backup written to {archive}" in out
    return archive


def archive_change(archive: Path, change) -> None:
    """Unpack the archive, let ``change(folder)`` alter it, and pack it again in its place."""
    folder = archive.parent / "unpacked"
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    change(folder)
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                tar.add(path, path.relative_to(folder).as_posix())


def manifest_of(archive: Path) -> dict:
    with tarfile.open(archive) as tar:
        return json.load(tar.extractfile("manifest.json"))


@pytest.fixture
def scratch(monkeypatch) -> list[str]:
    """The scratch databases restore_check makes (PostgreSQL names, SQLite files), as made."""
    names: list[str] = []
    real_database, real_name = backup_service._scratch_database, backup_service._scratch_name

    @contextmanager
    def recorded(manifest, unpacked):
        with real_database(manifest, unpacked) as settings_dict:
            if settings_dict["NAME"] not in names:
                names.append(settings_dict["NAME"])
            yield settings_dict

    def named():
        names.append(real_name())  # before CREATE DATABASE: seen even if the restore fails
        return names[-1]

    monkeypatch.setattr(backup_service, "_scratch_database", recorded)
    monkeypatch.setattr(backup_service, "_scratch_name", named)
    return names


def still_there(names: list[str]) -> list[str]:
    """Which of these scratch databases (PostgreSQL databases, or SQLite files) remain."""
    if connection.vendor != "postgresql":
        return [name for name in names if Path(name).exists()]
    with connection.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database WHERE datname = ANY(%s)", [names])
        return [row[0] for row in cursor.fetchall()]


@db
def test_a_backup_holds_everything_and_restores_whole(cases, tmp_path, scratch):
    first, second = cases
    archive = backup_to(tmp_path / "backups")

    assert archive.name.startswith("redress-") and archive.name.endswith(".tar.gz")
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600  # personal data
    manifest = manifest_of(archive)
    assert manifest["database"]["vendor"] == connection.vendor
    leaves = dict(MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes())
    assert manifest["migrations"]["complaints"] == leaves["complaints"]
    assert manifest["tables"]["complaints_complaint"] == 2
    assert manifest["tables"]["complaints_caseevent"] == CaseEvent.objects.count()
    attachments = Attachment.objects.order_by("pk")
    assert {a.kind for a in attachments} == {"technical_report", "letter_sent"}
    assert set(manifest["files"]) == {a.file.name for a in attachments}
    for attachment in attachments:
        entry = manifest["files"][attachment.file.name]
        content = Path(attachment.file.path).read_bytes()
        assert entry["sha256"] == hashlib.sha256(content).hexdigest()
        assert entry["size"] == attachment.size == len(content)
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert names[-1] == "manifest.json"  # written last, after every file was hashed
    assert manifest["database"]["file"] in names

    out, err, code = run("restore_check", archive)

    assert code == 0, out + err
    assert "OK: 2 files" in out
    assert "events in 2 complaints verified (case history)" in out
    assert f"OK: {archive} restores whole" in out
    assert len(scratch) == 1 and scratch[0].startswith(
        SCRATCH_PREFIX if connection.vendor == "postgresql" else "/"
    )
    assert still_there(scratch) == []  # dropped, or removed with its folder


@db
def test_a_backup_taken_while_the_history_grows_is_one_consistent_snapshot(cases, tmp_path):
    """Events are written throughout; the rows counted, the dump and the files still agree."""
    first, _second = cases
    before = CaseEvent.objects.count()
    done, written, errors = threading.Event(), [], []

    def writer():
        try:
            while not done.is_set():
                with transaction.atomic():
                    CaseEvent.objects.record(
                        complaint=first, kind=CaseEvent.Kind.NOTE, actor=None, reason="Busy."
                    )
                written.append(1)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 5:  # the writer is under way before the backup starts
            time.sleep(0.01)
        archive = backup_to(tmp_path / "backups")
    finally:
        done.set()
        thread.join(timeout=30)
    assert errors == []

    counted = manifest_of(archive)["tables"]["complaints_caseevent"]
    assert before < counted < CaseEvent.objects.count()
    out, err, code = run("restore_check", archive)
    assert code == 0, out


@db
def test_an_altered_a_missing_and_an_unexpected_file_are_each_reported(cases, tmp_path, scratch):
    archive = backup_to(tmp_path / "backups")
    letter = Attachment.objects.get(kind="letter_sent")
    report = Attachment.objects.get(kind="technical_report")

    def tamper(folder):
        (folder / "media" / letter.file.name).write_bytes(PDF + b"forged")
        (folder / "media" / report.file.name).unlink()
        (folder / "media" / "stray.txt").write_text("not ours")

    archive_change(archive, tamper)
    out, err, code = run("restore_check", archive)

    assert code == 1
    assert f"checksum mismatch: {letter.file.name} (complaints.attachment {letter.pk})" in out
    assert f"missing file: {report.file.name} (complaints.attachment {report.pk})" in out
    assert "unexpected file: stray.txt is not in the manifest" in out
    assert "restores whole" not in out
    assert len(scratch) == 1 and still_there(scratch) == []


@db
def test_a_row_count_that_differs_from_the_manifest_is_reported(cases, tmp_path):
    archive = backup_to(tmp_path / "backups")

    def tamper(folder):
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["tables"]["complaints_complaint"] = 3
        (folder / "manifest.json").write_text(json.dumps(manifest))

    archive_change(archive, tamper)
    out, err, code = run("restore_check", archive)

    assert code == 1
    assert "count: complaints_complaint has 2 rows restored, the manifest says 3" in out


@on_sqlite
@db
def test_a_database_file_altered_in_the_archive_is_reported(cases, tmp_path):
    import sqlite3

    archive = backup_to(tmp_path / "backups")
    report = Attachment.objects.get(kind="technical_report")

    def tamper(folder):
        edit = sqlite3.connect(folder / "database.sqlite3")
        edit.execute("DELETE FROM complaints_attachment WHERE id = ?", [report.pk])
        edit.commit()
        edit.close()

    archive_change(archive, tamper)
    out, err, code = run("restore_check", archive)

    assert code == 1
    assert "checksum mismatch: the database file database.sqlite3 is not the one backed up" in out
    assert "count: complaints_attachment has 1 rows restored, the manifest says 2" in out
    assert f"file: the manifest lists {report.file.name}, but no restored row names it" in out


@db
def test_a_damaged_database_file_is_reported_and_the_files_still_checked(cases, tmp_path, scratch):
    archive = backup_to(tmp_path / "backups")
    name = manifest_of(archive)["database"]["file"]

    def damage(folder):
        path = folder / name
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    archive_change(archive, damage)
    out, err, code = run("restore_check", archive)

    assert code == 1
    assert f"checksum mismatch: the database file {name} is not the one backed up" in out
    assert "database: it does not restore: " in out
    assert "OK: 2 files" not in out  # differences only; but no file was reported as wrong
    assert "missing file" not in out and "checksum mismatch: media" not in out
    assert len(scratch) == (connection.vendor == "postgresql")  # SQLite refused it unopened
    assert still_there(scratch) == []  # dropped although pg_restore failed


@db
def test_a_broken_history_chain_is_reported_with_the_case_reference(cases, tmp_path, scratch):
    from complaints.append_only import history_unlocked  # the sanctioned way past the guards

    first, second = cases
    with history_unlocked(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {CaseEvent._meta.db_table} SET reason = %s "
            "WHERE complaint_id = %s AND seq = 2",
            ["Nothing to see.", first.pk],
        )
    archive = backup_to(tmp_path / "backups")

    out, err, code = run("restore_check", archive)

    assert code == 1
    event = first.events.get(seq=2)
    assert (
        f"history: {first.reference}: event {event.pk} (#2): content does not match its hash" in out
    )
    assert second.reference not in out
    assert len(scratch) == 1 and still_there(scratch) == []


@db
def test_files_already_gone_are_recorded_as_absent_and_do_not_fail_the_check(cases, tmp_path):
    """Retention deletes a customer's files but keeps the rows; a lost file is told apart."""
    first, second = cases
    report = Attachment.objects.get(kind="technical_report")
    letter = Attachment.objects.get(kind="letter_sent")
    customer_anonymise(customer=first.customer, actor=None, reason="Six years on.")
    assert not Path(report.file.path).exists()
    Path(letter.file.path).unlink()

    folder = tmp_path / "backups"
    folder.mkdir()
    out, err, code = run("backup", folder)
    assert code == 0
    assert f"Warning: {report.file.name} (complaints.attachment {report.pk}) is deleted" in err
    assert f"Warning: {letter.file.name} (complaints.attachment {letter.pk}) is missing" in err
    (archive,) = folder.iterdir()
    absent = manifest_of(archive)["absent_files"]
    assert absent[report.file.name]["reason"] == "deleted under the retention policy"
    assert absent[letter.file.name]["reason"] == "missing from the media folder"

    out, err, code = run("restore_check", archive)

    assert code == 0, out
    assert "Note: 2 file(s) named by rows were already absent" in err
    assert "(1 deleted under the retention policy)" in err


@db
def test_a_failed_backup_leaves_nothing_that_looks_like_one(cases, tmp_path, monkeypatch):
    real_add, calls = backup_service._tar_add, []

    def add_then_fail(tar, path, arcname):
        calls.append(arcname)
        if len(calls) == 2:  # the database is in, the first file is not
            raise OSError("disk full")
        return real_add(tar, path, arcname)

    monkeypatch.setattr(backup_service, "_tar_add", add_then_fail)
    folder = tmp_path / "backups"
    folder.mkdir()

    with pytest.raises(OSError, match="disk full"):
        run("backup", folder / "redress.tar.gz")
    assert list(folder.iterdir()) == []


@db
def test_a_backup_is_never_overwritten(tmp_path):
    (tmp_path / "old.tar.gz").write_bytes(b"an older backup")
    out, err, code = run("backup", tmp_path / "old.tar.gz")
    assert code == 2
    assert (tmp_path / "old.tar.gz").read_bytes() == b"an older backup"


def test_restore_check_refuses_what_is_not_a_whole_backup(tmp_path):
    half = tmp_path / "half.tar.gz"
    half.write_bytes(b"\x1f\x8b\x08\x00 cut short")
    with pytest.raises(CommandError, match="is not a readable backup archive") as caught:
        call_command("restore_check", str(half), stdout=StringIO())
    assert caught.value.returncode == 2


def test_missing_postgresql_client_programs_are_a_clear_error(monkeypatch):
    monkeypatch.setenv("PATH", os.devnull)
    with pytest.raises(BackupError, match="pg_dump was not found on PATH"):
        pg_tool("pg_dump")
