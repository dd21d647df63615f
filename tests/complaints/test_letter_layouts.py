"""The two PDF letter layouts, read back: large print at 16pt or more on every line
(issue 15 item 2; RNIB clear print), and the standard layout as it always was."""

import math
from io import BytesIO

from pypdf import PdfReader

from complaints.letters import LARGE_PRINT_POINTS, letter_pdf

LONG_BODY = "\n\n".join(
    f"Paragraph {n}. We looked into the dropped connections at your address and found "
    "a fault on the line between the cabinet and the exchange." * 3
    for n in range(12)
)


def text_runs(pdf: bytes) -> list[tuple[str, float, str]]:
    """Return every text run of `pdf` as (text, size in points on the page, font name)."""
    runs = []
    for page in PdfReader(BytesIO(pdf)).pages:

        def visit(text, cm, tm, font_dict, font_size, runs=runs):
            if not text.strip():
                return
            # The size on the page: the font size scaled by the text and current matrices.
            scale = math.hypot(tm[0], tm[1]) * math.hypot(cm[0], cm[1])
            font = (font_dict or {}).get("/BaseFont", "")
            runs.append((text.strip(), font_size * scale, str(font)))

        page.extract_text(visitor_text=visit)
    return runs


def letter(**overrides) -> bytes:
    fields = {
        "recipient": "Priya Patel\n12 Station Road\nBristol BS1 4DJ",
        "reference": "CMP-2026-000042 (formal complaint FCR-2026-0007)",
        "subject": "Your complaint CMP-2026-000042: your right to an independent review (ADR)",
        "body": "Dear Priya Patel,\n\n" + LONG_BODY + "\n\nYours sincerely,\nCustomer Services",
    }
    return letter_pdf(**(fields | overrides))


def test_every_line_of_a_large_print_letter_is_16pt_or_more_in_a_sans_serif_font():
    """Body, heading, addresses, date, reference and footer, on every page."""
    pdf = letter(large_print=True)
    runs = text_runs(pdf)
    assert len(PdfReader(BytesIO(pdf)).pages) > 1  # the long body runs over pages
    texts = " ".join(t for t, _, _ in runs)
    for part in ("Avon House", "Telephone", "Priya Patel", "Bristol BS1 4DJ", "Our reference"):
        assert part in texts
    assert "Paragraph 11." in texts and "Yours sincerely" in texts and "soVision IT Ltd." in texts
    too_small = [(t, size) for t, size, _ in runs if size < LARGE_PRINT_POINTS - 0.01]
    assert too_small == []
    assert {font for _, _, font in runs} <= {"/Helvetica", "/Helvetica-Bold"}  # no italics


def test_the_large_print_heading_stands_out_from_the_text():
    runs = text_runs(letter(large_print=True))
    heading = max(size for t, size, _ in runs if t.startswith("Your complaint"))
    assert heading >= LARGE_PRINT_POINTS + 4


def test_the_standard_letter_is_unchanged():
    """10pt text, 12pt heading, italic footer, one page for a short letter."""
    pdf = letter(body="Dear Priya Patel,\n\nThank you.\n\nYours sincerely,\nCustomer Services")
    runs = text_runs(pdf)
    assert len(PdfReader(BytesIO(pdf)).pages) == 1
    sizes = {round(size, 1) for _, size, _ in runs}
    assert sizes == {10.0, 12.0}
    footer = [font for t, _, font in runs if t.startswith("soVision IT Ltd.")]
    assert footer == ["/Helvetica-Oblique"]
    assert PdfReader(BytesIO(pdf)).metadata.title.endswith("(ADR)")


def test_hostile_text_in_a_large_print_letter_is_printed_not_interpreted():
    pdf = letter(subject="<font size=4>tiny</font>", body="<para>& <b>x", large_print=True)
    runs = text_runs(pdf)
    assert "<font size=4>tiny</font>" in " ".join(t for t, _, _ in runs)
    assert min(size for _, size, _ in runs) >= LARGE_PRINT_POINTS
