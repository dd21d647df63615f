"""The ombudsman's case file (COP-18): one ZIP with a PDF summary, every file and a JSON twin.

Built in the background by complaints.bundles (kind ``ombudsman_case_file``). The ZIP holds:

    case-summary.pdf              the customer, dates, every clock and whether it was met,
                                  the timeline, the review findings, the final proposition
    case.json                     the same, machine-readable (shape: CASE_FILE_FORMAT, in
                                  docs/readme-casefile.md), with every history row's hash
    letters/<name>                every letter we sent, under its own name
    files/<kind>/<name>           every other file on the case (customer's files, scans,
                                  technical reports, email attachments), under its own name

Kept on the case for staff who may see it; never shown to the customer (who has every
letter already, and may ask for their data under UK GDPR).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from functools import partial
from io import BytesIO
from xml.sax.saxutils import escape

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from complaints.bundles import READY, can_view_default, on_event_default, register_builder
from complaints.clocks import clocks_save, complaint_clocks_explained
from complaints.domain.case_file import case_file_met
from complaints.models import Attachment, Bundle, BundleKind, BundleState, Complaint
from complaints.selectors import complaint_timeline
from complaints.services.history import event_canonical

CASE_FILE_FORMAT = "redress.ombudsman-case-file/1"
# Longest text of one timeline entry in the PDF; case.json always has the whole text.
PDF_ENTRY_CHARS = 3000

# The folder of each kind of file in the ZIP.
FOLDERS = {
    Attachment.Kind.LETTER_SENT: "letters",
    Attachment.Kind.CUSTOMER_UPLOAD: "files/customer-files",
    Attachment.Kind.LETTER_SCAN: "files/letter-scans",
    Attachment.Kind.TECHNICAL_REPORT: "files/technical-reports",
    Attachment.Kind.EMAIL_ATTACHMENT: "files/email-attachments",
    Attachment.Kind.FULL_TEXT: "files/full-texts",
}

MET, MISSED, PENDING, CUSTOMER = "met", "missed", "not yet due", "not applicable"


def _iso(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def _local(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%a %d %b %Y %H:%M") if value else "-"


def clock_outcomes(complaint: Complaint, *, now: datetime, producing: bool = False) -> list[dict]:
    """Every clock of the case (complaint_clocks_explained) with whether it was met.

    A company duty is met when done by its time, missed when done late or not done by
    then, and not yet due before then. The customer's own clocks (how long they have to
    reply, or to go to the ombudsman) are not ours to meet: "not applicable", with what
    happened. With `producing`, the case file being made now counts as ready now, unless
    one was ready before.
    """

    def duty(done_at: datetime | None, due_at: datetime | None) -> tuple[str, datetime | None]:
        if due_at is None:
            return CUSTOMER, done_at
        if done_at is not None:
            return (MET if done_at <= due_at else MISSED), done_at
        return (MISSED if now > due_at else PENDING), None

    rows = []
    for clock in complaint_clocks_explained(complaint):
        due = clock.due_at
        note = ""
        if clock.rule == "response_due":
            outcome, done = duty(complaint.first_responded_at, due)
        elif clock.rule == "resolution_target":
            done = complaint.resolved_at
            met = complaint.resolution_target_met
            if met is None:
                outcome, done = duty(done, due)
            else:
                outcome = MET if met else MISSED
        elif clock.rule == "progress_update":
            outcome, done = duty(None, due)
        elif clock.rule == "adr_eligible":
            done = complaint.adr_letter_sent_at
            if done is not None:
                outcome, note = MET, "ADR letter sent"
            elif complaint.adr_checked_at is not None:
                outcome, note = CUSTOMER, "ADR point reached; no letter needed"
            else:
                outcome = PENDING if now <= due else MISSED
        elif clock.rule == "osc_warning":
            done = complaint.osc_warning_done_for
            outcome = MET if done == due else (PENDING if now <= due else MISSED)
            done = None
            note = "customer warned, or no warning needed" if outcome == MET else ""
        elif clock.rule == "case_file_due":
            done = complaint.case_file_ready_at
            if done is None and producing:
                done, note = now, "this case file"
            met = case_file_met(due, done, now=now)
            outcome = PENDING if met is None else (MET if met else MISSED)
        else:  # auto_close, osc_deadline: the customer's time
            outcome, done = CUSTOMER, None
            if clock.rule == "auto_close" and complaint.closure_reason == "deemed_resolved":
                note = "closed as deemed resolved"
            if clock.rule == "osc_deadline" and complaint.osc_window_closed:
                note = "the customer's window has closed"
        rows.append(
            {
                "rule": clock.rule,
                "due_at": _iso(due),
                "outcome": outcome,
                "done_at": _iso(done),
                "note": note,
                "explanation": clock.explanation,
            }
        )
    return rows


def _safe_name(name: str) -> str:
    """A file's own name, made safe as one ZIP entry name (no folders, no control chars)."""
    name = re.sub(r"[\x00-\x1f\x7f/\\]", "_", name).strip().lstrip(".") or "file"
    return name[:200]


