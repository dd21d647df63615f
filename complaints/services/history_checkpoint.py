"""Daily checkpoints of every case's history head, kept outside the database.

The heads stored on complaints show a history cut short, but not a complaint deleted with
its whole history. Once a day ``history_checkpoint_write`` appends one JSON line to
``checkpoints.jsonl`` in ``REDRESS_HISTORY_CHECKPOINT_DIR``::

    {"at": "<ISO time>", "cases": <complaints>, "date": "<local date>",
     "digest": "<SHA-256 over 'reference:count:head\\n' for every complaint, by id>",
     "events": <sum of the counts>, "heads": "<heads file name>",
     "heads_sha256": "<SHA-256 of that file>", "last_id": <highest complaint id>, "v": 1}

and writes the heads file it names (gzip, one ``id<TAB>reference<TAB>count<TAB>head`` line
per complaint, by id), so that a vanished case can be named. The log is only ever opened
for appending and a heads file is never rewritten. A second run on the same date writes
nothing and returns the line already there.

``history_checkpoint_compare`` checks the database against a checkpoint: every case in it
must still exist, with at least as many events, and the event at the checkpoint's count
must still have the checkpoint's hash. Without the heads file only the number of cases up
to ``last_id`` is compared.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from complaints.models import CaseEvent, Complaint
from complaints.services.history import CHUNK_SIZE, Problem

LOG_NAME = "checkpoints.jsonl"
VERSION = 1
PAIRS_PER_QUERY = 200  # (complaint, seq) pairs looked up at once


class CheckpointError(Exception):
    """The checkpoint file cannot be read."""


@dataclass(frozen=True)
class Checkpoint:
    """One line of the checkpoint log; `written` is False when the day had one already."""

    record: dict
    path: Path
    written: bool


@dataclass
class Comparison:
    """What comparing the database with a checkpoint found."""

    checkpoint: dict
    problems: list[Problem]
    cases_checked: int
    notes: list[str]


def _heads():
    return (
        Complaint.objects.order_by("pk")
        .values_list("pk", "reference", "history_count", "history_head")
        .iterator(chunk_size=CHUNK_SIZE)
    )


def _head_line(reference: str, count: int, head: str) -> bytes:
    return f"{reference}:{count}:{head}\n".encode()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checkpoint_directory() -> Path:
    """Return the folder of the checkpoint log (REDRESS_HISTORY_CHECKPOINT_DIR)."""
    return Path(settings.REDRESS_HISTORY_CHECKPOINT_DIR)


def history_checkpoint_write(*, now: datetime, directory: Path | None = None) -> Checkpoint:
    """Append today's checkpoint of every case's history head, unless today has one."""
    directory = Path(directory or checkpoint_directory())
    directory.mkdir(parents=True, exist_ok=True)
    log_path = directory / LOG_NAME
    day = timezone.localdate(now).isoformat()
    # "a+": every write goes to the end; reading from the start finds today's line.
    with open(log_path, "a+", encoding="utf-8") as log:
        fcntl.flock(log, fcntl.LOCK_EX)  # two workers on the same day write one line
        log.seek(0)
        for line in log:
            if line.strip() and json.loads(line).get("date") == day:
                return Checkpoint(record=json.loads(line), path=log_path, written=False)

        # A new name each run: a run that died half-way never has its file reused.
        heads_name = f"heads-{timezone.localtime(now):%Y-%m-%dT%H%M%S}.tsv.gz"
        heads_path = directory / heads_name
        digest, cases, events, last_id = hashlib.sha256(), 0, 0, 0
        with open(heads_path, "xb") as raw, gzip.GzipFile(fileobj=raw, mode="wb") as out:
            for pk, reference, count, head in _heads():
                out.write(f"{pk}\t{reference}\t{count}\t{head}\n".encode())
                digest.update(_head_line(reference, count, head))
                cases, events, last_id = cases + 1, events + count, pk
            out.close()
            raw.flush()
            os.fsync(raw.fileno())
        record = {
            "v": VERSION,
            "date": day,
            "at": now.isoformat(),
            "cases": cases,
            "events": events,
            "last_id": last_id,
            "digest": digest.hexdigest(),
            "heads": heads_name,
            "heads_sha256": _file_sha256(heads_path),
        }
        log.seek(0, os.SEEK_END)
        log.write(json.dumps(record, sort_keys=True) + "\n")
        log.flush()
        os.fsync(log.fileno())
    return Checkpoint(record=record, path=log_path, written=True)


def checkpoint_read(log_path: Path) -> dict:
    """Return the last checkpoint in a log file."""
    try:
        with open(log_path, encoding="utf-8") as log:
            lines = [line for line in log if line.strip()]
    except OSError as exc:
        raise CheckpointError(f"Cannot read checkpoint file {log_path}: {exc.strerror}.") from exc
    if not lines:
        raise CheckpointError(f"No checkpoint in {log_path}.")
    try:
        record = json.loads(lines[-1])
    except ValueError:
        record = None
    keys = {"date", "cases", "last_id", "digest", "heads", "heads_sha256"}
    if not isinstance(record, dict) or not keys <= record.keys():
        raise CheckpointError(f"The last line of {log_path} is not a checkpoint.")
    return record


def _heads_read(path: Path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            pk, reference, count, head = line.rstrip("\n").split("\t")
            yield int(pk), reference, int(count), head


def history_checkpoint_compare(*, log_path: Path) -> Comparison:
    """Compare every case's history head with the last checkpoint in `log_path`."""
    log_path = Path(log_path)
    record = checkpoint_read(log_path)
    day = record["date"]
    problems: list[Problem] = []
    notes: list[str] = []
    heads_path = log_path.parent / record["heads"]

    if not heads_path.exists():
        now_cases = Complaint.objects.filter(pk__lte=record["last_id"]).count()
        notes.append(
            f"heads file {record['heads']} not found next to {log_path.name}: "
            "only the number of cases was compared"
        )
        if now_cases < record["cases"]:
            problems.append(
                Problem(
                    complaint_id=0,
                    complaint_reference="checkpoint",
                    event_id=None,
                    seq=None,
                    message=(
                        f"the checkpoint of {day} counted {record['cases']} complaints up to "
                        f"id {record['last_id']}; {now_cases} remain: "
                        f"{record['cases'] - now_cases} deleted"
                    ),
                )
            )
        return Comparison(record, problems, 0, notes)

    def problem(pk: int, reference: str, message: str) -> None:
        problems.append(Problem(pk, reference, None, None, message))

    if _file_sha256(heads_path) != record["heads_sha256"]:
        problem(0, "checkpoint", f"heads file {record['heads']} is not the one written on {day}")

    digest, cases, grown = hashlib.sha256(), 0, []
    now_heads = _heads()
    current = next(now_heads, None)
    for pk, reference, count, head in _heads_read(heads_path):
        digest.update(_head_line(reference, count, head))
        cases += 1
        while current is not None and current[0] < pk:
            current = next(now_heads, None)
        if current is None or current[0] != pk:
            problem(
                pk,
                reference,
                f"in the checkpoint of {day} with {count} events, missing now "
                "(the complaint was deleted with its history)",
            )
            continue
        _pk, now_reference, now_count, now_head = current
        if now_reference != reference:
            problem(pk, reference, f"complaint {pk} is now called {now_reference}")
        if now_count < count:
            problem(
                pk,
                reference,
                f"the history went back from {count} events (checkpoint of {day}) to {now_count}",
            )
        elif now_count == count and now_head != head:
            problem(
                pk,
                reference,
                f"the last event #{count} changed since the checkpoint of {day} "
                "(the history was rewritten)",
            )
        elif now_count > count and count > 0:
            grown.append((pk, reference, count, head))
    if cases != record["cases"] or digest.hexdigest() != record["digest"]:
        problem(0, "checkpoint", f"heads file {record['heads']} does not match its digest")

    for start in range(0, len(grown), PAIRS_PER_QUERY):
        batch = grown[start : start + PAIRS_PER_QUERY]
        pairs = Q()
        for pk, _reference, count, _head in batch:
            pairs |= Q(complaint_id=pk, seq=count)
        found = {
            (complaint_id, seq): digest
            for complaint_id, seq, digest in CaseEvent.objects.filter(pairs)
            .order_by()
            .values_list("complaint_id", "seq", "hash")
        }
        for pk, reference, count, head in batch:
            now_hash = found.get((pk, count))
            if now_hash is None:
                problem(pk, reference, f"event #{count}, the head on {day}, is missing now")
            elif now_hash != head:
                problem(
                    pk,
                    reference,
                    f"event #{count} no longer has the hash it had on {day} "
                    "(the history was rewritten)",
                )
    return Comparison(record, problems, cases, notes)
