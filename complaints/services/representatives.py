"""A representative's authority, on the complaints it is over (issue 15 item 4; GC C5).

accounts/representatives.py sends ``representative_changed`` inside its transaction when
authority is given, withdrawn or expires; this writes it into the history of each
affected complaint: the named complaints, or all the customer's open complaints.
"""

from __future__ import annotations

from accounts.representatives import affected_complaints
from complaints.models import CaseEvent, Complaint


def representative_on_complaints(*, representative, what, actor, reason, at, **_signal) -> None:
    """Record an authority given, withdrawn or expired on each complaint it is over."""
    ids = list(affected_complaints(representative).values_list("pk", flat=True))
    for complaint in Complaint.objects.select_for_update().filter(pk__in=ids).order_by("pk"):
        CaseEvent.objects.record(
            complaint=complaint,
            kind=CaseEvent.Kind.REPRESENTATIVE,
            actor=actor,
            reason=reason,
            at=at,
            extra={"representative_id": representative.pk, "what": what},
        )
