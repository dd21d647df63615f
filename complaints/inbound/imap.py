"""Fetch unread mail from an IMAP folder and file each message (COP-05).

A message is marked \\Seen only after its ingest has committed, so a crash or a database
error leaves it unread for the next poll; the ingest's de-duplication makes a message
fetched twice harmless.
"""

from __future__ import annotations

import imaplib
import logging
import re

from django.conf import settings

from complaints.services.inbound import IngestResult, email_ingest

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 60


def fetched_message(data: list) -> bytes | None:
    """Return the message bytes from an imaplib FETCH response, or None if it has none."""
    for item in data or ():
        if isinstance(item, tuple) and len(item) == 2 and re.search(rb"BODY\[\]", item[0]):
            return item[1]
    return None


def _check(response: tuple, what: str) -> list:
    kind, data = response
    if kind != "OK":
        raise imaplib.IMAP4.error(f"IMAP {what} failed: {kind} {data!r}")
    return data


def imap_poll(
    *,
    host: str,
    port: int,
    ssl: bool,
    user: str,
    password: str,
    folder: str = "INBOX",
    mailbox: str | None = None,
) -> list[IngestResult]:
    """File every unread message of `folder`; return what became of each one filed."""
    connect = imaplib.IMAP4_SSL if ssl else imaplib.IMAP4
    results: list[IngestResult] = []
    with connect(host, port, timeout=TIMEOUT_SECONDS) as conn:
        _check(conn.login(user, password), "LOGIN")
        quoted = f'"{folder}"' if " " in folder and not folder.startswith('"') else folder
        _check(conn.select(quoted), f"SELECT {folder}")
        uids = _check(conn.uid("SEARCH", None, "UNSEEN"), "SEARCH")[0].split()
        for uid in uids:
            label = uid.decode()
            # PEEK: fetching must not mark it read; that waits for the ingest to commit.
            raw = fetched_message(_check(conn.uid("FETCH", label, "(BODY.PEEK[])"), "FETCH"))
            if raw is None:
                logger.warning("IMAP message %s of %s has no body; left unread", label, folder)
                continue
            try:
                result = email_ingest(raw=raw, mailbox=mailbox)
            except Exception:  # noqa: BLE001 - leave it unread for the next poll
                logger.exception("IMAP message %s of %s not filed; left unread", label, folder)
                continue
            _check(conn.uid("STORE", label, "+FLAGS", r"(\Seen)"), "STORE")
            logger.info("IMAP message %s of %s: %s", label, folder, result)
            results.append(result)
    return results


def imap_poll_from_settings() -> list[IngestResult]:
    """Poll the mailbox configured in REDRESS_IMAP_*; nothing to do when no host is set."""
    if not settings.REDRESS_IMAP_HOST:
        return []
    return imap_poll(
        host=settings.REDRESS_IMAP_HOST,
        port=settings.REDRESS_IMAP_PORT,
        ssl=settings.REDRESS_IMAP_SSL,
        user=settings.REDRESS_IMAP_USER,
        password=settings.REDRESS_IMAP_PASSWORD,
        folder=settings.REDRESS_IMAP_FOLDER,
    )