def _entry_names(attachments) -> dict[int, str]:
    """Each attachment's path in the ZIP: its folder and own name, made unique with " (2)"."""
    used: set[str] = set()
    paths = {}
    for a in attachments:
        folder = FOLDERS.get(a.kind, "files/other")
        stem, dot, ext = _safe_name(a.original_name).rpartition(".")
        if not dot:
            stem, ext = ext, ""
        candidate, n = f"{folder}/{stem}{dot}{ext}", 1
        while candidate.lower() in used:
            n += 1
            candidate = f"{folder}/{stem} ({n}){dot}{ext}"
        used.add(candidate.lower())
        paths[a.pk] = candidate
    return paths


def case_file_data(complaint: Complaint, *, bundle: Bundle, now: datetime, files: list) -> dict:
    """The case file's JSON (CASE_FILE_FORMAT): the case as the PDF shows it, and more."""
    customer = complaint.customer
    case = getattr(complaint, "formal_case", None)
    referral = getattr(complaint, "adr_referral", None)
    events = list(complaint.events.order_by("seq"))
    return {
        "format": CASE_FILE_FORMAT,
        "generated_at": _iso(now),
        "generated_by": str(bundle.requested_by) if bundle.requested_by_id else "system",
        "case_file_version": bundle.version,
        "company": settings.REDRESS_COMPANY["name"],
        "complaint": {
            "reference": complaint.reference,
            "register_reference": case.register_reference if case else None,
            "subject": complaint.subject,
            "description": complaint.description,
            "channel": complaint.channel,
            "department": complaint.department,
            "status": complaint.status,
            "closure_reason": complaint.closure_reason or None,
            "first_made_at": _iso(complaint.first_made_at),
            "logged_at": _iso(complaint.logged_at),
            "acknowledged_at": _iso(complaint.acknowledged_at),
            "first_responded_at": _iso(complaint.first_responded_at),
            "resolved_at": _iso(complaint.resolved_at),
            "closed_at": _iso(complaint.closed_at),
            "deadlock_letter_received_at": _iso(complaint.deadlock_letter_received_at),
            "adr_letter_sent_at": _iso(complaint.adr_letter_sent_at),
        },
        "customer": {
            "name": customer.name,
            "account_reference": customer.account_reference or None,
            "email": customer.email or None,
            "phone": customer.phone or None,
            "customer_type": customer.customer_type,
            "preferred_contact_method": customer.preferred_contact_method,
        },
        "formal_case": None
        if case is None
        else {
            "register_reference": case.register_reference,
            "opened_at": _iso(case.opened_at),
            "customer_asked_for": case.requested,
            "senior_manager": str(case.senior_manager) if case.senior_manager_id else None,
            "reason": case.reason,
            "further_investigation": case.further_investigation,
            "findings": case.findings,
            "proposed_action": case.proposed_action,
            "outcome": case.outcome,
            "final_proposition_sent_at": _iso(case.final_proposition_sent_at),
        },
        "adr_referral": None
        if referral is None
        else {
            "referred_at": _iso(referral.referred_at),
            "scheme_reference": referral.scheme_reference or None,
            "case_file_requested_on": (
                referral.case_file_requested_on.isoformat()
                if referral.case_file_requested_on
                else None
            ),
            "case_file_reference": referral.case_file_reference or None,
            "case_file_due_at": _iso(complaint.case_file_due_at),
            "decision": referral.decision,
            "decided_at": _iso(referral.decided_at),
            "customer_accepted": referral.customer_accepted,
            "remedy": referral.remedy or None,
            "remedy_due_at": _iso(referral.remedy_due_at),
            "remedy_completed_at": _iso(referral.remedy_completed_at),
        },
        "clocks": clock_outcomes(complaint, now=now, producing=True),
        "timeline": [
            {
                "at": _iso(e.at),
                "kind": e.kind,
                "who": e.who,
                "title": e.title,
                "text": e.text,
                "customer_visible": e.customer_visible,
                **(
                    {"file": files_by_id[e.attachment_id]} if e.attachment_id in files_by_id else {}
                ),
            }
            for files_by_id in [{f["id"]: f["path"] for f in files if f["path"]}]
            for e in complaint_timeline(complaint)
        ],
        "history": {
            "hash_algorithm": "SHA-256 of the UTF-8 bytes of each event's canonical JSON",
            "count": complaint.history_count,
            "head": complaint.history_head,
            "events": [
                {
                    "seq": e.seq,
                    "at": _iso(e.at),
                    "kind": e.kind,
                    "actor": e.actor_label,
                    "from_status": e.from_status,
                    "to_status": e.to_status,
                    "reason": e.reason,
                    "extra": e.extra,
                    "prev_hash": e.prev_hash,
                    "hash": e.hash,
                    "canonical": event_canonical(e),
                }
                for e in events
            ],
        },
        "files": files,
    }


