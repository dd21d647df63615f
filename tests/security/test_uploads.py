"""Hostile uploads on every form that takes files: refused clearly, nothing half-saved.

Files reach a case through the portal complaint form, signed in or not (COP-05), the
portal reply (COP-10), the desk's "Log a letter" page (COP-06) and the desk's "Attach
technical report" action (COP-08); `upload_check` in complaints/uploads.py judges them all.
Each request is built by hand, as an attacker would send it, so that a file name reaches
Django exactly as typed (Django's own test client strips the path before sending).
"""

import html
import re
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image
from pypdf import PdfWriter

from accounts.models import Customer, User
from complaints.models import (
    Attachment,
    CaseEvent,
    Complaint,
    Correspondence,
    Notice,
    OutboxMessage,
    StaffAlert,
)
from complaints.services.portal import portal_reply
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=LONDON)
BOUNDARY = "redress-upload-test-7MA4YWxkTrZu0gW"
STORED_NAME = r"complaints/\d+/[0-9a-f]{32}"


def genuine_png() -> bytes:
    buffer = BytesIO()
    Image.new("RGB", (2, 2), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def genuine_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=72, height=72)
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


PNG = genuine_png()
PDF = genuine_pdf()
GENUINE = {".png": PNG, ".pdf": PDF}

# --- What attackers send ------------------------------------------------------------------

HTML = b"<!DOCTYPE html><html><body><script>fetch('/my/').then(alert)</script></body></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" '
    b'onload="alert(document.cookie)"><script>alert(1)</script></svg>'
)
PE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 20 + b"word/document.xml"
# Polyglots: a second format's signature inside, but not at the start where it counts.
ZIP_WITH_PDF = ZIP + b"\n" + PDF
HTML_WITH_PNG = b"<html><!--" + PNG + b"--><script>alert(1)</script></html>"

NOT_ACCEPTED = "This file is not one we accept. Upload a PDF, PNG, JPEG, TIFF or GIF file."


def disguised_as(ending: str, kind: str) -> str:
    return (
        f"This file is not one we accept: its name ends in {ending}, but it is not a {kind} "
        "file. Upload a PDF, PNG, JPEG, TIFF or GIF file."
    )


HOSTILE_CONTENT = [
    pytest.param("complaint.html", HTML, NOT_ACCEPTED, id="html"),
    pytest.param("drawing.svg", SVG, NOT_ACCEPTED, id="svg-script"),
    pytest.param("photo.png", SVG, disguised_as(".png", "PNG"), id="svg-named-png"),
    pytest.param("letter.pdf", SVG, disguised_as(".pdf", "PDF"), id="svg-named-pdf"),
    pytest.param("invoice.pdf", PE, disguised_as(".pdf", "PDF"), id="pe-named-pdf"),
    pytest.param("meter.png", ELF, disguised_as(".png", "PNG"), id="elf-named-png"),
    pytest.param("scan.jpeg", ZIP, disguised_as(".jpeg", "JPEG"), id="zip-named-jpeg"),
    pytest.param("statement.pdf", ZIP_WITH_PDF, disguised_as(".pdf", "PDF"), id="zip-pdf-polyglot"),
    pytest.param("router.png", HTML_WITH_PNG, disguised_as(".png", "PNG"), id="html-png-polyglot"),
]

