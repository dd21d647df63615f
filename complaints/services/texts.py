"""One limit on the length of any text a person or a message puts on a case, on every channel.

The portal's form refuses more than REDRESS_TEXT_LIMIT characters; a phone or letter log, a
staff form and an inbound email must not be able to do what the form refuses, or one 20
million-character email makes a 41 MB case page. Text longer than the limit is cut at the
limit with a note saying so, and the whole text is kept on the case as a plain-text file,
so nothing the customer wrote is lost (an email's raw message is kept as well).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.files.base import ContentFile


def text_limit() -> int:
    return settings.REDRESS_TEXT_LIMIT


def text_cut(text: str, *, file_name: str) -> tuple[str, str | None]:
    """Return (the text to store, the whole text when it had to be cut, else None)."""
    limit = text_limit()
    if len(text) <= limit:
        return text, None
    note = (
        f"\n\n[Cut at {limit:,} characters: the whole text ({len(text):,} characters) is "
        f"kept on the case as the file {file_name}.]"
    )
    return text[:limit].rstrip() + note, text


def full_text_keep(complaint, text: str, *, file_name: str, at: datetime | None = None, actor=None):
    """Keep the whole of a cut text on the case as a UTF-8 plain-text file the customer sees."""
    from complaints.models import Attachment

    data = text.encode("utf-8")
    attachment = Attachment(
        complaint=complaint,
        kind=Attachment.Kind.FULL_TEXT,
        original_name=file_name,
        content_type="text/plain; charset=utf-8",
        size=len(data),
        customer_visible=True,
        uploaded_by=actor,
        **({"at": at} if at else {}),
    )
    attachment.file.save(file_name, ContentFile(data), save=False)
    attachment.save()
    return attachment
