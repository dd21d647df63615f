"""Which complaints this browser has just filed: the "Complaint sent" page shows only those.

The confirmation page (reference, next step, reply date; COP-05) is for whoever sent the
form, in the browser they sent it from, for a short while. Which complaints those are is
carried in a signed cookie rather than in the session, so that filing writes no session
row (an anonymous filing had none to read either): a stranger cannot read or forge it
(Django's signing, with SECRET_KEY and a salt of its own), it goes only to the form's
pages (path /complain/), scripts cannot read it (HttpOnly), and each complaint in it
counts for FILED_SECONDS after it was filed. It is also bound to who filed: the signed-in
user's id, or none for an anonymous filing, so signing out (or someone else signing in on
the same browser) hides a signed-in customer's confirmation at once, as the session's
flush did.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core import signing
from django.urls import reverse

FILED_COOKIE = "redress_filed"
FILED_SALT = "complaints.portal.filed"
FILED_SECONDS = 60 * 60  # one hour: the page says the same details went by email
FILED_MOST = 10  # the last ten complaints filed from this browser


def _who(request) -> int | None:
    user = request.user
    return user.pk if getattr(user, "is_authenticated", False) else None


def _entries(request) -> list[tuple[int, int]]:
    """The (complaint pk, filed at) pairs of the cookie still in force for this person."""
    raw = request.COOKIES.get(FILED_COOKIE)
    if not raw:
        return []
    try:
        value = signing.loads(raw, salt=FILED_SALT, max_age=FILED_SECONDS)
    except signing.BadSignature:  # tampered with, made elsewhere, or expired
        return []
    if not isinstance(value, dict) or value.get("u") != _who(request):
        return []
    oldest = time.time() - FILED_SECONDS
    return [
        (int(pk), int(at))
        for pk, at in value.get("f", [])
        if isinstance(pk, int) and isinstance(at, int) and at >= oldest
    ]


def filed_by_this_browser(request) -> list[int]:
    """The primary keys of the complaints this person filed from this browser just now."""
    return [pk for pk, _at in _entries(request)]


def filed_remember(request, response, complaint_pk: int) -> None:
    """Add `complaint_pk` to the cookie on `response` (the redirect to the sent page)."""
    entries = [(pk, at) for pk, at in _entries(request) if pk != complaint_pk]
    entries.append((complaint_pk, int(time.time())))
    value = {"u": _who(request), "f": [list(e) for e in entries[-FILED_MOST:]]}
    response.set_cookie(
        FILED_COOKIE,
        signing.dumps(value, salt=FILED_SALT, compress=True),
        max_age=FILED_SECONDS,
        path=reverse("complaints:complain"),  # the form and its sent pages only
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