# (name as sent, name kept for display, what the name claims to be: for the refusal message)
HOSTILE_NAMES = [
    pytest.param("../../etc/passwd.png", "passwd.png", ".png", id="traversal-posix"),
    pytest.param("..\\..\\win.ini.pdf", "win.ini.pdf", ".pdf", id="traversal-windows"),
    pytest.param("photo.png\x00.html", "photo.png.png", None, id="nul"),
    # A raw CR LF ends the header line: the rest of the name becomes a header of its own.
    pytest.param('letter.pdf"\r\nX-Injected: yes\r\nY: "', "letter.pdf", ".pdf", id="crlf-header"),
    # Cut at the CR LF; Django keeps the opening quote, harmless once shown escaped.
    pytest.param("photo\r\n.png", '"photo.png', None, id="crlf-in-name"),
    # Shown as "invoiceexe.pdf" if the right-to-left override survived.
    pytest.param("invoice\u202efdp.exe", "invoicefdp.pdf", None, id="rtl-override"),
    pytest.param("a" * 300 + ".pdf", "a" * 116 + ".pdf", ".pdf", id="300-characters"),
    pytest.param(
        "<img src=x onerror=alert(1)>.png", "<img src=x onerror=alert(1)>.png", ".png", id="markup"
    ),
]


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes]]) -> bytes:
    """Encode a form as a browser would, but with file names exactly as given."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    for field, name, content in files:
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; filename="{name}"'
            "\r\nContent-Type: image/png\r\n\r\n"  # the browser's word counts for nothing
        )
        parts.append(head.encode() + content + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


# --- The ways in ----------------------------------------------------------------------


@dataclass
class EntryPoint:
    """One page that takes files, ready to be sent a form."""

    client: Client
    url: str
    fields: dict[str, str]
    file_field: str
    max_files: int
    complaint: Complaint | None = None  # the case the file is added to, if it exists already

    def send(self, files: list[tuple[str, bytes]]):
        body = multipart(self.fields, [(self.file_field, name, data) for name, data in files])
        return self.client.post(
            self.url, data=body, content_type=f"multipart/form-data; boundary={BOUNDARY}"
        )


def confirmed_customer() -> Customer:
    return CustomerFactory(confirmed=True, email="sam@example.com", name="Sam Smith")


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def complaint_form() -> dict[str, str]:
    return {
        "token": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "name": "Priya Patel",
        "email": "priya@example.com",
        "phone": "",
        "account_reference": "",
        "about": "technical_support",
        "subject": "Broadband drops every evening",
        "description": "Since Monday the line drops at 7pm.",
        "preferred_contact_method": "email",
        "customer_type": "consumer",
        "employee_count": "",
    }


def complain_anonymous() -> EntryPoint:
    return EntryPoint(
        Client(),
        reverse("complaints:complain"),
        complaint_form(),
        "files",
        settings.REDRESS_PORTAL_MAX_FILES,
    )


def complain_signed_in() -> EntryPoint:
    return EntryPoint(
        logged_in(confirmed_customer().user),
        reverse("complaints:complain"),
        complaint_form(),
        "files",
        settings.REDRESS_PORTAL_MAX_FILES,
    )


def portal_reply_with_history() -> EntryPoint:
    customer = confirmed_customer()
    complaint = complaint_make(customer=customer)
    # An earlier message with a file: both must come through a refused reply untouched.
    complaint = portal_reply(
        complaint=complaint,
        user=customer.user,
        body="The router is still dropping.",
        files=[SimpleUploadedFile("earlier.pdf", PDF)],
    )
    return EntryPoint(
        logged_in(customer.user),
        reverse("complaints:complaint-reply", args=[complaint.reference]),
        {"body": "Here is a photo of the router."},
        "files",
        settings.REDRESS_PORTAL_MAX_FILES,
        complaint,
    )


def log_a_letter() -> EntryPoint:
    return EntryPoint(
        logged_in(StaffUserFactory(role="support_agent")),
        reverse("admin:complaints_complaint_log_letter"),
        {
            "account_reference": "ACC-99",
            "name": "Lettice Writer",
            "email": "lettice@example.com",
            "phone": "",
            "postal_address": "3 Avon Row, Keynsham",
            "department": "technical_support",
            "subject": "Router never arrived",
            "description": "I ordered a router in October.",
            "received_at": "2026-11-23T09:00",
        },
        "scan",
        1,
    )


def attach_a_report() -> EntryPoint:
    complaint = complaint_make()
    return EntryPoint(
        logged_in(StaffUserFactory(role="support_agent")),
        reverse("admin:complaints_complaint_action", args=[complaint.pk, "attach"]),
        {},
        "file",
        1,
        complaint,
    )


ENTRY_POINTS = {
    "complain-anonymous": complain_anonymous,
    "complain-signed-in": complain_signed_in,
    "portal-reply": portal_reply_with_history,
    "log-a-letter": log_a_letter,
    "attach-report": attach_a_report,
}


PORTAL = ["complain-anonymous", "complain-signed-in", "portal-reply"]
DESK = ["log-a-letter", "attach-report"]  # one file per submission


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def media_root(settings, tmp_path) -> Path:
    """Send every stored file to an empty folder of this test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(params=list(ENTRY_POINTS))
def entry(request, media_root) -> EntryPoint:
    return ENTRY_POINTS[request.param]()


# --- What must not change ---------------------------------------------------------------

