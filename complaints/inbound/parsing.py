"""Read one RFC 822 email into a ParsedEmail, and say what kind of mail it is (COP-05).

Pure Python on the standard library's `email` package (policy.default); no database.

Reading rules, chosen so that staff never see a silently mangled message:

- Text is decoded strictly with its declared charset. A charset Python does not know
  raises ParseError. Text that is not valid in its declared charset raises ParseError,
  except for the two mislabellings seen every day: undeclared/US-ASCII text is read as
  UTF-8, then Windows-1252; ISO-8859-1 is read as Windows-1252 (as browsers do).
- A multipart whose boundary is missing, or never found in the body, raises ParseError:
  its parts cannot be told apart, so there is no readable body (a dead letter, kept raw).
  A missing *closing* boundary is harmless and is read best-effort.
- Plain text is preferred; an HTML-only message is turned into readable text.
"""

from __future__ import annotations

import codecs
import hashlib
import mimetypes
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import errors as email_errors
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses
from html.parser import HTMLParser

from complaints.uploads import safe_filename

MAX_FILENAME_LENGTH = 120
MAX_MESSAGE_ID_LENGTH = 255
REFERENCE_RE = re.compile(r"\bCMP-\d{4}-\d{6}\b", re.IGNORECASE)
_MSGID_RE = re.compile(r"<([^<>\s]+)>")

# Failures the email package raises on hostile or broken input; all mean "unreadable".
_EMAIL_FAILURES = (
    LookupError,
    UnicodeError,
    email_errors.MessageError,
    ValueError,
    TypeError,
    IndexError,
    AttributeError,
)


class ParseError(ValueError):
    """The message cannot be read without guessing; it is kept raw as a dead letter."""


@dataclass(frozen=True)
class ParsedAttachment:
    """A file that came with the email: sanitised name, decoded bytes and declared type."""

    filename: str
    content_type: str
    content: bytes
    inline: bool = False

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True)
class ParsedEmail:
    """What the complaints desk needs from one email."""

    message_id: str
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    from_address: str = ""
    from_name: str = ""
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    delivered_to: tuple[str, ...] = ()
    original_to: tuple[str, ...] = ()
    subject: str = ""
    date: datetime | None = None
    text: str = ""
    attachments: tuple[ParsedAttachment, ...] = ()
    content_type: str = "text/plain"
    report_type: str = ""
    headers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def header(self, name: str) -> str:
        """Return the first value of header `name` (unfolded), or ""."""
        values = self.headers.get(name.lower(), ())
        return values[0] if values else ""

    def has_header(self, name: str) -> bool:
        return name.lower() in self.headers

    @property
    def has_own_message_id(self) -> bool:
        return not self.message_id.startswith("<sha256:")

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Return the Message-IDs this one answers, most direct first."""
        seen: dict[str, None] = {}
        for value in (*self.in_reply_to, *reversed(self.references)):
            seen.setdefault(value, None)
        return tuple(seen)

    @property
    def recipients(self) -> tuple[str, ...]:
        """Return every recipient address, envelope headers first (Delivered-To, To, Cc)."""
        return (*self.delivered_to, *self.original_to, *self.to, *self.cc)


# --- Message-IDs --------------------------------------------------------------------------


def bytes_id(raw: bytes) -> str:
    """Return the stand-in Message-ID of a message that has none: a hash of its bytes."""
    return f"<sha256:{hashlib.sha256(raw).hexdigest()}>"


def message_id_normalise(value: str) -> str:
    """Return `value` as one "<id>" (brackets added if missing), or "" when there is none."""
    value = _unsurrogate(value or "")
    match = _MSGID_RE.search(value)
    if match:
        token = match.group(1)
    else:
        words = value.strip().split()
        token = words[0].strip("<>") if words else ""
    if not token:
        return ""
    result = f"<{token}>"
    if len(result) > MAX_MESSAGE_ID_LENGTH:
        return f"<sha256:{hashlib.sha256(result.encode()).hexdigest()}>"
    return result


def message_ids(value: str) -> tuple[str, ...]:
    """Return every "<id>" in an In-Reply-To or References value, in order."""
    found = [message_id_normalise(f"<{m}>") for m in _MSGID_RE.findall(_unsurrogate(value or ""))]
    return tuple(dict.fromkeys(m for m in found if m))


def message_key(raw: bytes) -> str:
    """Return the key that makes a message unique: its Message-ID, else a hash of its bytes.

    Reads the headers only and never fails, so that even an unreadable message is stored
    once.
    """
    try:
        headers = BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True)
        value = headers.get("Message-ID", "")
        normalised = message_id_normalise(str(value))
    except _EMAIL_FAILURES:
        normalised = ""
    return normalised or bytes_id(raw)


# --- Text -----------------------------------------------------------------------------------


def _unsurrogate(value: str) -> str:
    """Turn raw 8-bit bytes smuggled through surrogateescape back into text (UTF-8 first)."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def _clean_line(value: str) -> str:
    """Return one line of header text: control characters removed, spaces collapsed."""
    value = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in value)
    return re.sub(r"\s+", " ", value).strip()


