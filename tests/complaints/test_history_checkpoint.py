"""The daily checkpoint of every case's history head catches a complaint deleted whole."""

import gzip
import json
from datetime import datetime
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection

from complaints import tasks
from complaints.append_only import history_unlocked
from complaints.models import CaseEvent, Complaint
from complaints.services.history import event_hash, history_verify
from complaints.services.history_checkpoint import (
    LOG_NAME,
    history_checkpoint_compare,
    history_checkpoint_write,
)
from config.schedule import beat_schedule
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
MONDAY = datetime(2026, 11, 23, 23, 30, tzinfo=LONDON)
EVENTS = CaseEvent._meta.db_table
COMPLAINTS = Complaint._meta.db_table


@pytest.fixture
def folder(tmp_path, settings) -> Path:
    settings.REDRESS_HISTORY_CHECKPOINT_DIR = tmp_path / "checkpoints"
    return settings.REDRESS_HISTORY_CHECKPOINT_DIR


@pytest.fixture
def cases():
    """Three complaints with two events each (logged, a note)."""
    made = []
    for n in range(3):
        complaint = complaint_make(subject=f"Case {n}")
        CaseEvent.objects.record(
            complaint=complaint, kind=CaseEvent.Kind.NOTE, actor=None, reason="Called."
        )
        made.append(complaint)
    return made


def sql(statement: str, params) -> None:
    """Do what someone with SQL access could, past the triggers (see test_history.tamper)."""
    with history_unlocked(), connection.cursor() as cursor:
        cursor.execute(statement, params)


def rows_delete(model, pks) -> None:
    """Delete rows and, first, every row that refers to them, as a careless DBA might."""
    for relation in model._meta.related_objects:
        if relation.many_to_many or relation.one_to_many or relation.one_to_one:
            related = relation.related_model
            refs = list(
                related._base_manager.filter(**{f"{relation.field.name}__in": pks}).values_list(
                    "pk", flat=True
                )
            )
            if refs:
                rows_delete(related, refs)
    with history_unlocked():
        model._base_manager.filter(pk__in=pks)._raw_delete(connection.alias)


def verify(*args) -> tuple[str, int]:
    out = StringIO()
    try:
        call_command("verify_history", *args, stdout=out, stderr=StringIO())
    except CommandError as exc:
        return out.getvalue(), exc.returncode
    return out.getvalue(), 0


def lines(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / LOG_NAME).read_text().splitlines()]


def test_a_checkpoint_line_digests_every_head_and_names_its_cases(folder, cases):
    checkpoint = history_checkpoint_write(now=MONDAY)

    assert checkpoint.written and checkpoint.path == folder / LOG_NAME
    (record,) = lines(folder)
    assert record == checkpoint.record
    assert (record["date"], record["cases"], record["events"]) == ("2026-11-23", 3, 6)
    assert record["last_id"] == cases[-1].pk
    heads = gzip.decompress((folder / record["heads"]).read_bytes()).decode()
    rows = [line.split("\t") for line in heads.splitlines()]
    assert [(int(r[0]), r[1], int(r[2])) for r in rows] == [(c.pk, c.reference, 2) for c in cases]
    # The digest can be recomputed from the database by hand: reference:count:head, by id.
    import hashlib

    text = "".join(
        f"{r}:{n}:{h}\n"
        for r, n, h in Complaint.objects.order_by("pk").values_list(
            "reference", "history_count", "history_head"
        )
    )
    assert record["digest"] == hashlib.sha256(text.encode()).hexdigest()

    out, status = verify("--checkpoint", str(folder / LOG_NAME))
    assert status == 0
    assert out.splitlines() == [
        "OK: 6 events in 3 complaints verified",
        "OK: checkpoint of 2026-11-23: 3 complaints each still there, none gone back",
    ]


def test_the_job_writes_once_a_day(folder, cases):
    """Hourly runs: the first of each (local) day writes; the others return that line."""
    first = history_checkpoint_write(now=MONDAY)
    CaseEvent.objects.record(complaint=cases[0], kind=CaseEvent.Kind.NOTE, actor=None, reason="x")
    again = history_checkpoint_write(now=MONDAY.replace(minute=59))

    assert not again.written and again.record == first.record
    assert len(lines(folder)) == 1
    assert len(list(folder.glob("heads-*"))) == 1

    tuesday = history_checkpoint_write(now=MONDAY.replace(day=24, hour=0, minute=30))
    assert tuesday.written
    assert [r["date"] for r in lines(folder)] == ["2026-11-23", "2026-11-24"]
    assert [r["events"] for r in lines(folder)] == [6, 7]


def test_the_beat_job_calls_the_service_hourly(folder, cases):
    entry = beat_schedule()["history-checkpoint"]
    assert (entry["task"], entry["schedule"]) == ("complaints.tasks.history_checkpoint", 3600.0)

    with time_machine.travel(MONDAY, tick=False):
        tasks.history_checkpoint()
        tasks.history_checkpoint()
    (record,) = lines(folder)
    assert (record["date"], record["cases"]) == ("2026-11-23", 3)


