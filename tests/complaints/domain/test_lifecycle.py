"""The status graph: labels, reopening (COP-10), escalation (COP-11) and illegal moves."""

from collections import deque
from itertools import product

import pytest

from complaints.domain.lifecycle import (
    CLOSED_STATUSES,
    CUSTOMER_LABELS,
    OPEN_STATUSES,
    REOPEN_TARGET,
    STATUS_LABELS,
    TRANSITIONS,
    IllegalTransition,
    Status,
    allowed_next,
    check_transition,
    is_open,
    is_reopen,
)


@pytest.mark.parametrize("status", list(Status))
def test_every_status_has_staff_and_customer_labels(status):
    assert status.label == STATUS_LABELS[status]
    assert status.customer_label == CUSTOMER_LABELS[status]
    assert status.label.strip()
    assert status.customer_label.strip()


def test_every_status_has_an_entry_in_the_graph():
    assert set(TRANSITIONS) == set(Status)
    assert all(targets <= set(Status) for targets in TRANSITIONS.values())


def test_open_and_closed_statuses_partition_the_statuses():
    assert OPEN_STATUSES | CLOSED_STATUSES == set(Status)
    assert not OPEN_STATUSES & CLOSED_STATUSES
    assert all(is_open(s) == (s in OPEN_STATUSES) for s in Status)


@pytest.mark.parametrize("status", sorted(CLOSED_STATUSES))
def test_cop10_cop11_closed_statuses_only_reopen_or_go_formal(status):
    assert TRANSITIONS[status] == {Status.INVESTIGATING, Status.FORMAL}
    assert REOPEN_TARGET == Status.INVESTIGATING
    assert is_reopen(status, Status.INVESTIGATING)
    assert not is_reopen(status, Status.FORMAL)


def test_is_reopen_only_from_a_closed_status():
    for current in OPEN_STATUSES:
        assert not is_reopen(current, Status.INVESTIGATING)


@pytest.mark.parametrize("status", sorted(set(Status) - {Status.FORMAL}))
def test_cop11_every_status_can_escalate_to_formal(status):
    check_transition(status, Status.FORMAL)


def test_illegal_move_message_names_the_current_status():
    with pytest.raises(IllegalTransition) as caught:
        check_transition(Status.CLOSED, Status.RESPONDED)
    assert caught.value.current == Status.CLOSED
    assert caught.value.to == Status.RESPONDED
    message = str(caught.value)
    assert "'Closed'" in message
    assert "'Responded'" in message
    assert "Investigating" in message  # what it could move to instead


def test_illegal_transition_is_a_value_error():
    with pytest.raises(ValueError):
        check_transition("formal", "logged")


def test_every_status_is_reachable_from_logged():
    seen = {Status.LOGGED}
    queue = deque([Status.LOGGED])
    while queue:
        for nxt in TRANSITIONS[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    assert seen == set(Status)


def test_check_transition_allows_exactly_the_graph():
    for current, to in product(Status, Status):
        if to in TRANSITIONS[current]:
            check_transition(current, to)
            check_transition(current.value, to.value)  # stored strings work too
        else:
            with pytest.raises(IllegalTransition):
                check_transition(current, to)


def test_allowed_next_accepts_stored_strings():
    assert allowed_next("closed") == TRANSITIONS[Status.CLOSED]


def test_unknown_status_string_is_rejected():
    with pytest.raises(ValueError):
        check_transition("logged", "lost")
