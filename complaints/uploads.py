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


def upload_check(
    upload, *, allowed: tuple[str, ...] = DOCUMENTS_AND_IMAGES, max_bytes: int
) -> CheckedUpload:
    """Return the upload's safe name and real type, or raise ValidationError saying why not."""
    size = upload.size
    if size == 0:
        raise ValidationError("The file is empty.")
    if size > max_bytes:
        raise ValidationError(
            f"The file is {size / 1_048_576:.1f} MB; the largest allowed is "
            f"{max_bytes / 1_048_576:.0f} MB."
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    content_type = next(
        (kind for kind in allowed if any(head.startswith(sig) for sig in SIGNATURES[kind])), None
    )
    if content_type is None:
        names = ", ".join(EXTENSIONS[k].lstrip(".").upper() for k in allowed)
        raise ValidationError(f"This file is not one we accept. Upload a {names} file.")
    name = safe_filename(upload.name)
    stem, ext = os.path.splitext(name)
    if ext.lower() not in {EXTENSIONS[content_type], ".jpeg", ".tiff"}:
        name = f"{stem or 'file'}{EXTENSIONS[content_type]}"
    return CheckedUpload(name=name, content_type=content_type, size=size)