def _clean_text(value: str) -> str:
    """Return body text with Unix line ends and no control characters but tab and newline."""
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    value = "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    lines = [line.rstrip() for line in value.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _decode_text(data: bytes, charset: str | None) -> str:
    """Decode body bytes by the rules in this module's docstring; ParseError if unreadable."""
    declared = (charset or "us-ascii").strip().strip('"').lower()
    try:
        codec = codecs.lookup(declared).name
    except LookupError:
        raise ParseError(f"unknown character set {declared!r}") from None
    if codec == "latin-1" or codec == "iso8859-1":
        attempts = ["cp1252", "latin-1"]
    elif codec == "ascii":
        attempts = ["ascii", "utf-8", "cp1252"]
    else:
        attempts = [codec]
    for attempt in attempts:
        try:
            return data.decode(attempt)
        except UnicodeDecodeError:
            continue
    raise ParseError(f"the text is not valid {declared}")


class _HTMLText(HTMLParser):
    """Collect the readable text of an HTML document: no scripts, styles or markup."""

    SKIP = frozenset({"script", "style", "head", "title", "noscript", "template", "xml"})
    BLOCK = frozenset(
        {
            "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "footer",
            "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "ol", "p", "pre",
            "section", "table", "tr", "ul",
        }
    )  # fmt: skip

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping: list[str] = []
        self.href: str | None = None
        self.link_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "body":
            self.skipping.clear()  # a <head> never closed must not hide the message
        if tag in self.SKIP:
            self.skipping.append(tag)
            return
        if self.skipping:
            return
        if tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in self.BLOCK:
            self.parts.append("\n\n" if tag in ("p", "table", "blockquote") else "\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag == "a":
            self.href = dict(attrs).get("href") or None
            self.link_text = []
        elif tag == "img":
            alt = (dict(attrs).get("alt") or "").strip()
            if alt:
                self.parts.append(f"[{alt}]")

    def handle_startendtag(self, tag, attrs):
        if tag not in self.SKIP:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            if tag in self.skipping:
                while self.skipping and self.skipping.pop() != tag:
                    pass
            return
        if self.skipping:
            return
        if tag in self.BLOCK:
            self.parts.append("\n\n" if tag in ("p", "table", "blockquote") else "\n")
        elif tag == "a" and self.href:
            text = "".join(self.link_text).strip()
            target = self.href.removeprefix("mailto:")
            if self.href.startswith(("http:", "https:", "mailto:")) and target not in text:
                self.parts.append(f" <{target}>")
            self.href = None

    def handle_data(self, data):
        if self.skipping:
            return
        text = re.sub(r"\s+", " ", data.replace("\xa0", " "))
        self.parts.append(text)
        if self.href is not None:
            self.link_text.append(text)

    def text(self) -> str:
        lines = [line.strip() for line in "".join(self.parts).split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(markup: str) -> str:
    """Return the readable text of an HTML email: tags stripped, entities unescaped."""
    parser = _HTMLText()
    parser.feed(markup)
    parser.close()
    return parser.text()


# --- Headers ------------------------------------------------------------------------------


def _raw_headers(msg: Message) -> dict[str, tuple[str, ...]]:
    headers: dict[str, list[str]] = {}
    for name, value in msg.raw_items():
        unfolded = re.sub(r"\r?\n[ \t]+", " ", str(value)).strip()
        headers.setdefault(name.lower(), []).append(_unsurrogate(unfolded))
    return {name: tuple(values) for name, values in headers.items()}


def _decoded(raw_value: str) -> str:
    """Decode RFC 2047 encoded-words in a raw header value (best effort: never fails)."""
    try:
        return str(make_header(decode_header(raw_value)))
    except _EMAIL_FAILURES:
        return raw_value


def _addresses(msg: Message, raw: Mapping[str, tuple[str, ...]], name: str):
    """Return (display name, address) pairs of header `name`; broken headers read leniently."""
    try:
        pairs = []
        for header in msg.get_all(name, []):
            if hasattr(header, "addresses"):
                pairs += [
                    (_unsurrogate(a.display_name or ""), _unsurrogate(a.addr_spec or ""))
                    for a in header.addresses
                ]
            else:  # Delivered-To and X-Original-To are not address headers to the library
                pairs += getaddresses([str(header)])
    except _EMAIL_FAILURES:
        pairs = [(_decoded(n), a) for n, a in getaddresses(list(raw.get(name.lower(), ())))]
    return [(_clean_line(n), a.strip()) for n, a in pairs if "@" in a and " " not in a.strip()]


def _subject(msg: Message, raw: Mapping[str, tuple[str, ...]]) -> str:
    try:
        value = str(msg.get("subject") or "")
    except _EMAIL_FAILURES:
        value = _decoded(raw.get("subject", ("",))[0])
    return _clean_line(_unsurrogate(value))


def _date(msg: Message) -> datetime | None:
    try:
        header = msg.get("date")
        value = getattr(header, "datetime", None)
    except (*_EMAIL_FAILURES, OverflowError):
        return None
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # "-0000": the sender's zone is unknown
    return value


# --- MIME structure ----------------------------------------------------------------------

_BROKEN_MULTIPART = (
    email_errors.NoBoundaryInMultipartDefect,
    email_errors.StartBoundaryNotFoundDefect,
)


def _own_parts(part: Message) -> Iterator[Message]:
    """Yield the part and every part inside it, without going inside attached messages."""
    yield part
    if part.get_content_maintype() == "multipart" and part.is_multipart():
        for sub in part.get_payload():
            yield from _own_parts(sub)


def _check_structure(msg: Message) -> None:
    for part in _own_parts(msg):
        broken = [d for d in part.defects if isinstance(d, _BROKEN_MULTIPART)]
        if broken:
            raise ParseError(
                f"malformed MIME: the {part.get_content_type()} part has "
                + ("no boundary" if isinstance(broken[0], _BROKEN_MULTIPART[0]) else "a boundary")
                + (" that never appears" if isinstance(broken[0], _BROKEN_MULTIPART[1]) else "")
                + ", so its parts cannot be told apart"
            )


def _is_text_body(part: Message) -> bool:
    return (
        part.get_content_type() in ("text/plain", "text/html")
        and not part.is_attachment()
        and not part.get_filename()
    )


def _body_parts(part: Message, prefer: str) -> list[Message]:
    """Return the text parts that make up the message's body, in reading order."""
    if part.is_attachment():
        return []
    if _is_text_body(part):
        return [part]
    if part.get_content_maintype() != "multipart" or not part.is_multipart():
        return []
    subparts = list(part.get_payload())
    if part.get_content_subtype() == "alternative":
        choices = [c for c in (_body_parts(s, prefer) for s in subparts) if c]
        for choice in choices:
            if any(p.get_content_type() == prefer for p in choice):
                return choice
        return choices[0] if choices else []
    if part.get_content_subtype() == "related":
        start = part.get_param("start")
        root = next((s for s in subparts if start and s.get("content-id") == start), None)
        return _body_parts(root or subparts[0], prefer) if subparts else []
    return [p for s in subparts for p in _body_parts(s, prefer)]


def _leaves(part: Message) -> Iterator[Message]:
    """Yield every part that is not a multipart, without going inside attached messages."""
    for sub in _own_parts(part):
        if not (sub.get_content_maintype() == "multipart" and sub.is_multipart()):
            yield sub


def _part_text(part: Message) -> str:
    data = part.get_payload(decode=True) or b""
    text = _decode_text(data, part.get_content_charset())
    if part.get_content_type() == "text/html":
        text = html_to_text(text)
    return _clean_text(text)


def _body_text(msg: Message) -> tuple[str, list[Message]]:
    for prefer in ("text/plain", "text/html"):
        parts = _body_parts(msg, prefer)
        text = "\n\n".join(t for t in (_part_text(p) for p in parts) if t)
        if text:
            return text, parts
    return "", _body_parts(msg, "text/plain")


def filename_sanitise(name: str | None, *, fallback: str = "attachment") -> str:
    """Return a safe file name: no folders, no control characters, not hidden, not too long."""
    name = re.sub(r'[<>:"|?*]', "_", _unsurrogate(name or ""))
    return safe_filename(name, default=fallback, max_length=MAX_FILENAME_LENGTH)


def _attachment(part: Message, number: int) -> ParsedAttachment | None:
    content_type = part.get_content_type()
    inline = not part.is_attachment() and bool(part.get("content-id") or "")
    if content_type == "message/rfc822":
        if part.is_multipart():
            inner = part.get_payload(0)
            content = inner.as_bytes(policy=policy.compat32)
            subject = _clean_line(_decoded(str(inner.get("subject", "") or "")))
        else:  # encoded against RFC 2046's rule: keep the decoded bytes
            content, subject = part.get_payload(decode=True) or b"", ""
        fallback = f"{subject[:80] or 'forwarded message'}.eml"
    elif part.get_content_maintype() == "message":
        return None  # delivery and read reports: only bounces carry them, and they are ignored
    else:
        content = part.get_payload(decode=True) or b""
        kind = "inline-image" if content_type.startswith("image/") else "attachment"
        fallback = f"{kind}-{number}{mimetypes.guess_extension(content_type) or '.bin'}"
    filename = filename_sanitise(part.get_filename(), fallback=fallback)
    return ParsedAttachment(
        filename=filename, content_type=content_type, content=content, inline=inline
    )


def _attachments(msg: Message, body: list[Message]) -> tuple[ParsedAttachment, ...]:
    body_ids = {id(p) for p in body}
    found = []
    for part in _leaves(msg):
        if id(part) in body_ids or _is_text_body(part):
            continue  # the body, or its unused alternative
        attachment = _attachment(part, len(found) + 1)
        if attachment is not None:
            found.append(attachment)
    return tuple(found)


# --- Parsing ------------------------------------------------------------------------------


def email_parse(raw: bytes) -> ParsedEmail:
    """Read one RFC 822 message; raise ParseError when it cannot be read without guessing."""
    if not raw or not raw.strip():
        raise ParseError("the message is empty")
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        _check_structure(msg)
        raw_headers = _raw_headers(msg)
        if not raw_headers:
            raise ParseError("the message has no headers")
        text, body = _body_text(msg)
        attachments = _attachments(msg, body)
        senders = _addresses(msg, raw_headers, "from")
        from_name, from_address = senders[0] if senders else ("", "")
        message_id = message_id_normalise(raw_headers.get("message-id", ("",))[0])
        return ParsedEmail(
            message_id=message_id or bytes_id(raw),
            in_reply_to=message_ids(raw_headers.get("in-reply-to", ("",))[0]),
            references=message_ids(" ".join(raw_headers.get("references", ()))),
            from_address=from_address,
            from_name=from_name,
            to=tuple(a.lower() for _n, a in _addresses(msg, raw_headers, "to")),
            cc=tuple(a.lower() for _n, a in _addresses(msg, raw_headers, "cc")),
            delivered_to=tuple(a.lower() for _n, a in _addresses(msg, raw_headers, "delivered-to")),
            original_to=tuple(a.lower() for _n, a in _addresses(msg, raw_headers, "x-original-to")),
            subject=_subject(msg, raw_headers),
            date=_date(msg),
            text=text,
            attachments=attachments,
            content_type=msg.get_content_type(),
            report_type=(msg.get_param("report-type") or "").lower()
            if msg.get_content_type() == "multipart/report"
            else "",
            headers=raw_headers,
        )
    except ParseError:
        raise
    except _EMAIL_FAILURES as exc:
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, LookupError):
            reason = f"unknown character set or encoding ({exc})"
        raise ParseError(f"unreadable MIME: {reason}") from exc


# --- What kind of mail is it? ---------------------------------------------------------------

_AUTO_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto[- ]?reply|autoreply|out of (the )?office( auto ?reply| reply)?"
    r"|abwesenheitsnotiz|r[ée]ponse automatique|autosvar|respuesta autom[áa]tica)\s*:",
    re.IGNORECASE,
)
_BOUNCE_SENDERS = ("mailer-daemon", "postmaster")


