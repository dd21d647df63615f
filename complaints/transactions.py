"""Savepoints only where a failure can be caught and the transaction carry on.

Each service opens its own ``transaction.atomic()`` so it is safe to call alone; nested
inside another, each block is a savepoint: two more round trips (SAVEPOINT, RELEASE) for
every service, history row and reference number. Where the caller's transaction rolls
back as a whole on any error (the portal's complaint form: nothing of a failed filing may
stay), those savepoints protect nothing. Inside ``whole_transaction()``, the services
decorated ``atomic_step`` open no savepoint; anywhere else they behave as
``transaction.atomic``. A block that catches a database error and goes on (a unique
constraint deciding "at most once") keeps its savepoint whatever the mode.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction

_WHOLE: ContextVar[bool] = ContextVar("whole_transaction", default=False)


@contextmanager
def whole_transaction() -> Iterator[None]:
    """One transaction that commits or rolls back as a whole, without inner savepoints."""
    with transaction.atomic():
        token = _WHOLE.set(True)
        try:
            yield
        finally:
            _WHOLE.reset(token)


def step() -> transaction.Atomic:
    """transaction.atomic() for one step: no savepoint inside whole_transaction()."""
    return transaction.atomic(savepoint=not _WHOLE.get())


def atomic_step(func):
    """Decorate a service as transaction.atomic, without a savepoint in whole_transaction()."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with step():
            return func(*args, **kwargs)

    return wrapper
