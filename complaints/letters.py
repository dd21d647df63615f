"""PDF letters for customers who agreed to contact by post (COP-16, COP-17, COP-20)."""

from __future__ import annotations

from io import BytesIO
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from complaints.domain.wording import date_words


def _paragraph(text: str, style) -> Paragraph:
    # reportlab parses markup in paragraphs: escape everything the customer or staff wrote.
    safe = escape(text.replace("\x00", "")).replace("\n", "<br/>")
    return Paragraph(safe, style)


def letter_pdf(*, recipient: str, reference: str, subject: str, body: str) -> bytes:
    """Return a one-letter PDF: our address, the recipient's, date, reference, text, footer."""
    company = settings.REDRESS_COMPANY
    styles = getSampleStyleSheet()
    normal, small = styles["BodyText"], styles["Italic"]
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=subject,
        author=company["name"],
    )
    today = date_words(timezone.now(), timezone.get_default_timezone())
    story = [
        _paragraph(company["postal_address"], normal),
        _paragraph(f"Telephone {company['phone']} ({company['office_hours']})", normal),
        Spacer(1, 8 * mm),
        _paragraph(recipient, normal),
        Spacer(1, 8 * mm),
        _paragraph(today, normal),
        _paragraph(f"Our reference: {reference}", normal),
        Spacer(1, 6 * mm),
        _paragraph(subject, styles["Heading3"]),
    ]
    for block in body.split("\n\n"):
        story.append(_paragraph(block, normal))
    story += [
        Spacer(1, 10 * mm),
        _paragraph(f"{company['name']}. {company['registration']}.", small),
    ]
    doc.build(story)
    return buffer.getvalue()
