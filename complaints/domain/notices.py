"""How a written notice reaches the customer, by the contact method agreed with them.

Pure Python. COP-04 and COP-13: notices use the agreed method; the Code's written
letters (COP-16, COP-17) must be in writing even when the customer prefers the phone.
"""

from __future__ import annotations

EMAIL = "email"
PORTAL = "portal"
POST = "post"
PHONE = "phone"


def delivery_channels(
    contact_method: str,
    *,
    has_email: bool,
    has_postal_address: bool,
    has_portal_login: bool,
) -> tuple[str, ...]:
    """Return the channels a notice goes out on, in order, for the agreed contact method.

    The agreed method is used when the customer can be reached that way. A customer who
    agreed to be phoned gets a staff call and a written copy. When the agreed way is not
    possible (no email address on file, say), the first written way that is: email, then
    post, then portal. With no way at all, staff must phone.
    """
    possible = {EMAIL: has_email, POST: has_postal_address, PORTAL: has_portal_login}
    written = next((c for c in (EMAIL, POST, PORTAL) if possible[c]), None)
    if contact_method == PHONE:
        return (PHONE, written) if written else (PHONE,)
    if possible.get(contact_method):
        return (contact_method,)
    return (written,) if written else (PHONE,)
