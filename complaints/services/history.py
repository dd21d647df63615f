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
``prev_hash``; deleting a row leaves a gap in ``seq``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

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
    """One thing wrong with a complaint's history."""

    complaint_id: int
    complaint_reference: str
    event_id: int
    seq: int
    message: str

    def __str__(self) -> str:
        return f"{self.complaint_reference}: event {self.event_id} (#{self.seq}): {self.message}"


def history_verify(*, complaint_ids=None) -> list[Problem]:
    """Walk each complaint's chain in order and return every altered row, broken link or gap."""
    events = CaseEvent.objects.order_by("complaint_id", "seq")
    if complaint_ids is not None:
        events = events.filter(complaint_id__in=list(complaint_ids))

    found: list[tuple[int, int, int, str]] = []
    current, expected_seq, previous_hash = None, 1, ""
    for event in events.iterator(chunk_size=CHUNK_SIZE):
        if event.complaint_id != current:
            current, expected_seq, previous_hash = event.complaint_id, 1, ""

        messages = []
        if event.seq > expected_seq:
            missing = f"#{expected_seq}"
            if event.seq > expected_seq + 1:
                missing += f" to #{event.seq - 1}"
            messages.append(f"gap in the history: {missing} missing (deleted)")
        elif event.seq < expected_seq:
            messages.append(f"position #{event.seq} is used twice")
        elif event.prev_hash != previous_hash:
            messages.append("broken link: prev_hash is not the hash of the event before")
        if event_hash(event) != event.hash:
            messages.append("content does not match its hash (the row was altered)")
        found.extend((event.complaint_id, event.pk, event.seq, m) for m in messages)
        expected_seq, previous_hash = event.seq + 1, event.hash

    references = dict(
        Complaint.objects.filter(pk__in={f[0] for f in found}).values_list("pk", "reference")
    )
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
