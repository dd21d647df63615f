"""Savepoints only where a failure can be caught and the transaction carry on.

Each service opens its own ``transaction.atomic()`` so it is safe to call alone; nested
inside another, each block is a savepoint: two more round trips (SAVEPOINT, RELEASE) for
every service, history row and reference number. Where the caller's transaction rolls
back as a whole on any error (the portal's complaint form: nothing of a failed filing may
stay), those savepoints protect nothing. Inside ``whole_transaction()``, the services
decorated ``atomic_step`` open no savepoint; anywhere else they behave as
``transaction.atomic``. A block that catches a database error and goes on (a unique
constraint deciding "at most once") keeps its savepoint whatever the mode.

Work that only adds up (the monthly figures' increments) may be gathered and written once
at the end of a whole transaction, still inside it: ``at_end(key, start, finish)``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import transaction


class _Whole:
    """One whole transaction's state: what is gathered to be written at its end."""

    def __init__(self):
        self.gathered: dict[str, tuple[Any, Callable[[Any], None]]] = {}


_WHOLE: ContextVar[_Whole | None] = ContextVar("whole_transaction", default=None)


@contextmanager
def whole_transaction() -> Iterator[None]:
    """One transaction that commits or rolls back as a whole, without inner savepoints.

    What was gathered with ``at_end`` is written just before the commit (inside the
    transaction, so it commits or rolls back with everything else); nothing of it is
    written when the block fails.
    """
    with transaction.atomic():
        whole = _Whole()
        token = _WHOLE.set(whole)
        try:
            yield
        finally:
            _WHOLE.reset(token)
        for state, finish in whole.gathered.values():
            finish(state)


def at_end(key: str, start: Callable[[], Any], finish: Callable[[Any], None]) -> Any | None:
    """Inside whole_transaction(): the state gathered under `key` (made by `start()` the
    first time; `finish(state)` writes it at the end of the transaction). Elsewhere None:
    the caller writes at once."""
    whole = _WHOLE.get()
    if whole is None:
        return None
    if key not in whole.gathered:
        whole.gathered[key] = (start(), finish)
    return whole.gathered[key][0]


def step() -> transaction.Atomic:
    """transaction.atomic() for one step: no savepoint inside whole_transaction()."""
    return transaction.atomic(savepoint=_WHOLE.get() is None)


def atomic_step(func):
    """Decorate a service as transaction.atomic, without a savepoint in whole_transaction()."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with step():
            return func(*args, **kwargs)

    return wrapper
