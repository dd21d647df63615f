"""PDF letters for customers who agreed to contact by post (COP-16, COP-17, COP-20).

Two layouts: the standard one, and large print (issue 15 item 2) for a customer whose
recorded needs ask for it: every line at 16pt or more, sans-serif, left-aligned, with
generous spacing (RNIB "Clear print" and Ofcom guidance).
"""

from __future__ import annotations

from datetime import datetime
from io import BytesIO
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import timezone
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from complaints.domain.wording import date_words

# The smallest type size of the large-print layout, in points (RNIB: 16pt to 18pt).
LARGE_PRINT_POINTS = 16


def _paragraph(text: str, style) -> Paragraph:
    # reportlab parses markup in paragraphs: escape everything the customer or staff wrote.
    safe = escape(text.replace("\x00", "")).replace("\n", "<br/>")
    return Paragraph(safe, style)


def _styles(large_print: bool) -> tuple:
    """Return the body, heading and footer styles of a layout."""
    styles = getSampleStyleSheet()
    if not large_print:
        return styles["BodyText"], styles["Heading3"], styles["Italic"]
    body = ParagraphStyle(
        "LargePrintBody",
        fontName="Helvetica",
        fontSize=LARGE_PRINT_POINTS,
        leading=LARGE_PRINT_POINTS * 1.5,
        alignment=TA_LEFT,
        spaceAfter=LARGE_PRINT_POINTS * 0.75,
    )
    heading = ParagraphStyle(
        "LargePrintHeading",
        parent=body,
        fontName="Helvetica-Bold",
        fontSize=LARGE_PRINT_POINTS + 4,
        leading=(LARGE_PRINT_POINTS + 4) * 1.4,
        spaceBefore=LARGE_PRINT_POINTS * 0.5,
    )
    # No italics in large print: they are harder to read.
    return body, heading, body


def letter_today(dated: datetime | None = None) -> str:
    """Return the date printed on a letter: `dated` (when it was first sent), or today."""
    return date_words(dated or timezone.now(), timezone.get_default_timezone())


def letter_pdf(
    *,
    recipient: str,
    reference: str,
    subject: str,
    body: str,
    large_print: bool = False,
    dated: datetime | None = None,
) -> bytes:
    """Return a one-letter PDF: our address, the recipient's, date, reference, text, footer.

    `dated` prints a letter sent earlier with its own date (a large-print copy of it).
    """
    company = settings.REDRESS_COMPANY
    normal, heading, small = _styles(large_print)
    margin = 20 * mm if large_print else 25 * mm
    gap = 1.5 if large_print else 1
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=f"{subject} (large print)" if large_print else subject,
        author=company["name"],
    )
    story = [
        _paragraph(company["postal_address"], normal),
        _paragraph(f"Telephone {company['phone']} ({company['office_hours']})", normal),
        Spacer(1, 8 * mm * gap),
        _paragraph(recipient, normal),
        Spacer(1, 8 * mm * gap),
        _paragraph(letter_today(dated), normal),
        _paragraph(f"Our reference: {reference}", normal),
        Spacer(1, 6 * mm * gap),
        _paragraph(subject, heading),
    ]
    for block in body.split("\n\n"):
        story.append(_paragraph(block, normal))
    story += [
        Spacer(1, 10 * mm),
        _paragraph(f"{company['name']}. {company['registration']}.", small),
    ]
    doc.build(story)
    return buffer.getvalue()


def letter_text(*, reference: str, subject: str, body: str) -> str:
    """Return the whole letter as plain text, for the body of an email with no attachment."""
    company = settings.REDRESS_COMPANY
    return "\n\n".join(
        [
            letter_today(),
            f"Our reference: {reference}",
            subject,
            body.strip(),
            f"{company['name']}, {company['postal_address']}. "
            f"Telephone {company['phone']} ({company['office_hours']}).",
            f"{company['registration']}.",
        ]
    ).replace("\n\n\n", "\n\n")
