"""Reading inbound email and telling people from machines: pure Python, no database (COP-05)."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from complaints.inbound.parsing import (
    ParseError,
    email_parse,
    filename_sanitise,
    html_to_text,
    ignore_reason,
    is_auto_reply,
    is_bounce,
    is_list_mail,
    message_id_normalise,
    message_key,
    subject_reference,
)

EMAILS = Path(__file__).parent / "emails"


def message(headers: str = "", body: str | bytes = "Hello.\n", **fields) -> bytes:
    """Build a small RFC 822 message; `fields` override the usual headers (None drops one)."""
    base = {
        "From": "Ann Example <ann@example.com>",
        "To": "support@sovision.com",
        "Subject": "Test",
        "Date": "Wed, 2 Dec 2026 09:00:00 +0000",
        "Message-ID": "<m1@example.com>",
        "Content-Type": "text/plain; charset=utf-8",
    }
    base.update({k.replace("_", "-"): v for k, v in fields.items()})
    lines = [f"{k}: {v}" for k, v in base.items() if v is not None]
    head = ("\n".join(lines) + "\n" + headers).encode()
    return head + b"\n" + (body if isinstance(body, bytes) else body.encode())


# --- The corpus reads as the people who wrote it meant -------------------------------------


@pytest.mark.parametrize(
    "name, fragments",
    [
        ("01-plain-utf8.eml", ["£12.50", "café", "Zoë Brontë", "money — I had"]),
        ("02-latin1-quoted-printable.eml", ["£45.00", "réparé", "façon", "François Lefèvre"]),
        ("03-base64-body.eml", ["charged twice for November", "£38.99"]),
        ("04-windows-1252-smart-quotes.eml", ["“engineer’s visit”", "work – that’s", "€30"]),
        ("05-html-only-outlook.eml", ["did not turn up on 30 November", "day’s pay (£96)"]),
        ("06-multipart-alternative.eml", ["still no dial tone"]),
    ],
)
def test_text_is_decoded_from_each_charset_and_encoding(name, fragments):
    parsed = email_parse((EMAILS / name).read_bytes())
    for fragment in fragments:
        assert fragment in parsed.text
    assert "\ufffd" not in parsed.text


def test_names_and_subjects_in_encoded_words_are_decoded():
    parsed = email_parse((EMAILS / "26-encoded-word-subject.eml").read_bytes())
    assert parsed.subject == "Router “Pro” keeps rebooting – third complaint"
    assert parsed.from_name == "李伟 (Li Wei)"
    latin = email_parse((EMAILS / "02-latin1-quoted-printable.eml").read_bytes())
    assert latin.from_name == "François Lefèvre"
    assert latin.subject == "Ligne toujours coupée - line still dead"


def test_outlook_html_becomes_readable_text_without_markup_styles_or_scripts():
    text = email_parse((EMAILS / "05-html-only-outlook.eml").read_bytes()).text
    assert text.startswith("Dear Sir/Madam,\n\nThe engineer did not turn up")
    assert "between 8am & 1pm" in text  # entities unescaped
    assert "my ticket <https://status.example.net/ticket/5521>" in text
    assert "Ellis <Design> Ltd" in text
    for junk in ("MsoNormal", "font-family", "alert(", "<p", "o:p", "&nbsp;", "Cambria", "title"):
        assert junk not in text


def test_multipart_alternative_prefers_the_plain_text():
    text = email_parse((EMAILS / "06-multipart-alternative.eml").read_bytes()).text
    assert "HTML VERSION" not in text


def test_html_to_text_drops_scripts_and_styles_and_keeps_structure():
    markup = (
        "<style>p{color:red}</style><script>steal()</script><p>First&nbsp;line</p>"
        "<ul><li>one</li><li>two</li></ul><p>A <a href='mailto:x@example.com'>mail</a></p>"
    )
    assert html_to_text(markup) == "First line\n\n- one\n- two\n\nA mail <x@example.com>"
    # An unclosed <head> must not swallow the message.
    assert html_to_text("<head><title>t</title><body>Still here") == "Still here"


def test_split_inline_text_around_an_image_is_kept_whole():
    raw = message(
        Content_Type='multipart/mixed; boundary="b"',
        body=(
            "--b\nContent-Type: text/plain\n\nBefore the photo.\n"
            "--b\nContent-Type: image/png\nContent-Disposition: inline\n"
            "Content-Transfer-Encoding: base64\n\niVBORw0KGgo=\n"
            "--b\nContent-Type: text/plain\n\nAfter the photo.\n--b--\n"
        ),
    )
    parsed = email_parse(raw)
    assert parsed.text == "Before the photo.\n\nAfter the photo."
    assert [a.filename for a in parsed.attachments] == ["inline-image-1.png"]


# --- Attachments --------------------------------------------------------------------------


def test_attachments_are_decoded_with_their_names_and_types():
    parsed = email_parse((EMAILS / "08-pdf-and-image-attachments.eml").read_bytes())
    got = {a.filename: a for a in parsed.attachments}
    assert set(got) == {"invoice-NOV-2026.pdf", "router-lights.jpg"}
    assert got["invoice-NOV-2026.pdf"].content.startswith(b"%PDF-")
    assert got["invoice-NOV-2026.pdf"].content_type == "application/pdf"
    assert got["router-lights.jpg"].content.startswith(b"\xff\xd8\xff")


def test_inline_image_and_forwarded_message_are_attachments():
    inline = email_parse((EMAILS / "10-inline-image.eml").read_bytes())
    assert [(a.filename, a.inline) for a in inline.attachments] == [("image001.png", True)]
    assert inline.attachments[0].content.startswith(b"\x89PNG")
    forwarded = email_parse((EMAILS / "07-forwarded-message.eml").read_bytes())
    (eml,) = forwarded.attachments
    assert eml.filename == "Visit rescheduled.eml" and eml.content_type == "message/rfc822"
    assert b"Subject: Visit rescheduled" in eml.content
    assert "rescheduled to 11 December" not in forwarded.text  # the body is the customer's


def test_attachment_names_cannot_escape_or_hide():
    parsed = email_parse((EMAILS / "09-path-traversal-attachment.eml").read_bytes())
    assert [a.filename for a in parsed.attachments] == ["passwd"]


@pytest.mark.parametrize(
    "name, expected",
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\system.ini", "system.ini"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # right-to-left override removed
        ("bad\x00name\x07.pdf", "badname.pdf"),
        ("..", "attachment"),
        ("", "attachment"),
        ('what?"*<>|.pdf', "what______.pdf"),
        ("a" * 300 + ".pdf", "a" * 116 + ".pdf"),
    ],
)
def test_filename_sanitise(name, expected):
    assert filename_sanitise(name) == expected


# --- Identity -----------------------------------------------------------------------------


def test_message_key_is_the_message_id_or_a_hash_of_the_bytes():
    assert message_key(message()) == "<m1@example.com>"
    raw = message(Message_ID=None)
    key = message_key(raw)
    assert key.startswith("<sha256:") and key == message_key(raw)
    assert key != message_key(raw + b"more")
    assert email_parse(raw).message_id == key and not email_parse(raw).has_own_message_id
    # Even an unreadable message has a key, from its headers.
    assert message_key((EMAILS / "21-unknown-charset.eml").read_bytes()) == (
        "<odd-0001@oddmailer.example>"
    )


@pytest.mark.parametrize(
    "value, expected",
    [
        ("<a@b>", "<a@b>"),
        ("  <a@b> (comment)", "<a@b>"),
        ("a@b", "<a@b>"),
        ("", ""),
    ],
)
def test_message_id_normalise(value, expected):
    assert message_id_normalise(value) == expected


def test_overlong_message_ids_are_hashed_to_fit():
    assert len(message_id_normalise("<" + "x" * 400 + "@b>")) <= 255


def test_thread_ids_put_in_reply_to_first_then_the_latest_references():
    parsed = email_parse(
        message(In_Reply_To="<c@x>", References="<a@x>\n <b@x> <c@x>", Message_ID="<d@x>")
    )
    assert parsed.thread_ids == ("<c@x>", "<b@x>", "<a@x>")


def test_dates_without_a_zone_are_utc_and_bad_dates_are_none():
    assert email_parse(message(Date="Wed, 2 Dec 2026 09:00:00 -0000")).date == datetime(
        2026, 12, 2, 9, 0, tzinfo=UTC
    )
    assert email_parse(message(Date="the day after tomorrow")).date is None


def test_addresses_are_read_from_every_recipient_header():
    parsed = email_parse(
        message(
            "Delivered-To: Accounts@SoVisionIT.com\nX-Original-To: alias@sovisionit.com\n",
            To="Someone <someone@example.com>, support@sovision.com",
            Cc="cc@example.com",
        )
    )
    assert parsed.recipients == (
        "accounts@sovisionit.com",
        "alias@sovisionit.com",
        "someone@example.com",
        "support@sovision.com",
        "cc@example.com",
    )
    assert (parsed.from_name, parsed.from_address) == ("Ann Example", "ann@example.com")


# --- Unreadable messages raise ParseError -------------------------------------------------


@pytest.mark.parametrize(
    "raw, words",
    [
        (message(Content_Type="text/plain; charset=x-unknown-999"), "unknown character set"),
        (message(Content_Type="multipart/mixed", body="--x\n\nhi\n--x--\n"), "no boundary"),
        (
            message(Content_Type="multipart/mixed; boundary=zz", body="no parts at all\n"),
            "never appears",
        ),
        (message(Content_Type="text/plain; charset=utf-8", body=b"caf\xe9\n"), "not valid utf-8"),
        (b"", "empty"),
        (b"\n\njust a body\n", "no headers"),
    ],
)
def test_unreadable_messages_raise_a_clear_parse_error(raw, words):
    with pytest.raises(ParseError, match=words):
        email_parse(raw)


def test_corpus_dead_letters_raise_parse_error():
    with pytest.raises(ParseError, match="x-unknown-999"):
        email_parse((EMAILS / "21-unknown-charset.eml").read_bytes())
    with pytest.raises(ParseError, match="malformed MIME"):
        email_parse((EMAILS / "22-broken-mime-missing-boundary.eml").read_bytes())


def test_common_mislabelling_is_read_not_rejected():
    """Undeclared 8-bit text is UTF-8 or else Windows-1252; ISO-8859-1 is read as cp1252."""
    assert email_parse(message(Content_Type="text/plain", body="café\n".encode())).text == "café"
    assert email_parse(message(Content_Type="text/plain", body=b"caf\xe9\n")).text == "café"
    latin = message(Content_Type="text/plain; charset=iso-8859-1", body=b"\x93quoted\x94\n")
    assert email_parse(latin).text == "“quoted”"


def test_a_missing_closing_boundary_is_read_best_effort():
    raw = message(
        Content_Type='multipart/mixed; boundary="b"',
        body="--b\nContent-Type: text/plain\n\nCut short by the sender.\n",
    )
    assert email_parse(raw).text == "Cut short by the sender."


# --- People or machines? ------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, auto",
    [
        ({"Auto_Submitted": "auto-replied"}, True),
        ({"Auto_Submitted": "auto-generated; owner-email=x@y"}, True),
        ({"Auto_Submitted": "no"}, False),
        ({"X_Autoreply": "yes"}, True),
        ({"X_Autorespond": "Vacation"}, True),
        ({"Precedence": "bulk"}, True),
        ({"Precedence": "junk"}, True),
        ({"Precedence": "auto_reply"}, True),
        ({"X_MS_Exchange_Inbox_Rules_Loop": "ann@example.com"}, True),
        ({"Subject": "Out of Office: your complaint"}, True),
        ({"Subject": "Automatic reply: Your complaint CMP-2026-000001"}, True),
        ({"Subject": "Out of office hours call-out charge"}, False),  # a real complaint
        ({"X_Auto_Response_Suppress": "All"}, False),  # set on mail people write, too
        ({}, False),
    ],
)
def test_is_auto_reply(fields, auto):
    assert is_auto_reply(email_parse(message(**fields))) is auto


@pytest.mark.parametrize(
    "fields, bounce",
    [
        ({"From": "MAILER-DAEMON@mx.example.com"}, True),
        ({"From": "Mail Delivery Subsystem <postmaster@example.com>"}, True),
        ({"Return_Path": "<>"}, True),
        ({"Content_Type": "multipart/report; report-type=delivery-status; boundary=b"}, True),
        ({"Return_Path": "<ann@example.com>"}, False),
    ],
)
def test_is_bounce(fields, bounce):
    body = "--b\nContent-Type: text/plain\n\nfailed\n--b--\n"
    assert is_bounce(email_parse(message(body=body, **fields))) is bounce


@pytest.mark.parametrize(
    "fields, listed",
    [
        ({"List_Id": "<announce.example.com>"}, True),
        ({"List_Unsubscribe": "<mailto:leave@example.com>"}, True),
        ({"Precedence": "list"}, True),
        ({"Precedence": "first-class"}, False),
    ],
)
def test_is_list_mail(fields, listed):
    assert is_list_mail(email_parse(message(**fields))) is listed


@pytest.mark.parametrize(
    "name, reason",
    [
        ("14-out-of-office-auto-submitted.eml", "auto-reply"),
        ("15-microsoft-automatic-reply.eml", "auto-reply"),
        ("16-bounce-mailer-daemon.eml", "bounce"),
        ("17-mailing-list.eml", "mailing list"),
        ("01-plain-utf8.eml", ""),
        ("13-reply-from-different-sender.eml", ""),
    ],
)
def test_ignore_reason_on_the_corpus(name, reason):
    got = ignore_reason(email_parse((EMAILS / name).read_bytes()))
    assert got.startswith(reason) and bool(got) == bool(reason)


@pytest.mark.parametrize(
    "subject, reference",
    [
        ("Re: Your complaint CMP-2026-000418 has been closed", "CMP-2026-000418"),
        ("[cmp-2026-000418] photos", "CMP-2026-000418"),
        ("CMP-2026-0004189 is not one", ""),
        ("About my bill", ""),
    ],
)
def test_subject_reference(subject, reference):
    assert subject_reference(subject) == reference
