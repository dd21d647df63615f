"""Which channels and format a notice goes out in: agreed method and recorded needs.

COP-04 and COP-13 (the agreed method), COP-15/16/17 (letters that must be in writing),
issue 15 item 2 (a needs-based format wins over the agreed method, for every notice).
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from complaints.domain.notices import (
    EMAIL,
    EMAIL_TEXT,
    LARGE_PRINT,
    PHONE,
    PHONE_WITH_COPY,
    PORTAL,
    POST,
    STANDARD,
    delivery_channels,
    email_attaches_letter,
    letter_in_large_print,
    notice_delivery,
)

ALL = {"has_email": True, "has_postal_address": True, "has_portal_login": True}
NO_POST = {"has_email": True, "has_postal_address": False, "has_portal_login": True}
NO_EMAIL = {"has_email": False, "has_postal_address": True, "has_portal_login": False}
PORTAL_ONLY = {"has_email": False, "has_postal_address": False, "has_portal_login": True}
NOTHING = {"has_email": False, "has_postal_address": False, "has_portal_login": False}

KINDS = [
    "acknowledgement",
    "response",
    "progress_update",
    "auto_closed",
    "adr_letter",
    "osc_warning",
    "formal_opened",
    "final_proposition",
    "deadlock",
]

# (notice kind, agreed method, format, call-don't-write, reachable by, has phone) → channels
CASES = [
    # No recorded needs: the agreed method, as before.
    ("acknowledgement", EMAIL, STANDARD, False, ALL, True, (EMAIL,)),
    ("acknowledgement", POST, STANDARD, False, ALL, True, (POST,)),
    ("acknowledgement", PORTAL, STANDARD, False, ALL, True, (PORTAL,)),
    ("acknowledgement", PHONE, STANDARD, False, ALL, True, (PHONE, EMAIL)),
    ("acknowledgement", POST, STANDARD, False, NO_POST, True, (EMAIL,)),
    ("acknowledgement", EMAIL, STANDARD, False, NOTHING, True, (PHONE,)),
    # Large print wins over email: a large-print letter by post.
    ("acknowledgement", EMAIL, LARGE_PRINT, False, ALL, True, (POST,)),
    ("adr_letter", PORTAL, LARGE_PRINT, False, ALL, True, (POST,)),
    ("response", PHONE, LARGE_PRINT, False, ALL, True, (PHONE, POST)),
    # ...and with no postal address, the large-print PDF by email, then the portal.
    ("progress_update", POST, LARGE_PRINT, False, NO_POST, True, (EMAIL,)),
    ("progress_update", POST, LARGE_PRINT, False, PORTAL_ONLY, True, (PORTAL,)),
    # Plain text in the email wins over post.
    ("osc_warning", POST, EMAIL_TEXT, False, ALL, True, (EMAIL,)),
    ("response", PHONE, EMAIL_TEXT, False, ALL, True, (PHONE, EMAIL)),
    ("response", EMAIL, EMAIL_TEXT, False, NO_EMAIL, True, (POST,)),
    # By phone with a written copy: a call plus the agreed written way.
    ("auto_closed", POST, PHONE_WITH_COPY, False, ALL, True, (PHONE, POST)),
    ("auto_closed", EMAIL, PHONE_WITH_COPY, False, ALL, True, (PHONE, EMAIL)),
    ("auto_closed", PORTAL, PHONE_WITH_COPY, False, ALL, True, (PHONE, PORTAL)),
    ("deadlock", PHONE, PHONE_WITH_COPY, False, NO_EMAIL, True, (PHONE, POST)),
    ("deadlock", EMAIL, PHONE_WITH_COPY, False, NOTHING, True, (PHONE,)),
    # "Please call, don't write": only a call...
    ("acknowledgement", EMAIL, STANDARD, True, ALL, True, (PHONE,)),
    ("progress_update", POST, LARGE_PRINT, True, ALL, True, (PHONE,)),
    ("osc_warning", EMAIL, PHONE_WITH_COPY, True, ALL, True, (PHONE,)),
    ("formal_opened", PORTAL, STANDARD, True, ALL, True, (PHONE,)),
    # ...except the letters the Code requires in writing (COP-15, COP-16, COP-17)...
    ("adr_letter", EMAIL, STANDARD, True, ALL, True, (PHONE, EMAIL)),
    ("deadlock", EMAIL, LARGE_PRINT, True, ALL, True, (PHONE, POST)),
    ("final_proposition", POST, EMAIL_TEXT, True, ALL, True, (PHONE, EMAIL)),
    # ...and with no telephone number on file, in writing after all.
    ("acknowledgement", EMAIL, STANDARD, True, ALL, False, (EMAIL,)),
    ("acknowledgement", EMAIL, LARGE_PRINT, True, ALL, False, (POST,)),
]


@pytest.mark.parametrize(
    ("kind", "agreed", "fmt", "call_dont_write", "reach", "has_phone", "channels"), CASES
)
def test_needs_decide_the_channels_of_every_notice(
    kind, agreed, fmt, call_dont_write, reach, has_phone, channels
):
    delivery = notice_delivery(
        kind,
        agreed,
        communication_format=fmt,
        call_dont_write=call_dont_write,
        has_phone=has_phone,
        **reach,
    )
    assert delivery.channels == channels
    assert delivery.format == fmt


def test_the_format_decides_the_letter_layout_and_the_email_attachment():
    """Large print only for large print; plain text emails carry no PDF, the rest do."""
    assert letter_in_large_print(LARGE_PRINT)
    assert not any(letter_in_large_print(f) for f in (STANDARD, EMAIL_TEXT, PHONE_WITH_COPY))
    assert not email_attaches_letter(EMAIL_TEXT)
    assert all(email_attaches_letter(f) for f in (STANDARD, LARGE_PRINT, PHONE_WITH_COPY))


def test_the_formats_are_the_ones_staff_and_customers_can_record():
    from accounts.models import CommunicationFormat

    assert {c.value for c in CommunicationFormat} == {
        STANDARD,
        LARGE_PRINT,
        EMAIL_TEXT,
        PHONE_WITH_COPY,
    }


reachable = st.fixed_dictionaries(
    {
        "has_email": st.booleans(),
        "has_postal_address": st.booleans(),
        "has_portal_login": st.booleans(),
    }
)
methods = st.sampled_from([EMAIL, POST, PORTAL, PHONE])
formats = st.sampled_from([STANDARD, LARGE_PRINT, EMAIL_TEXT, PHONE_WITH_COPY])


@given(st.sampled_from(KINDS), methods, formats, st.booleans(), reachable, st.booleans())
def test_every_notice_reaches_the_customer_some_way_and_only_ways_that_exist(
    kind, agreed, fmt, call_dont_write, reach, has_phone
):
    """Property: never an empty delivery; never a written way we cannot use; no repeats;
    a required letter always goes in writing when any written way exists."""
    channels = notice_delivery(
        kind, agreed, communication_format=fmt, call_dont_write=call_dont_write,
        has_phone=has_phone, **reach,
    ).channels  # fmt: skip
    possible = {EMAIL: reach["has_email"], POST: reach["has_postal_address"]}
    possible[PORTAL] = reach["has_portal_login"]
    assert channels and len(set(channels)) == len(channels)
    assert all(possible[c] for c in channels if c != PHONE)
    if kind in ("adr_letter", "deadlock", "final_proposition") and any(possible.values()):
        assert any(c != PHONE for c in channels)
    if fmt == PHONE_WITH_COPY or agreed == PHONE or (call_dont_write and has_phone):
        assert channels[0] == PHONE


@given(methods, reachable)
def test_without_needs_the_agreed_method_is_used_when_it_can_be(agreed, reach):
    """delivery_channels (used by the bench seeder) is the rule with no recorded needs."""
    channels = delivery_channels(agreed, **reach)
    assert channels == notice_delivery("response", agreed, **reach).channels
    key = {EMAIL: "has_email", POST: "has_postal_address", PORTAL: "has_portal_login"}
    if agreed in key and reach[key[agreed]]:
        assert channels == (agreed,)
