"""The one optional question after a complaint closes: how satisfied (1 to 5), one line.

Issue 16 item 4. The closing notices (auto-closed, COP-10; final proposition, COP-15)
carry a signed link that works without signing in; the portal's complaint page asks the
same question of a signed-in customer. Either way a complaint is answered once: the
database keeps one answer per complaint. No third-party survey service is involved.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse

from complaints.domain.lifecycle import CLOSED_STATUSES, Status
from complaints.models import CaseEvent, Complaint, NoticeKind, SatisfactionResponse

SALT = "redress.satisfaction.v1"
COMMENT_LIMIT = 500
SCORES = {
    1: "1 – very dissatisfied",
    2: "2 – dissatisfied",
    3: "3 – neither satisfied nor dissatisfied",
    4: "4 – satisfied",
    5: "5 – very satisfied",
}
# The notices that close a complaint, and so carry the question (exactly once each).
CLOSING_NOTICES: frozenset[str] = frozenset(
    {NoticeKind.AUTO_CLOSED, NoticeKind.CLOSED, NoticeKind.FINAL_PROPOSITION}
)


class SatisfactionLinkInvalid(Exception):
    """The link was changed, has expired, or is not for this complaint any more."""


class AlreadyAnswered(Exception):
    """The complaint's question was answered before; nothing is changed."""


class NotClosed(Exception):
    """The complaint is open again: the question waits until it closes."""


def satisfaction_link_days() -> int:
    return settings.REDRESS_SATISFACTION_LINK_DAYS


def satisfaction_token(complaint: Complaint) -> str:
    """Return the signed token naming the complaint and its customer."""
    return signing.dumps({"c": complaint.pk, "u": complaint.customer_id}, salt=SALT)


def satisfaction_link(complaint: Complaint) -> str:
    """Return the full address of the complaint's satisfaction question, for a notice."""
    path = reverse("complaints:satisfaction", args=[satisfaction_token(complaint)])
    return settings.REDRESS_PORTAL_URL.rstrip("/") + path


def satisfaction_complaint(token: str) -> Complaint:
    """Return the complaint a signed link names, or raise SatisfactionLinkInvalid saying why."""
    days = satisfaction_link_days()
    try:
        payload = signing.loads(token, salt=SALT, max_age=timedelta(days=days))
    except signing.SignatureExpired as exc:
        raise SatisfactionLinkInvalid(
            f"This link has expired: links work for {days} days after we send them."
        ) from exc
    except signing.BadSignature as exc:
        raise SatisfactionLinkInvalid(
            "This link is not valid. Check you copied all of it from our message."
        ) from exc
    complaint = (
        Complaint.objects.filter(pk=payload.get("c"), customer_id=payload.get("u"))
        .only("pk", "reference", "subject", "status", "customer_id", "department")
        .first()
    )
    if complaint is None:
        raise SatisfactionLinkInvalid("This link is not valid for any complaint.")
    return complaint


def satisfaction_open(complaint: Complaint) -> bool:
    """Return whether the question may be answered now: closed, and not yet answered."""
    return (
        Status(complaint.status) in CLOSED_STATUSES
        and not SatisfactionResponse.objects.filter(complaint_id=complaint.pk).exists()
    )


def satisfaction_of(complaint: Complaint) -> SatisfactionResponse | None:
    return SatisfactionResponse.objects.filter(complaint_id=complaint.pk).first()


@transaction.atomic
def satisfaction_record(
    *, complaint: Complaint, score: int, comment: str = "", via: str, actor=None
) -> SatisfactionResponse:
    """Record the customer's answer, once; raise AlreadyAnswered on a second try.

    Only for a closed complaint (NotClosed once it is reopened). The history says the
    question was answered and the score; the comment stays on the answer.
    """
    if int(score) not in SCORES:
        raise ValueError("The score is 1 to 5.")
    comment = " ".join(comment.split())[:COMMENT_LIMIT]
    locked = Complaint.objects.select_for_update().only("pk", "status").get(pk=complaint.pk)
    if SatisfactionResponse.objects.filter(complaint_id=locked.pk).exists():
        raise AlreadyAnswered
    if Status(locked.status) not in CLOSED_STATUSES:
        raise NotClosed
    try:
        with transaction.atomic():
            answer = SatisfactionResponse.objects.create(
                complaint_id=locked.pk, score=int(score), comment=comment, via=via
            )
    except IntegrityError:
        raise AlreadyAnswered from None
    CaseEvent.objects.record(
        complaint=complaint,
        kind=CaseEvent.Kind.SATISFACTION,
        actor=actor,
        reason=f"The customer said how satisfied they are: {int(score)} out of 5"
        + (" (with a comment)." if comment else "."),
        extra={"score": int(score), "via": via},
    )
    return answer
