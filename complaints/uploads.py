"""Checking uploaded files by their content, not their name (COP-06, COP-08)."""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError

# Leading bytes of each accepted type. Content decides the type; the name is only shown.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/tiff": (b"II*\x00", b"MM\x00*"),
    "image/gif": (b"GIF87a", b"GIF89a"),
}
EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/tiff": ".tif",
    "image/gif": ".gif",
}
# Every file-name ending we accept, and the type it claims to be.
NAME_EXTENSIONS = {
    **{ext: kind for kind, ext in EXTENSIONS.items()},
    ".jpeg": "image/jpeg",
    ".tiff": "image/tiff",
}
TYPE_WORDS = {
    "application/pdf": "PDF",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/tiff": "TIFF",
    "image/gif": "GIF",
}
DOCUMENTS_AND_IMAGES = tuple(SIGNATURES)


@dataclass(frozen=True)
class CheckedUpload:
    name: str
    content_type: str
    size: int


def safe_filename(name: str, *, default: str = "file", max_length: int = 120) -> str:
    """Return a display name with no path, control characters or direction overrides."""
    name = os.path.basename((name or "").replace("\\", "/"))
    name = "".join(
        ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C"
    )
    name = re.sub(r"\s+", " ", name).strip(" .")
    if len(name) > max_length:
        stem, ext = os.path.splitext(name)
        name = stem[: max_length - len(ext[:10])] + ext[:10]
    return name or default


def _content_is(kind: str, head: bytes) -> bool:
    return any(head.startswith(signature) for signature in SIGNATURES[kind])


def _megabytes(size: int) -> str:
    return f"{round(size / 1_048_576, 1):g} MB"


def _kinds_words(kinds: tuple[str, ...]) -> str:
    words = [TYPE_WORDS[kind] for kind in kinds]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def upload_check(
    upload, *, allowed: tuple[str, ...] = DOCUMENTS_AND_IMAGES, max_bytes: int
) -> CheckedUpload:
    """Return the upload's safe name and real type, or raise ValidationError saying why not."""
    size = upload.size
    if size == 0:
        raise ValidationError("The file is empty.")
    if size > max_bytes:
        raise ValidationError(
            f"This file is too big: the largest we accept is {_megabytes(max_bytes)}."
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    content_type = next((kind for kind in allowed if _content_is(kind, head)), None)
    name = safe_filename(upload.name)
    stem, ext = os.path.splitext(name)
    claimed = NAME_EXTENSIONS.get(ext.lower())
    if content_type is None:
        disguise = (
            f": its name ends in {ext.lower()}, but it is not a {TYPE_WORDS[claimed]} file"
            if claimed and not _content_is(claimed, head)
            else ""
        )
        raise ValidationError(
            f"This file is not one we accept{disguise}. Upload a {_kinds_words(allowed)} file."
        )
    if claimed != content_type:
        # The stored name must not claim a type the content is not.
        name = f"{stem or 'file'}{EXTENSIONS[content_type]}"
    return CheckedUpload(name=name, content_type=content_type, size=size)
