"""The case history is a hash chain, append-only in the database, and checked by a command."""

import threading
from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from complaints.domain.lifecycle import Status
from complaints.models import CaseEvent
from complaints.services.history import event_canonical, event_hash, history_verify
from complaints.services.transitions import complaint_transition
from tests.accounts.factories import StaffUserFactory
from tests.complaints.factories import complaint_make

LONDON = ZoneInfo("Europe/London")
TABLE = CaseEvent._meta.db_table
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only"
)


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

    On PostgreSQL the trigger refuses this, so the table owner disables it for this test's
    transaction only (rolled back with the test); first the foreign-key checks Django defers
    are run, because ALTER TABLE is refused while such checks are pending.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER caseevent_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER caseevent_append_only")


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


@on_postgresql
@pytest.mark.django_db
def test_the_database_refuses_update_and_delete_of_history(history):
    """Even raw SQL, which bypasses the model's guards, cannot rewrite or remove history."""
    event = history.events.get(seq=1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {TABLE} SET reason = 'x' WHERE id = %s", [event.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        CaseEvent.objects.filter(pk=event.pk)._raw_delete(CaseEvent.objects.db)
    assert history.events.get(seq=1).reason == event.reason
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
    assert history_verify() == []
