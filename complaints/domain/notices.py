"""How a written notice reaches the customer: the agreed contact method and recorded needs.

Pure Python. COP-04 and COP-13: notices use the agreed method; the Code's written
letters (COP-15, COP-16, COP-17) must be in writing even when the customer prefers the
phone. Issue 15 item 2 (Ofcom GC C5): a format the customer asked for because of their
needs (large print, plain text in the email, by phone with a written copy, "please
call, don't write") wins over the agreed method for every notice. This module is the one
place that decides it; every sender goes through ``notice_delivery``.
"""

from __future__ import annotations

from dataclasses import dataclass

EMAIL = "email"
PORTAL = "portal"
POST = "post"
PHONE = "phone"
WRITTEN = (EMAIL, POST, PORTAL)

# The customer's communication format (accounts.models.CommunicationFormat values).
STANDARD = "standard"
LARGE_PRINT = "large_print"
EMAIL_TEXT = "email_text"
PHONE_WITH_COPY = "phone_with_copy"

# Notices that are letters the Code and Ofcom require in writing: sent in writing even
# to a customer who asked us to call, not write (COP-15 final proposition, COP-16 ADR
# letter, COP-17 deadlock letter).
WRITTEN_BY_RULE = frozenset({"adr_letter", "deadlock", "final_proposition"})


def contact_details_missing(method: str, *, phone: str, postal_address: str) -> dict[str, str]:
    """What the customer must add for the contact method they chose, by field, if anything.

    A method we cannot use would make every notice quietly go another way (see
    ``notice_delivery``), so choosing post needs an address and the phone a number.
    """
    if method == POST and not (postal_address or "").strip():
        return {
            "postal_address": "Enter your postal address, or choose another way to contact you."
        }
    if method == PHONE and not (phone or "").strip():
        return {"phone": "Enter a telephone number, or choose another way to contact you."}
    return {}


def letter_in_large_print(communication_format: str) -> bool:
    """Return whether a notice's PDF letter takes the large-print layout."""
    return communication_format == LARGE_PRINT


def email_attaches_letter(communication_format: str) -> bool:
    """Return whether a notice's email carries its PDF letter.

    Not for plain text in the email: then the whole letter is the email's body.
    """
    return communication_format != EMAIL_TEXT


@dataclass(frozen=True)
class Delivery:
    """How one notice goes out: its ``channels`` in order (a staff call first), and the
    ``format`` recorded on the notice, which decides its letter's layout and whether an
    email carries the PDF."""

    channels: tuple[str, ...]
    format: str = STANDARD

    @property
    def large_print(self) -> bool:
        return letter_in_large_print(self.format)

    @property
    def attach_letter(self) -> bool:
        return email_attaches_letter(self.format)


def _written_way(contact_method: str, communication_format: str, possible: dict) -> str | None:
    """Return the written channel for the notice, or None when there is no written way."""
    if communication_format == LARGE_PRINT:
        order = (POST, EMAIL, PORTAL)  # large print is a printed letter when we can post one
    elif communication_format == EMAIL_TEXT:
        order = (EMAIL, POST, PORTAL)
    elif contact_method in WRITTEN:
        order = (contact_method, *(c for c in WRITTEN if c != contact_method))
    else:
        order = WRITTEN
    return next((c for c in order if possible[c]), None)


def notice_delivery(
    kind: str,
    contact_method: str,
    *,
    communication_format: str = STANDARD,
    call_dont_write: bool = False,
    has_email: bool,
    has_postal_address: bool,
    has_portal_login: bool,
    has_phone: bool = True,
) -> Delivery:
    """Return how notice `kind` reaches a customer, given the agreed method and their needs.

    Without recorded needs: the agreed method when the customer can be reached that way;
    a customer who agreed to be phoned gets a staff call and a written copy; otherwise
    the first written way possible (email, post, portal); with no way at all, staff phone.

    Needs win over the agreed method. Large print: a large-print letter by post (or, with
    no postal address, the large-print PDF by the next written way). Plain text in the
    email: the whole letter in the email's body, no attachment. By phone with a written
    copy: a staff call and the written copy by the customer's written way. "Please call,
    don't write": a staff call only, except for the letters the Code requires in writing,
    which also go in writing; with no telephone number on file, in writing.
    """
    possible = {EMAIL: has_email, POST: has_postal_address, PORTAL: has_portal_login}
    written = _written_way(contact_method, communication_format, possible)
    wants_call = contact_method == PHONE or communication_format == PHONE_WITH_COPY
    if call_dont_write and has_phone:
        wants_call = True
        if kind not in WRITTEN_BY_RULE:
            written = None
    if wants_call or not written:
        channels = (PHONE, written) if written else (PHONE,)
    else:
        channels = (written,)
    return Delivery(channels=channels, format=communication_format)


def delivery_channels(
    contact_method: str,
    *,
    has_email: bool,
    has_postal_address: bool,
    has_portal_login: bool,
) -> tuple[str, ...]:
    """Return the channels a notice goes out on for the agreed method, with no recorded needs."""
    return notice_delivery(
        "",
        contact_method,
        has_email=has_email,
        has_postal_address=has_postal_address,
        has_portal_login=has_portal_login,
    ).channels