def test_the_command_writes_the_same_checkpoint(folder, cases):
    out = StringIO()
    with time_machine.travel(MONDAY, tick=False):
        call_command("history_checkpoint", stdout=out)
        call_command("history_checkpoint", stdout=out)
    first, second = out.getvalue().splitlines()
    assert first.startswith(f"Wrote checkpoint of 2026-11-23 to {folder / LOG_NAME}: 3 complaints")
    assert second.startswith("Already written: checkpoint of 2026-11-23")


def test_a_complaint_deleted_with_its_history_is_named(folder, cases):
    history_checkpoint_write(now=MONDAY)
    gone = cases[1]
    rows_delete(Complaint, [gone.pk])
    later = complaint_make()  # made after the checkpoint: not in it, and fine

    assert history_verify() == []  # nothing left in the database to see
    comparison = history_checkpoint_compare(log_path=folder / LOG_NAME)
    (problem,) = comparison.problems
    assert str(problem) == (
        f"{gone.reference}: in the checkpoint of 2026-11-23 with 2 events, missing now "
        "(the complaint was deleted with its history)"
    )
    out, status = verify("--checkpoint", str(folder / LOG_NAME))
    assert status == 1 and out == str(problem) + "\n"
    assert later.reference not in out


def test_a_history_cut_with_its_head_moved_back_is_caught(folder, cases):
    """Someone who also rewinds the head on the case fools verify_history, not the checkpoint."""
    history_checkpoint_write(now=MONDAY)
    case = cases[0]
    first = case.events.get(seq=1)
    sql(f"DELETE FROM {EVENTS} WHERE complaint_id = %s AND seq = 2", [case.pk])
    sql(
        f"UPDATE {COMPLAINTS} SET history_count = 1, history_head = %s WHERE id = %s",
        [first.hash, case.pk],
    )

    assert history_verify() == []
    (problem,) = history_checkpoint_compare(log_path=folder / LOG_NAME).problems
    assert str(problem) == (
        f"{case.reference}: the history went back from 2 events (checkpoint of 2026-11-23) to 1"
    )


def test_a_history_rewritten_and_grown_since_the_checkpoint_is_caught(folder, cases):
    """A whole chain recomputed from #2 on, then extended, no longer passes through the old #2."""
    history_checkpoint_write(now=MONDAY)
    case = cases[2]
    note = case.events.get(seq=2)
    note.reason = "Never called."
    sql(
        f"UPDATE {EVENTS} SET reason = %s, hash = %s WHERE id = %s",
        [note.reason, event_hash(note), note.pk],
    )
    sql(f"UPDATE {COMPLAINTS} SET history_head = %s WHERE id = %s", [event_hash(note), case.pk])
    CaseEvent.objects.record(
        complaint=Complaint.objects.get(pk=case.pk),
        kind=CaseEvent.Kind.NOTE,
        actor=None,
        reason="x",
    )

    assert history_verify() == []
    (problem,) = history_checkpoint_compare(log_path=folder / LOG_NAME).problems
    assert str(problem) == (
        f"{case.reference}: event #2 no longer has the hash it had on 2026-11-23 "
        "(the history was rewritten)"
    )


def test_without_its_heads_file_the_count_still_shows_a_deletion(folder, cases):
    record = history_checkpoint_write(now=MONDAY).record
    (folder / record["heads"]).unlink()
    assert verify("--checkpoint", str(folder / LOG_NAME)) == (
        "OK: 6 events in 3 complaints verified\n"
        "OK: checkpoint of 2026-11-23: 3 complaints counted\n",
        0,
    )

    rows_delete(Complaint, [cases[0].pk])
    comparison = history_checkpoint_compare(log_path=folder / LOG_NAME)
    assert [str(p) for p in comparison.problems] == [
        f"checkpoint: the checkpoint of 2026-11-23 counted 3 complaints up to id "
        f"{cases[-1].pk}; 2 remain: 1 deleted"
    ]
    assert "only the number of cases was compared" in comparison.notes[0]


def test_a_heads_file_altered_to_hide_a_deletion_is_caught(folder, cases):
    record = history_checkpoint_write(now=MONDAY).record
    heads = folder / record["heads"]
    rows = gzip.decompress(heads.read_bytes()).decode().splitlines()
    heads.write_bytes(gzip.compress(("\n".join(rows[1:]) + "\n").encode()))

    messages = [p.message for p in history_checkpoint_compare(log_path=folder / LOG_NAME).problems]
    assert messages == [
        f"heads file {record['heads']} is not the one written on 2026-11-23",
        f"heads file {record['heads']} does not match its digest",
    ]


def test_an_unreadable_checkpoint_is_a_usage_error(folder, tmp_path):
    assert verify("--checkpoint", str(tmp_path / "none.jsonl"))[1] == 2
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(CommandError, match="No checkpoint in"):
        call_command("verify_history", "--checkpoint", str(empty), stdout=StringIO())
