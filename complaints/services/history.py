"""The hash chain over each complaint's case history, and the check that it is intact.

Every ``CaseEvent`` carries ``seq`` (its place in the complaint's history, from 1), ``prev_hash``
(the ``hash`` of the event before it; empty for the first) and ``hash``, the SHA-256 (lower-case
hex) of the UTF-8 bytes of this canonical JSON (``json.dumps`` with ``sort_keys=True``,
``separators=(",", ":")``, ``ensure_ascii=True``, ``allow_nan=False``)::

    {"v": 1,                          # version of this definition
     "complaint": <complaint id, integer>,
     "seq": <integer>,
     "kind": <string>,
     "actor": <user id, integer, or null when the system acted>,
     "actor_label": <string>,
     "from_status": <string>, "to_status": <string>,
     "reason": <string>,
     "at": "<YYYY-MM-DDTHH:MM:SS.ffffffZ, in UTC>",
     "extra": <the JSON object, keys sorted>,
     "prev_hash": <string>}

Changing a row's content breaks its own hash; rewriting its hash too breaks the next row's
``prev_hash``; deleting a row leaves a gap in ``seq``. The complaint keeps the chain's head
(``history_count``, the last ``seq``, and ``history_head``, its ``hash``), written in the same
transaction as each event: deleting the last rows, or all of them, or rewriting the last row
with a fresh hash, leaves a chain that no longer reaches the head.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby
from operator import attrgetter

from complaints.models import CaseEvent, Complaint

HASH_VERSION = 1
CHUNK_SIZE = 2000


def _utc_iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_canonical(event) -> str:
    """Return the canonical JSON of an event's content and its link to the event before."""
    payload = {
        "v": HASH_VERSION,
        "complaint": event.complaint_id,
        "seq": event.seq,
        "kind": str(event.kind),
        "actor": event.actor_id,
        "actor_label": str(event.actor_label),
        "from_status": str(event.from_status),
        "to_status": str(event.to_status),
        "reason": str(event.reason),
        "at": _utc_iso(event.at),
        "extra": event.extra,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )


def event_hash(event) -> str:
    """Return the hex SHA-256 of an event's canonical JSON (works on historical models too)."""
    return hashlib.sha256(event_canonical(event).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a complaint's history (event_id and seq empty for the whole case)."""

    complaint_id: int
    complaint_reference: str
    event_id: int | None
    seq: int | None
    message: str

    def __str__(self) -> str:
        if self.event_id is None:
            return f"{self.complaint_reference}: {self.message}"
        return f"{self.complaint_reference}: event {self.event_id} (#{self.seq}): {self.message}"


def _span(first: int, last: int) -> str:
    return f"#{first}" if first == last else f"#{first} to #{last}"


def _chain_problems(events, found: list, *, head_seq: int = 0) -> tuple[int, str | None]:
    """Check one complaint's events, in seq order; return the last seq and #head_seq's hash."""
    expected_seq, previous_hash, hash_at_head = 1, "", None
    for event in events:
        messages = []
        if event.seq > expected_seq:
            messages.append(
                f"gap in the history: {_span(expected_seq, event.seq - 1)} missing (deleted)"
            )
        elif event.seq < expected_seq:
            messages.append(f"position #{event.seq} is used twice")
        elif event.prev_hash != previous_hash:
            messages.append("broken link: prev_hash is not the hash of the event before")
        if event_hash(event) != event.hash:
            messages.append("content does not match its hash (the row was altered)")
        found.extend((event.complaint_id, event.pk, event.seq, m) for m in messages)
        expected_seq, previous_hash = event.seq + 1, event.hash
        if event.seq == head_seq:
            hash_at_head = event.hash
    return expected_seq - 1, hash_at_head


def _head_problem(count: int, head: str, last_seq: int, hash_at: str | None) -> str | None:
    """Compare the head stored on a complaint with its chain as read."""
    if count == 0 or (last_seq > count and hash_at is None):
        # No head yet; or #count is missing before later events: a gap already reported.
        return None
    if last_seq == 0:
        return f"all {count} events of the history are missing (deleted)"
    if last_seq < count:
        return (
            f"the history ends at #{last_seq} but {count} events were recorded: "
            f"{_span(last_seq + 1, count)} missing (cut from the end)"
        )
    if hash_at != head:
        return (
            f"event #{count} is not the last event recorded on the case "
            "(its hash differs from the case's head: the history was rewritten)"
        )
    return None


def history_verify(*, complaint_ids=None) -> list[Problem]:
    """Walk each complaint's chain and compare it with the head stored on the complaint.

    Returns every altered row, broken link and gap, and every history cut short or gone
    (fewer events than the complaint records, or a last hash that is not its head).
    """
    heads = Complaint.objects.order_by("pk").values_list(
        "pk", "reference", "history_count", "history_head"
    )
    events = CaseEvent.objects.order_by("complaint_id", "seq")
    if complaint_ids is not None:
        complaint_ids = list(complaint_ids)
        heads = heads.filter(pk__in=complaint_ids)
        events = events.filter(complaint_id__in=complaint_ids)

    # The heads are read first: history only grows, so events read after them hold at
    # least the event each head names, even while new events are being recorded.
    heads = heads.iterator(chunk_size=CHUNK_SIZE)
    head = next(heads, None)
    groups = groupby(events.iterator(chunk_size=CHUNK_SIZE), key=attrgetter("complaint_id"))
    group = next(groups, None)
    found: list[tuple[int, int | None, int | None, str]] = []
    references: dict[int, str] = {}
    while head is not None or group is not None:
        if group is not None and (head is None or group[0] < head[0]):
            _chain_problems(group[1], found)  # a complaint created after the heads were read
            group = next(groups, None)
            continue
        pk, reference, count, last_hash = head
        references[pk] = reference
        last_seq, hash_at = 0, None
        if group is not None and group[0] == pk:
            last_seq, hash_at = _chain_problems(group[1], found, head_seq=count)
            group = next(groups, None)
        message = _head_problem(count, last_hash, last_seq, hash_at)
        if message:
            found.append((pk, None, None, message))
        head = next(heads, None)

    missing = {f[0] for f in found} - references.keys()
    references.update(Complaint.objects.filter(pk__in=missing).values_list("pk", "reference"))
    return [
        Problem(
            complaint_id=complaint_id,
            complaint_reference=references.get(complaint_id, f"complaint {complaint_id}"),
            event_id=event_id,
            seq=seq,
            message=message,
        )
        for complaint_id, event_id, seq, message in found
    ]
