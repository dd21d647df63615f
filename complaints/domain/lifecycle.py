"""The status graph of a complaint: which moves are allowed, as data.

Pure Python: the model's choices, the transition service and the admin all read this.
`escalation/` adds the later formal-review states to the same graph.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Where a complaint is in its lifecycle."""

    LOGGED = "logged"
    ACKNOWLEDGED = "acknowledged"
    INVESTIGATING = "investigating"
    AWAITING_THIRD_PARTY = "awaiting_third_party"
    RESPONDED = "responded"
    CLOSED = "closed"
    RESOLVED_AT_FIRST_CONTACT = "resolved_at_first_contact"
    FORMAL = "formal"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]

    @property
    def customer_label(self) -> str:
        return CUSTOMER_LABELS[self]


STATUS_LABELS: dict[Status, str] = {
    Status.LOGGED: "Logged",
    Status.ACKNOWLEDGED: "Acknowledged",
    Status.INVESTIGATING: "Investigating",
    Status.AWAITING_THIRD_PARTY: "Awaiting third party",
    Status.RESPONDED: "Responded",
    Status.CLOSED: "Closed",
    Status.RESOLVED_AT_FIRST_CONTACT: "Resolved at first contact",
    Status.FORMAL: "Formal complaint",
}

# What the customer reads on the portal and in letters: plain English.
CUSTOMER_LABELS: dict[Status, str] = {
    Status.LOGGED: "We have received your complaint",
    Status.ACKNOWLEDGED: "We have received your complaint and are looking into it",
    Status.INVESTIGATING: "We are investigating",
    Status.AWAITING_THIRD_PARTY: "We are waiting for information from another company",
    Status.RESPONDED: "We have sent you our response",
    Status.CLOSED: "Closed",
    Status.RESOLVED_AT_FIRST_CONTACT: "Resolved when you contacted us",
    Status.FORMAL: "A senior manager is reviewing your complaint",
}

_OPEN_WORK = (Status.ACKNOWLEDGED, Status.INVESTIGATING, Status.AWAITING_THIRD_PARTY)

# Allowed moves. Reopening (COP-10) is closed -> investigating; escalation to formal
# (COP-11, COP-15) is possible from every state, including after closure.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.LOGGED: frozenset(
        {*_OPEN_WORK, Status.RESPONDED, Status.RESOLVED_AT_FIRST_CONTACT, Status.FORMAL}
    ),
    Status.ACKNOWLEDGED: frozenset(
        {Status.INVESTIGATING, Status.AWAITING_THIRD_PARTY, Status.RESPONDED, Status.FORMAL}
    ),
    Status.INVESTIGATING: frozenset({Status.AWAITING_THIRD_PARTY, Status.RESPONDED, Status.FORMAL}),
    Status.AWAITING_THIRD_PARTY: frozenset({Status.INVESTIGATING, Status.RESPONDED, Status.FORMAL}),
    # A customer reply after our response puts the case back to staff.
    Status.RESPONDED: frozenset({Status.INVESTIGATING, Status.CLOSED, Status.FORMAL}),
    Status.CLOSED: frozenset({Status.INVESTIGATING, Status.FORMAL}),
    Status.RESOLVED_AT_FIRST_CONTACT: frozenset({Status.INVESTIGATING, Status.FORMAL}),
    # The formal review states are added by escalation/; until then a formal case can
    # only be closed once the senior manager has reported.
    Status.FORMAL: frozenset({Status.CLOSED}),
}

CLOSED_STATUSES: frozenset[Status] = frozenset({Status.CLOSED, Status.RESOLVED_AT_FIRST_CONTACT})
OPEN_STATUSES: frozenset[Status] = frozenset(set(Status) - CLOSED_STATUSES)
REOPEN_TARGET = Status.INVESTIGATING


class IllegalTransition(ValueError):
    """Raised when a complaint is asked to make a move the graph does not allow."""

    def __init__(self, current: Status, to: Status):
        self.current = Status(current)
        self.to = Status(to)
        allowed = ", ".join(sorted(s.label for s in TRANSITIONS[self.current])) or "nothing"
        super().__init__(
            f"A complaint that is '{self.current.label}' cannot move to '{self.to.label}'. "
            f"From '{self.current.label}' it can move to: {allowed}."
        )


def allowed_next(current: Status | str) -> frozenset[Status]:
    """Return the statuses a complaint in `current` may move to."""
    return TRANSITIONS[Status(current)]


def check_transition(current: Status | str, to: Status | str) -> None:
    """Raise IllegalTransition unless the graph allows `current` -> `to`."""
    if Status(to) not in TRANSITIONS[Status(current)]:
        raise IllegalTransition(Status(current), Status(to))


def is_open(status: Status | str) -> bool:
    """Return whether a complaint in `status` still needs the company to act."""
    return Status(status) in OPEN_STATUSES


def is_reopen(current: Status | str, to: Status | str) -> bool:
    """Return whether `current` -> `to` reopens a closed complaint."""
    return Status(current) in CLOSED_STATUSES and Status(to) == REOPEN_TARGET
