"""The case history is a hash chain, append-only in the database, and checked by a command."""

import threading
from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from complaints.append_only import (
    guards_missing,
    guards_reinstall_on_post_migrate,
    history_unlocked,
)
from complaints.domain.lifecycle import Status
from complaints.models import CaseEvent, Complaint
from complaints.services.history import event_canonical, event_hash, history_verify
from complaints.services.transitions import complaint_transition
from tests.accounts.factories import StaffUserFactory
from tests.complaints.factories import complaint_make

LONDON = ZoneInfo("Europe/London")
TABLE = CaseEvent._meta.db_table
COMPLAINTS = Complaint._meta.db_table
on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's own guard")


def london(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


@pytest.fixture
def agent():
    return StaffUserFactory(role="support_agent")


@pytest.fixture
def history(agent):
    """A complaint with four events: logged, investigating, a note, responded."""
    with time_machine.travel(london(2026, 11, 23, 10, 0), tick=False):
        complaint = complaint_make()
        complaint_transition(
            complaint=complaint, to=Status.INVESTIGATING, actor=agent, reason="Looking."
        )
        CaseEvent.objects.record(
            complaint=complaint,
            kind=CaseEvent.Kind.NOTE,
            actor=agent,
            reason="Called the customer.",
            extra={"b": [1, 2], "a": {"z": "é", "y": None}},
        )
        complaint_transition(complaint=complaint, to=Status.RESPONDED, actor=agent, reason="Done")
    return complaint


def tamper(sql: str, params) -> None:
    """Change the history behind the application's back, as someone with SQL access could.

    The triggers refuse this, so it goes through the sanctioned unlock: a flag on this
    connection on SQLite; on PostgreSQL the table owner disables the triggers for this
    test's transaction only (rolled back with the test).
    """
    with history_unlocked(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def verify_command(*args) -> tuple[str, int]:
    out = StringIO()
    try:
        call_command("verify_history", *args, stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc.returncode
    return out.getvalue(), 0


@pytest.mark.django_db
def test_record_chains_each_event_to_the_one_before(history):
    events = list(history.events.order_by("seq"))

    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert events[0].prev_hash == ""
    for before, event in zip(events, events[1:], strict=False):
        assert event.prev_hash == before.hash
    for event in events:
        assert len(event.hash) == 64
        assert event.hash == event_hash(event)  # as read back from the database


def test_hash_definition_is_pinned():
    """The definition in services.history is a contract: old chains must keep verifying."""
    event = CaseEvent(
        complaint_id=7,
        seq=2,
        kind=CaseEvent.Kind.STATUS_CHANGED,
        actor_id=3,
        actor_label="Ann Agent",
        from_status="logged",
        to_status="investigating",
        reason="Looking into it – today.",
        at=london(2026, 11, 23, 10, 0, 0, 250),
        extra={"b": 1, "a": ["x"]},
        prev_hash="ab" * 32,
    )
    assert event_canonical(event) == (
        '{"actor":3,"actor_label":"Ann Agent","at":"2026-11-23T10:00:00.000250Z","complaint":7,'
        '"extra":{"a":["x"],"b":1},"from_status":"logged","kind":"status_changed",'
        '"prev_hash":"' + "ab" * 32 + '","reason":"Looking into it \\u2013 today.","seq":2,'
        '"to_status":"investigating","v":1}'
    )
    assert event_hash(event) == "1b833787482a977227fc06f2e51add2e655322425c0da1cb85a686b94dbb73d8"


@pytest.mark.django_db
def test_verify_passes_on_an_untouched_history(history):
    complaint_make()  # a second complaint with its own chain

    assert history_verify() == []
    assert history_verify(complaint_ids=[history.pk]) == []
    assert verify_command() == ("OK: 5 events in 2 complaints verified\n", 0)
    assert verify_command("--complaint", history.reference) == (
        "OK: 4 events in 1 complaints verified\n",
        0,
    )


@pytest.mark.django_db
def test_an_altered_row_is_reported(history):
    note = history.events.get(seq=3)
    other = complaint_make()
    tamper(f"UPDATE {TABLE} SET reason = %s WHERE id = %s", ["Nothing happened.", note.pk])

    (problem,) = history_verify()
    assert (problem.complaint_id, problem.event_id, problem.seq) == (history.pk, note.pk, 3)
    assert "does not match its hash" in problem.message

    out, status = verify_command()
    assert status == 1
    assert out == (
        f"{history.reference}: event {note.pk} (#3): "
        "content does not match its hash (the row was altered)\n"
    )
    assert verify_command("--complaint", other.reference)[1] == 0


@pytest.mark.django_db
def test_a_row_rewritten_with_a_fresh_hash_breaks_the_next_link(history):
    note = history.events.get(seq=3)
    note.reason = "Nothing happened."
    tamper(
        f"UPDATE {TABLE} SET reason = %s, hash = %s WHERE id = %s",
        [note.reason, event_hash(note), note.pk],
    )

    (problem,) = history_verify()
    assert problem.event_id == history.events.get(seq=4).pk
    assert problem.message.startswith("broken link")


@pytest.mark.django_db
def test_a_deleted_row_leaves_a_gap(history):
    note = history.events.get(seq=3)
    tamper(f"DELETE FROM {TABLE} WHERE id = %s", [note.pk])

    (problem,) = history_verify()
    assert problem.event_id == history.events.get(seq=4).pk
    assert problem.message == "gap in the history: #3 missing (deleted)"
    out, status = verify_command("--complaint", history.reference)
    assert status == 1 and "#3 missing" in out


@pytest.mark.django_db
def test_verify_names_an_unknown_reference():
    with pytest.raises(CommandError, match="No complaint with reference 'CMP-1'"):
        call_command("verify_history", "--complaint", "CMP-1", stdout=StringIO())


@pytest.mark.django_db
def test_the_database_refuses_update_and_delete_of_history(history):
    """Even raw SQL, which bypasses the model's guards, cannot rewrite or remove history."""
    event = history.events.get(seq=1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {TABLE} SET reason = 'x' WHERE id = %s", [event.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        CaseEvent.objects.filter(pk=event.pk)._raw_delete(CaseEvent.objects.db)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE complaint_id = %s", [history.pk])
    assert history.events.get(seq=1).reason == event.reason
    assert history_verify() == []


@pytest.mark.django_db
def test_the_database_refuses_to_delete_a_complaint(history):
    """A complaint is closed, never deleted: not even with its history removed first."""
    with pytest.raises(DatabaseError, match="never deleted"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {COMPLAINTS} WHERE id = %s", [history.pk])
    assert Complaint.objects.filter(pk=history.pk).exists()
    with connection.cursor() as cursor:  # other changes to the complaint are ordinary
        cursor.execute(f"UPDATE {COMPLAINTS} SET subject = 'x' WHERE id = %s", [history.pk])


@pytest.mark.django_db
def test_the_unlock_lasts_only_for_its_block(history):
    with history_unlocked():
        pass
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE complaint_id = %s", [history.pk])
    assert guards_missing(connection) == []


@on_sqlite
@pytest.mark.django_db(transaction=True)
def test_another_sqlite_client_cannot_delete_history_either():
    """The sqlite3 shell has no unlock function, so its triggers refuse every UPDATE or DELETE."""
    import sqlite3

    complaint = complaint_make()
    other = sqlite3.connect(connection.settings_dict["NAME"])
    try:
        for sql in (
            f"DELETE FROM {TABLE}",
            f"UPDATE {TABLE} SET reason = 'x'",
            f"DELETE FROM {COMPLAINTS}",
        ):
            with pytest.raises(sqlite3.OperationalError, match="redress_history_unlocked"):
                other.execute(sql)
    finally:
        other.close()
    assert complaint.events.count() == 1


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_database_past_the_triggers():
    """Test databases and manage.py flush still work (DELETE on SQLite, TRUNCATE on PG)."""
    complaint_make()
    call_command("flush", interactive=False, verbosity=0)
    assert not Complaint.objects.exists() and not CaseEvent.objects.exists()
    complaint_make()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:  # the guard is back after it
            cursor.execute(f"DELETE FROM {TABLE}")


@pytest.mark.django_db
def test_a_lost_trigger_is_reported_and_put_back_by_migrate(history):
    """SQLite drops a table's triggers when a migration remakes it; migrate puts them back."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER caseevent_append_only_delete")
            lost = "caseevent_append_only_delete"
        else:
            cursor.execute("DROP TRIGGER complaint_never_deleted ON complaints_complaint")
            lost = "complaint_never_deleted"
    assert guards_missing(connection) == [lost]
    out, status = verify_command()
    assert status == 1
    assert f"database: trigger {lost} is missing or disabled" in out

    guards_reinstall_on_post_migrate(sender=None, using="default")
    assert guards_missing(connection) == []
    assert verify_command()[1] == 0


@pytest.mark.django_db
def test_the_last_event_deleted_is_reported_with_the_reference(history):
    last = history.events.get(seq=4)
    tamper(f"DELETE FROM {TABLE} WHERE id = %s", [last.pk])

    (problem,) = history_verify()
    assert (problem.complaint_id, problem.event_id, problem.seq) == (history.pk, None, None)
    assert str(problem) == (
        f"{history.reference}: the history ends at #3 but 4 events were recorded: "
        "#4 missing (cut from the end)"
    )
    out, status = verify_command("--complaint", history.reference)
    assert (out, status) == (str(problem) + "\n", 1)


@pytest.mark.django_db
def test_several_last_events_deleted_are_reported(history):
    tamper(f"DELETE FROM {TABLE} WHERE complaint_id = %s AND seq >= 2", [history.pk])

    (problem,) = history_verify()
    assert problem.message.endswith("#2 to #4 missing (cut from the end)")


@pytest.mark.django_db
def test_every_event_of_a_case_deleted_is_reported(history):
    other = complaint_make()
    tamper(f"DELETE FROM {TABLE} WHERE complaint_id = %s", [history.pk])

    out, status = verify_command()
    assert status == 1
    assert out == f"{history.reference}: all 4 events of the history are missing (deleted)\n"
    assert verify_command("--complaint", other.reference)[1] == 0


@pytest.mark.django_db
def test_the_last_row_rewritten_with_a_fresh_hash_is_reported(history):
    """No event follows the last one to break a link, but the head on the case differs."""
    last = history.events.get(seq=4)
    last.reason = "Nothing happened."
    tamper(
        f"UPDATE {TABLE} SET reason = %s, hash = %s WHERE id = %s",
        [last.reason, event_hash(last), last.pk],
    )

    (problem,) = history_verify()
    assert problem.message.startswith("event #4 is not the last event recorded on the case")


@pytest.mark.django_db
def test_an_event_after_a_cut_tail_leaves_a_gap_not_a_seam(history, agent):
    """The chain goes on from the stored head, so a cut is not hidden by the next event."""
    tamper(f"DELETE FROM {TABLE} WHERE complaint_id = %s AND seq = 4", [history.pk])
    event = CaseEvent.objects.record(
        complaint=history, kind=CaseEvent.Kind.NOTE, actor=agent, reason="Later."
    )

    assert event.seq == 5
    (problem,) = history_verify()
    assert (problem.event_id, problem.message) == (
        event.pk,
        "gap in the history: #4 missing (deleted)",
    )


@pytest.mark.django_db
def test_events_recorded_while_verifying_are_no_problem(history, agent, monkeypatch):
    """The heads are read before the events: history written in between only adds rows."""
    from itertools import groupby

    import complaints.services.history as module

    def groupby_after_more_writes(iterable, key):
        CaseEvent.objects.record(
            complaint=Complaint.objects.get(pk=history.pk),
            kind=CaseEvent.Kind.NOTE,
            actor=agent,
            reason="Written while the heads were being read.",
        )
        complaint_make()  # a case the heads never saw
        return groupby(iterable, key)

    monkeypatch.setattr(module, "groupby", groupby_after_more_writes)
    assert history_verify() == []


@pytest.mark.django_db
def test_record_keeps_the_head_on_the_complaint(history, agent):
    last = history.events.get(seq=4)
    history.refresh_from_db()
    assert (history.history_count, history.history_head) == (4, last.hash)

    event = CaseEvent.objects.record(
        complaint=history, kind=CaseEvent.Kind.NOTE, actor=agent, reason="More."
    )
    assert (history.history_count, history.history_head) == (5, event.hash)  # in memory too
    history.refresh_from_db()
    assert (history.history_count, history.history_head) == (5, event.hash)
    assert event.prev_hash == last.hash


@pytest.mark.django_db
def test_a_stale_copy_saved_after_an_event_keeps_the_head(history, agent):
    """Whole-row saves (clocks_save, transitions, the admin) never write the head back."""
    stale = Complaint.objects.get(pk=history.pk)
    fresh = Complaint.objects.get(pk=history.pk)
    event = CaseEvent.objects.record(
        complaint=fresh, kind=CaseEvent.Kind.NOTE, actor=agent, reason="Meanwhile."
    )
    stale.subject = "Changed by a form loaded earlier"
    stale.save()
    stale.save(update_fields=["subject", "history_count", "history_head"])
    Complaint.objects.only("pk", "subject").get(pk=history.pk).save()

    row = Complaint.objects.get(pk=history.pk)
    assert (row.history_count, row.history_head) == (5, event.hash)
    assert row.subject == "Changed by a form loaded earlier"
    # A stale copy that goes through the status writer (a locked re-read, clocks_save).
    complaint_transition(
        complaint=stale, to=Status.CLOSED, actor=agent, reason="Closed.", closure_reason="withdrawn"
    )
    row.refresh_from_db()
    closed = row.events.get(seq=6)
    assert (row.history_count, row.history_head) == (6, closed.hash)
    assert history_verify() == []


@pytest.mark.django_db
def test_the_migration_backfills_heads_in_one_statement(history):
    """0016 fills history_count and history_head from the events already there."""
    import importlib

    migration = importlib.import_module("complaints.migrations.0016_history_head")
    empty = complaint_make()
    Complaint.objects.filter(pk=empty.pk).update(history_count=0, history_head="")
    tamper(f"DELETE FROM {TABLE} WHERE complaint_id = %s", [empty.pk])
    Complaint.objects.update(history_count=0, history_head="")

    with connection.cursor() as cursor:
        cursor.execute(migration.HEADS_BACKFILL_SQL)
    heads = dict(Complaint.objects.values_list("pk", "history_count"))
    assert heads == {history.pk: 4, empty.pk: 0}
    assert Complaint.objects.get(pk=history.pk).history_head == history.events.get(seq=4).hash
    assert history_verify() == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_events_on_one_complaint_make_one_unbroken_chain():
    """Writers queue on the complaint's row lock, so the chain never forks."""
    complaint = complaint_make()
    writers = 10
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def note(n):
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                CaseEvent.objects.record(
                    complaint=complaint, kind=CaseEvent.Kind.NOTE, actor=None, reason=f"Note {n}"
                )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=note, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert errors == []
    events = list(complaint.events.order_by("seq"))
    assert [e.seq for e in events] == list(range(1, writers + 2))
    assert len({e.prev_hash for e in events}) == len(events)  # no two share a parent
    complaint.refresh_from_db()
    assert (complaint.history_count, complaint.history_head) == (writers + 1, events[-1].hash)
    assert history_verify() == []