RECORDS = (
    Complaint,
    Customer,
    User,
    Attachment,
    CaseEvent,
    Correspondence,
    Notice,
    OutboxMessage,
    StaffAlert,
)


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def snapshot(media_root: Path) -> dict:
    """Return every row a submission could write, every stored file, and the mail sent."""
    return {
        "rows": {m.__name__: list(m.objects.order_by("pk").values()) for m in RECORDS},
        # The parent too: a name that climbed out of MEDIA_ROOT would land there.
        "files": files_under(media_root.parent),
        "mail": len(mail.outbox),
    }


def assert_refused(response, before: dict, message: str, media_root: Path) -> None:
    """The form comes back with the reason, and nothing at all was saved."""
    assert response.status_code == 200
    raw = response.content.decode()
    assert "There is a problem" in raw
    assert message in html.unescape(raw)
    assert "<script>alert" not in raw and "<img src=x" not in raw  # names are shown escaped
    assert snapshot(media_root) == before
    if not before["files"]:
        assert not files_under(media_root.parent)  # MEDIA_ROOT is still empty


def stored_attachment(before: dict) -> Attachment:
    """Return the one file the last submission added (not the letters we sent about it)."""
    known = {row["id"] for row in before["rows"]["Attachment"]}
    (added,) = Attachment.objects.exclude(pk__in=known).exclude(kind=Attachment.Kind.LETTER_SENT)
    return added


def assert_only_generated_names_written(media_root: Path, before: dict) -> None:
    """Every new file sits at complaints/<case id>/<random hex> under MEDIA_ROOT, no higher."""
    new_files = set(files_under(media_root.parent)) - set(before["files"])
    assert new_files
    for path in new_files:
        assert re.fullmatch(f"media/{STORED_NAME}", path), path


# --- Hostile content ---------------------------------------------------------------------


@pytest.mark.parametrize(("name", "content", "message"), HOSTILE_CONTENT)
def test_a_file_that_is_not_what_we_accept_is_refused_and_nothing_is_saved(
    entry, media_root, name, content, message
):
    before = snapshot(media_root)
    response = entry.send([(name, content)])
    assert_refused(response, before, message, media_root)


@pytest.mark.parametrize("entry", PORTAL, indirect=True)
def test_one_bad_file_among_good_ones_saves_none_of_them(entry, media_root):
    before = snapshot(media_root)
    response = entry.send([("bill.pdf", PDF), ("photo.png", SVG), ("router.png", PNG)])
    assert_refused(response, before, disguised_as(".png", "PNG"), media_root)


# --- Hostile names ----------------------------------------------------------------------


@pytest.mark.parametrize(("sent_as", "kept_as", "claims"), HOSTILE_NAMES)
def test_a_hostile_name_on_a_bad_file_is_refused_and_nothing_is_saved(
    entry, media_root, sent_as, kept_as, claims
):
    before = snapshot(media_root)
    response = entry.send([(sent_as, HTML)])
    kind = {".png": "PNG", ".pdf": "PDF"}.get(claims)
    assert_refused(
        response, before, disguised_as(claims, kind) if claims else NOT_ACCEPTED, media_root
    )


@pytest.mark.parametrize(("sent_as", "kept_as", "claims"), HOSTILE_NAMES)
def test_a_hostile_name_never_reaches_storage_and_is_shown_only_cleaned(
    entry, media_root, sent_as, kept_as, claims
):
    """Content decides; the name is cleaned for display and never used to store the file."""
    content = GENUINE[Path(kept_as).suffix]
    before = snapshot(media_root)
    response = entry.send([(sent_as, content)])
    assert response.status_code == 302, html.unescape(response.content.decode())[:3000]
    attachment = stored_attachment(before)
    assert attachment.original_name == kept_as
    assert re.fullmatch(STORED_NAME, attachment.file.name)
    assert (media_root / attachment.file.name).read_bytes() == content
    assert_only_generated_names_written(media_root, before)


# --- Size and number ----------------------------------------------------------------------


def test_a_file_just_over_the_size_limit_is_refused_and_nothing_is_saved(entry, media_root):
    limit = settings.REDRESS_MAX_ATTACHMENT_BYTES
    too_big = b"%PDF-1.4\n" + b"0" * (limit + 1 - len(b"%PDF-1.4\n"))
    before = snapshot(media_root)
    response = entry.send([("big.pdf", too_big)])
    message = f"This file is too big: the largest we accept is {limit / 1_048_576:g} MB."
    assert_refused(response, before, message, media_root)


