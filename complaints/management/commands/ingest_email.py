"""File inbound email into complaints (COP-05): one message from stdin, or a whole Maildir.

Like RT's mailgate, the mail server can pipe each delivery to it:

    python manage.py ingest_email --mailbox support@example.com < message.eml

With --maildir, every message in new/ and cur/ is filed, oldest first; each one filed is
then moved from new/ to cur/ with the Seen flag, as a mail client would. Messages already
in cur/ are filed too, so a rerun (or a crash half-way) is safe: what was filed before is
recognised by its Message-ID (or bytes) and prints `ignored (duplicate ...)`.

Prints one line per message: `created CMP-...`, `threaded CMP-...`, `ignored (reason)` or
`quarantined (reason)` (a dead letter, kept raw, prints as quarantined). The exit status
is 0 even when messages were ignored or quarantined; 2 for a bad path or mailbox; 1 when
a message could not be stored at all (the error is on stderr; rerun later).
"""

from __future__ import annotations

import mailbox as mailboxes
import os
import re
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from complaints.services.inbound import email_ingest


def _natural(key: str) -> list:
    """Sort Maildir keys (which start with the delivery time) in delivery order."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", key)]


class Command(BaseCommand):
    help = (
        "File inbound email into complaints (COP-05): one RFC 822 message from standard "
        "input, or every message of a Maildir with --maildir. One line per message."
    )
    # call_command("ingest_email", stdin=BytesIO(raw)) reads from the given binary stream.
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument(
            "--maildir", metavar="PATH", help="file every message of this Maildir (new/ and cur/)"
        )
        parser.add_argument(
            "--mailbox",
            metavar="ADDRESS",
            help="the complaints mailbox the mail was sent to (decides the department); "
            "by default the message's recipients say",
        )

    def handle(self, *args, maildir=None, mailbox=None, **options):
        if mailbox and mailbox.strip().lower() not in settings.REDRESS_MAILBOXES:
            known = ", ".join(sorted(settings.REDRESS_MAILBOXES)) or "none configured"
            raise CommandError(
                f"{mailbox} is not a complaints mailbox (REDRESS_MAILBOXES: {known}).",
                returncode=2,
            )
        if maildir:
            failures = self._maildir(maildir, mailbox)
        else:
            stream = options.get("stdin") or sys.stdin.buffer
            raw = stream.read()
            if not raw.strip():
                raise CommandError("No message on standard input.", returncode=2)
            failures = 0 if self._one(raw, mailbox, "standard input") else 1
        if failures:
            raise CommandError(f"{failures} message(s) could not be stored; run again later.")

    def _one(self, raw: bytes, mailbox: str | None, where: str) -> bool:
        try:
            result = email_ingest(raw=raw, mailbox=mailbox)
        except Exception as exc:  # noqa: BLE001 - report, keep going with the next message
            self.stderr.write(f"error ({where}: {type(exc).__name__}: {exc})")
            return False
        self.stdout.write(str(result))
        return True

    def _maildir(self, path: str, mailbox: str | None) -> int:
        if not all(os.path.isdir(os.path.join(path, sub)) for sub in ("new", "cur", "tmp")):
            raise CommandError(
                f"{path} is not a Maildir: it needs new/, cur/ and tmp/ folders.", returncode=2
            )
        folder = mailboxes.Maildir(path, factory=None, create=False)
        new = os.path.join(path, "new")
        waiting = {name.split(folder.colon, 1)[0]: name for name in os.listdir(new)}
        failures = 0
        for key in sorted(folder.keys(), key=_natural):
            try:
                raw = folder.get_bytes(key)
            except KeyError:
                continue  # taken by another reader meanwhile
            if not self._one(raw, mailbox, key):
                failures += 1
                continue
            if key in waiting:
                # Filed: mark it seen as a mail client would (Maildir spec: cur/, ":2,S").
                os.replace(
                    os.path.join(new, waiting[key]),
                    os.path.join(path, "cur", f"{key}{folder.colon}2,S"),
                )
        return failures