def _paragraph(text: str, style) -> Paragraph:
    safe = escape(str(text).replace("\x00", "")).replace("\n", "<br/>")
    return Paragraph(safe, style)


def case_file_pdf(data: dict) -> bytes:
    """The case summary a person at the ombudsman reads first, from the case file's data."""
    styles = getSampleStyleSheet()
    normal, small, h2 = styles["BodyText"], styles["Italic"], styles["Heading2"]
    cell = styles["BodyText"].clone("cell", fontSize=8, leading=10)
    complaint, customer = data["complaint"], data["customer"]
    case, referral = data["formal_case"], data["adr_referral"]
    reference = complaint["reference"] + (
        f" / {complaint['register_reference']}" if complaint["register_reference"] else ""
    )
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"Case file {reference}",
        author=data["company"],
    )

    def when(value):
        return _local(datetime.fromisoformat(value)) if value else "-"

    def table(rows, widths, header=True):
        t = Table(
            [[_paragraph(c, cell) for c in row] for row in rows], colWidths=widths, repeatRows=1
        )
        style = [
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
        if header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")))
        t.setStyle(TableStyle(style))
        return t

    story = [
        _paragraph(f"Case file for the ombudsman: {reference}", styles["Title"]),
        _paragraph(
            f"{data['company']}. Version {data['case_file_version']}, produced "
            f"{when(data['generated_at'])} by {data['generated_by']}.",
            small,
        ),
    ]
    if referral and referral["case_file_reference"]:
        story.append(
            _paragraph(
                f"Requested by the scheme on {referral['case_file_requested_on']} "
                f"(their reference {referral['case_file_reference']}), due "
                f"{when(referral['case_file_due_at'])}.",
                normal,
            )
        )
    story += [
        _paragraph("The complaint", h2),
        table(
            [
                ["Reference", reference],
                ["Subject", complaint["subject"]],
                ["Customer", customer["name"]],
                ["Account reference", customer["account_reference"] or "-"],
                ["Contact", " ".join(filter(None, [customer["email"], customer["phone"]]))],
                ["Customer type", customer["customer_type"]],
                ["Channel", complaint["channel"]],
                ["Department", complaint["department"]],
                ["Status", complaint["status"]],
                ["First made", when(complaint["first_made_at"])],
                ["Acknowledged", when(complaint["acknowledged_at"])],
                ["First response", when(complaint["first_responded_at"])],
                ["Resolved", when(complaint["resolved_at"])],
                ["Closed", when(complaint["closed_at"])],
                ["Deadlock letter", when(complaint["deadlock_letter_received_at"])],
                ["ADR letter", when(complaint["adr_letter_sent_at"])],
            ],
            [45 * mm, 129 * mm],
            header=False,
        ),
        _paragraph("What the customer said", h2),
        _paragraph(complaint["description"][:PDF_ENTRY_CHARS], normal),
        _paragraph("Every clock and whether it was met", h2),
        table(
            [["Clock", "Due", "Met?", "Done", "How it was worked out"]]
            + [
                [
                    c["rule"].replace("_", " "),
                    when(c["due_at"]),
                    c["outcome"] + (f" ({c['note']})" if c["note"] else ""),
                    when(c["done_at"]),
                    c["explanation"],
                ]
                for c in data["clocks"]
            ],
            [26 * mm, 27 * mm, 27 * mm, 27 * mm, 67 * mm],
        ),
    ]
    if case:
        story += [
            _paragraph(f"Formal review ({case['register_reference']})", h2),
            table(
                [
                    ["Escalated", when(case["opened_at"])],
                    ["Reviewing senior manager", case["senior_manager"] or "-"],
                    ["Why still dissatisfied", case["reason"]],
                    ["Further investigation", case["further_investigation"] or "-"],
                    ["Findings", case["findings"] or "-"],
                ],
                [45 * mm, 129 * mm],
                header=False,
            ),
            _paragraph("The final proposition", h2),
            _paragraph(
                (
                    f"Sent {when(case['final_proposition_sent_at'])}: {case['proposed_action']}"
                    if case["final_proposition_sent_at"]
                    else "Not sent yet."
                ),
                normal,
            ),
        ]
    if referral:
        story += [
            _paragraph("ADR referral", h2),
            _paragraph(
                f"Referred {when(referral['referred_at'])}"
                + (
                    f" (scheme reference {referral['scheme_reference']})"
                    if referral["scheme_reference"]
                    else ""
                )
                + f". Decision: {referral['decision']}"
                + (f", {when(referral['decided_at'])}" if referral["decided_at"] else "")
                + ".",
                normal,
            ),
        ]
    story += [
        _paragraph("Timeline", h2),
        table(
            [["When", "Who", "What", "Details"]]
            + [
                [
                    when(e["at"]),
                    e["who"],
                    e["title"],
                    e["text"][:PDF_ENTRY_CHARS]
                    + (" (continues in case.json)" if len(e["text"]) > PDF_ENTRY_CHARS else ""),
                ]
                for e in data["timeline"]
            ],
            [27 * mm, 30 * mm, 42 * mm, 75 * mm],
        ),
        _paragraph("Files in this case file", h2),
        table(
            [["File", "Kind", "Size", "SHA-256"]]
            + [
                [
                    f["path"] or f"{f['original_name']} (no longer held)",
                    f["kind"],
                    f"{f['size']:,}",
                    f["sha256"] or "-",
                ]
                for f in data["files"]
            ],
            [58 * mm, 30 * mm, 18 * mm, 68 * mm],
        ),
        Spacer(1, 4 * mm),
        _paragraph(
            f"The case history has {data['history']['count']} events; the last event's hash is "
            f"{data['history']['head']}. case.json lists every event with its hash, the hash "
            "of the event before it and the exact text hashed (SHA-256), so the chain can be "
            "checked without our systems.",
            small,
        ),
    ]
    doc.build(story)
    return buffer.getvalue()


def build_case_file(bundle: Bundle, archive, progress) -> None:
    """The builder of the ombudsman's case file (registered for complaints.bundles)."""
    complaint = Complaint.objects.select_related(
        "customer", "formal_case__senior_manager", "adr_referral"
    ).get(pk=bundle.complaint_id)
    now = timezone.now()
    attachments = list(complaint.attachments.order_by("at", "pk"))
    total = len(attachments) + 2
    progress(0, total)
    paths = _entry_names(attachments)
    files = []
    for done, a in enumerate(attachments, start=1):
        entry = {
            "id": a.pk,
            "path": paths[a.pk],
            "original_name": a.original_name,
            "kind": a.kind,
            "content_type": a.content_type,
            "size": a.size,
            "at": _iso(a.at),
            "customer_visible": a.customer_visible,
            "sha256": None,
        }
        try:
            handle = a.file.open("rb")
        except FileNotFoundError:
            # Removed under the retention policy: listed, not included.
            entry["path"] = None
        else:
            digest = hashlib.sha256()
            with handle, archive.open(paths[a.pk], "w") as out:
                for block in iter(partial(handle.read, 1 << 20), b""):
                    digest.update(block)
                    out.write(block)
            entry["sha256"] = digest.hexdigest()
        files.append(entry)
        progress(done, total)
    data = case_file_data(complaint, bundle=bundle, now=now, files=files)
    archive.writestr("case.json", json.dumps(data, indent=2, ensure_ascii=False))
    progress(total - 1, total)
    archive.writestr("case-summary.pdf", case_file_pdf(data))
    progress(total, total)


def _on_event(bundle: Bundle, event: str, actor) -> None:
    """History as for every bundle; a ready case file also meets the scheme's deadline."""
    on_event_default(bundle, event, actor)
    if event != READY:
        return
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update(of=("self",)).get(pk=bundle.complaint_id)
        if complaint.case_file_due_at is None or complaint.case_file_ready_at is not None:
            return
        referral = getattr(complaint, "adr_referral", None)
        requested = referral.case_file_requested_on if referral else None
        if requested and timezone.localtime(bundle.created_at).date() >= requested:
            complaint.case_file_ready_at = bundle.finished_at
            clocks_save(complaint, bump_version=False)


def _filename(bundle: Bundle) -> str:
    complaint = bundle.complaint
    case = getattr(complaint, "formal_case", None)
    name = case.register_reference if case else complaint.reference
    return f"{name}-case-file-v{bundle.version}.zip"


def case_file_ready_since(complaint: Complaint, requested_on) -> datetime | None:
    """When the first case file requested on or after `requested_on` was ready, if any."""
    first = (
        Bundle.objects.filter(
            kind=BundleKind.OMBUDSMAN_CASE_FILE,
            complaint=complaint,
            state=BundleState.READY,
        )
        .order_by("version")
        .values_list("created_at", "finished_at")
    )
    for created, finished in first:
        if timezone.localtime(created).date() >= requested_on:
            return finished
    return None


def register() -> None:
    """Register the case file's builder, access rule, history and file name (apps.ready)."""
    register_builder(
        BundleKind.OMBUDSMAN_CASE_FILE,
        build_case_file,
        can_view=can_view_default,  # staff who may see the case's files
        on_event=_on_event,
        filename=_filename,
    )