def test_a_file_exactly_at_the_size_limit_is_accepted(entry, media_root):
    limit = settings.REDRESS_MAX_ATTACHMENT_BYTES
    just_fits = b"%PDF-1.4\n" + b"0" * (limit - len(b"%PDF-1.4\n"))
    before = snapshot(media_root)
    response = entry.send([("big.pdf", just_fits)])
    assert response.status_code == 302
    assert stored_attachment(before).size == limit


def test_one_file_more_than_the_limit_is_refused_and_nothing_is_saved(entry, media_root):
    files = [(f"page-{n}.pdf", PDF) for n in range(entry.max_files + 1)]
    before = snapshot(media_root)
    response = entry.send(files)
    message = (
        "Choose one file only."
        if entry.max_files == 1
        else f"Choose at most {entry.max_files} files."
    )
    assert_refused(response, before, message, media_root)


@pytest.mark.parametrize("entry", DESK, indirect=True)
def test_a_single_file_field_never_stores_more_than_one_file(entry, media_root):
    before = snapshot(media_root)
    response = entry.send([("first.pdf", PDF), ("second.png", SVG), ("third.png", PNG)])
    assert response.status_code in (200, 302)
    known = {row["id"] for row in before["rows"]["Attachment"]}
    assert Attachment.objects.exclude(pk__in=known).exclude(kind="letter_sent").count() <= 1


def test_far_too_many_files_is_a_bad_request_and_saves_nothing(entry, media_root):
    """Django stops counting at DATA_UPLOAD_MAX_NUMBER_FILES, before any view runs."""
    files = [(f"p{n}.pdf", PDF) for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)]
    before = snapshot(media_root)
    response = entry.send(files)
    assert response.status_code == 400
    assert snapshot(media_root) == before


def test_an_empty_file_is_refused_and_nothing_is_saved(entry, media_root):
    before = snapshot(media_root)
    response = entry.send([("blank.pdf", b"")])
    assert_refused(response, before, "The submitted file is empty.", media_root)


# --- Genuine files ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "kept_as", "content_type"),
    [
        pytest.param("router photo.png", PNG, "router photo.png", "image/png", id="png"),
        pytest.param("bill.pdf", PDF, "bill.pdf", "application/pdf", id="pdf"),
        # A real file with the wrong ending is kept under the ending its content earns.
        pytest.param("bill.png", PDF, "bill.pdf", "application/pdf", id="pdf-named-png"),
        pytest.param("photo.jpeg", PNG, "photo.png", "image/png", id="png-named-jpeg"),
    ],
)
def test_a_genuine_file_is_stored_under_a_generated_name(
    entry, media_root, name, content, kept_as, content_type
):
    before = snapshot(media_root)
    response = entry.send([(name, content)])
    assert response.status_code == 302, html.unescape(response.content.decode())[:3000]
    attachment = stored_attachment(before)
    assert attachment.original_name == kept_as
    assert attachment.content_type == content_type
    assert attachment.size == len(content)
    assert re.fullmatch(STORED_NAME, attachment.file.name)
    assert Path(name).stem not in attachment.file.name
    assert (media_root / attachment.file.name).read_bytes() == content
    if entry.complaint is not None:
        assert attachment.complaint_id == entry.complaint.pk


def test_a_file_that_only_starts_like_an_image_is_served_only_as_that_image(media_root):
    """A GIF header on a script passes the check, so downloads must never let it run."""
    polyglot = b"GIF89a=1;alert(document.domain)//" + b"\x00" * 16
    entry = portal_reply_with_history()
    before = snapshot(media_root)
    assert entry.send([("funny.gif", polyglot)]).status_code == 302
    attachment = stored_attachment(before)
    assert attachment.content_type == "image/gif"

    customer_download = entry.client.get(
        reverse("complaints:complaint-file", args=[entry.complaint.reference, attachment.pk])
    )
    staff = logged_in(StaffUserFactory(role="support_agent"))
    staff_download = staff.get(
        reverse("complaints:staff-attachment-download", args=[attachment.pk])
    )
    for response in (customer_download, staff_download):
        assert response.status_code == 200
        assert response["Content-Type"] == "image/gif"
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["X-Content-Type-Options"] == "nosniff"
