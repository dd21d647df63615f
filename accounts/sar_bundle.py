"""The response to a subject access request: one ZIP of everything we hold about a customer.

Built in the background by complaints.bundles (kind SUBJECT_ACCESS), registered in
accounts.apps. The data comes from accounts.retention.customer_data_export, the same
gathering as the portal's download, with the stored files added:

    data.json             everything, machine-readable (profile, complaints, history,
                          correspondence, notices, notes, requests, recorded needs)
    summary.txt           the same, in plain words
    complaints/<ref>/letters/   every letter we sent (PDF)
    complaints/<ref>/files/     every other file on the case (uploads, scans, reports)
    manifest.json         each file: where it is, its size and SHA-256
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile

from django.utils import timezone

from accounts.models import ContactMethod, Customer, CustomerType, SubjectAccessRequest
from accounts.retention import customer_data_export
from complaints.models import Attachment

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _safe_name(name: str) -> str:
    """Return a file name that cannot climb out of its folder in the ZIP."""
    cleaned = _UNSAFE.sub("_", name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).lstrip("._")
    return cleaned[:120] or "file"


def _plain(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str | int | float | bool | list | dict) or value is None:
        return value
    return str(value)


def requests_section(customer: Customer) -> list[dict]:
    """Return the customer's subject access requests and their history."""
    rows = SubjectAccessRequest.objects.filter(customer=customer).prefetch_related("events")
    return [
        {
            "reference": sar.reference,
            "received_at": sar.received_at.isoformat(),
            "channel": sar.get_channel_display(),
            "state": sar.get_state_display(),
            "due_on": sar.due_on.isoformat(),
            "extended_due_on": sar.extended_due_on.isoformat() if sar.extended_due_on else None,
            "extension_reason": sar.extension_reason,
            "history": [
                {"at": e.at.isoformat(), "what": e.get_kind_display(), "note": e.reason}
                for e in sar.events.all()
            ],
        }
        for sar in rows.order_by("received_at", "pk")
    ]


# The summary is read by the customer: the JSON keeps the codes, the text says them in words.
_WORDS = {
    "preferred_contact_method": dict(ContactMethod.choices),
    "customer_type": dict(CustomerType.choices),
}
_DIRECTION = {"in": "from you", "out": "from us"}


def _in_words(key: str, value) -> str:
    return str(_WORDS.get(key, {}).get(value, value))


def _summary(data: dict, files: list[dict]) -> str:
    """Return the export in plain words, for someone who does not read JSON."""
    profile = data["profile"]
    lines = [
        "Everything we hold about you",
        "=" * 28,
        f"Prepared on {data['exported_at'][:10]}.",
        "",
        data["about"],
        "",
        "Your details",
        "------------",
        *(
            f"{k.replace('_', ' ').capitalize()}: {_in_words(k, v)}"
            for k, v in profile.items()
            if v not in (None, "")
        ),  # fmt: skip
        "",
        f"Your complaints ({len(data['complaints'])})",
        "-------------------",
    ]
    for c in data["complaints"]:
        lines += [
            "",
            f"{c['reference']}: {c['subject']}",
            f"  Status: {c['status']}. Made on {str(c['dates']['first_made_at'])[:10]} by "
            f"{c['channel']}.",
            f"  What you told us: {c['description']}",
            f"  Messages between us: {len(c['correspondence'])}; notices and letters: "
            f"{len(c['notices'])}; internal notes: {len(c['internal']['case_notes'])}.",
        ]
        for m in c["correspondence"]:
            way = _DIRECTION.get(m["direction"], m["direction"])
            lines.append(f"  - {str(m['at'])[:16]} {way} ({m['channel']}): {m['body']}")
    lines += ["", "Your requests for your data", "---------------------------"]
    for r in data["subject_access_requests"]:
        lines.append(f"{r['reference']}: received {r['received_at'][:10]}, {r['state'].lower()}.")
    lines += ["", "Needs and circumstances you told us about", "-" * 41]
    needs = data["needs"]  # accounts.retention's export of the recorded needs (issue 15)
    if not needs:
        lines.append("None recorded.")
    else:
        lines.append("Needs: " + (", ".join(needs["needs"]) or "none from our list"))
        lines += [
            f"{label}: {needs[key]}"
            for key, label in (
                ("details", "In your words"),
                ("call_times", "Times to call"),
                ("communication_format", "How we send letters and updates"),
                ("update_interval_working_days", "Progress updates every (working days)"),
                ("named_contact", "Your named contact"),
                ("consent_how", "How you agreed to us recording them"),
                ("review_on", "We will review them on"),
            )
            if needs[key]
        ]
    lines += ["", "People acting for you", "---------------------"]
    reps = data.get("representatives") or []  # accounts.retention's export (issue 15 item 4)
    if not reps:
        lines.append("None recorded.")
    for rep in reps:
        what = [
            words
            for flag, words in (
                ("receives_letters", "receives our letters"),
                ("may_act_on_the_complaint", "may act on your complaints"),
            )
            if rep[flag]
        ]
        scope = rep["for"] if isinstance(rep["for"], str) else ", ".join(rep["for"])
        lines.append(
            f"{rep['name']} ({rep['relationship'].lower()}): {rep['state']}; "
            f"{' and '.join(what) or 'sees your complaints'}; for {scope}. "
            f"Authority seen: {rep['authority_seen']}."
        )
    lines += ["", f"Files ({len(files)})", "-----"]
    lines += [f"- {f['path']} ({f['size']} bytes)" for f in files]
    return "\n".join(lines) + "\n"


def sar_bundle_build(bundle, archive: zipfile.ZipFile, progress) -> None:
    """Write the customer's data, letters and files into the open ZIP (a bundle builder)."""
    customer = Customer.objects.get(pk=bundle.customer_id)
    attachments = list(
        Attachment.objects.filter(complaint__customer=customer)
        .select_related("complaint")
        .order_by("complaint__reference", "at", "pk")
    )
    total = len(attachments) + 2
    progress(0, total)
    data = customer_data_export(customer=customer)
    data["subject_access_requests"] = requests_section(customer)
    files = []
    for done, a in enumerate(attachments, start=1):
        folder = "letters" if a.kind == Attachment.Kind.LETTER_SENT else "files"
        path = f"complaints/{a.complaint.reference}/{folder}/{a.pk}-{_safe_name(a.original_name)}"
        entry = {
            "path": path,
            "complaint": a.complaint.reference,
            "kind": a.get_kind_display(),
            "file_name": a.original_name,
            "at": a.at.isoformat(),
            "shown_on_the_portal": a.customer_visible,
        }
        if a.file and a.file.storage.exists(a.file.name):
            with a.file.open("rb") as f:
                content = f.read()
            archive.writestr(path, content)
            entry |= {"size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
        else:
            # Deleted under the retention policy or an erasure: say so rather than fail.
            entry |= {"size": 0, "missing": "the stored file no longer exists"}
        files.append(entry)
        progress(done, total)
    data["files"] = files
    archive.writestr("data.json", json.dumps(data, indent=2, ensure_ascii=False))
    progress(total - 1, total)
    archive.writestr("summary.txt", _summary(data, files))
    archive.writestr(
        "manifest.json",
        json.dumps(
            {"customer": customer.pk, "built_at": timezone.now().isoformat(), "files": files},
            indent=2,
        ),
    )
    progress(total, total)