def _token(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def is_auto_reply(parsed: ParsedEmail) -> bool:
    """Return whether a machine wrote the message: out-of-office, autoresponder, bulk (RFC 3834).

    X-Auto-Response-Suppress alone does not count: Outlook and ticket systems set it on
    messages people write. Exchange's server-side rules mark their replies with
    X-MS-Exchange-Inbox-Rules-Loop, which does.
    """
    auto_submitted = _token(parsed.header("auto-submitted"))
    return bool(
        (auto_submitted and auto_submitted != "no")
        or parsed.has_header("x-autoreply")
        or parsed.has_header("x-autorespond")
        or parsed.has_header("x-ms-exchange-inbox-rules-loop")
        or _token(parsed.header("precedence")) in ("bulk", "junk", "auto_reply")
        or _AUTO_SUBJECT.match(parsed.subject)
    )


def is_bounce(parsed: ParsedEmail) -> bool:
    """Return whether the message reports a delivery failure (RFC 3464) or comes from one."""
    local_part = parsed.from_address.rsplit("@", 1)[0].lower()
    return bool(
        (parsed.content_type == "multipart/report" and parsed.report_type == "delivery-status")
        or local_part in _BOUNCE_SENDERS
        or (parsed.has_header("return-path") and parsed.header("return-path").strip() == "<>")
    )


def is_list_mail(parsed: ParsedEmail) -> bool:
    """Return whether the message came through a mailing list (RFC 2369, RFC 2919)."""
    return bool(
        parsed.has_header("list-id")
        or parsed.has_header("list-unsubscribe")
        or _token(parsed.header("precedence")) == "list"
    )


def ignore_reason(parsed: ParsedEmail) -> str:
    """Return why the message is not from a person writing to us, or "" when it is."""
    if is_bounce(parsed):
        return "bounce: delivery failure report"
    if is_list_mail(parsed):
        return "mailing list message"
    if is_auto_reply(parsed):
        return "auto-reply: written by a machine, not the customer"
    return ""


def subject_reference(subject: str) -> str:
    """Return the complaint reference (CMP-YYYY-NNNNNN) in `subject`, or ""."""
    match = REFERENCE_RE.search(subject or "")
    return match.group(0).upper() if match else ""
