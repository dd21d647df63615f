"""The actions on a case page of the staff desk: label, form, permission, and one service each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django import forms
from django.conf import settings
from django.utils import timezone

from complaints import forms as desk_forms
from complaints.domain.lifecycle import CLOSED_STATUSES, OPEN_STATUSES, Status, allowed_next
from complaints.models import Complaint
from complaints.services.causes import complaint_categorise, complaint_root_cause_record
from complaints.services.desk import (
    complaint_acknowledge,
    complaint_assign,
    complaint_attachment_add,
    complaint_await_third_party,
    complaint_can_escalate,
    complaint_customer_match,
    complaint_escalate,
    complaint_note_add,
    complaint_reopen,
    complaint_third_party_log,
    complaint_unchanged,
)
from complaints.services.intake import complaint_first_made_change
from complaints.services.remedies import (
    has_voidable_remedy,
    remedy_for_complaint,
    remedy_record,
    remedy_void,
)
from complaints.services.responses import (
    complaint_customer_reply,
    complaint_progress_update,
    complaint_resolution_action,
    complaint_respond,
)
from complaints.services.transitions import complaint_close


@dataclass(frozen=True)
class DeskAction:
    name: str
    label: str
    form: type[forms.Form]
    permission: str
    run: Callable[[Complaint, object, dict], object]
    available: Callable[[Complaint], bool] = lambda complaint: True
    done: str = "Done."
    # Adds to the record without deciding anything, so open to the department during a
    # formal review; everything else on a formal case is for senior managers (COP-15).
    additive: bool = False
    # What the form starts with for this case, beyond the case's version.
    initial: Callable[[Complaint], dict] = lambda complaint: {}

    def allowed(self, complaint: Complaint, user) -> bool:
        """Return whether `user` may take this action on `complaint` now."""
        if not user.has_perm(self.permission) or not self.available(complaint):
            return False
        if complaint.status == Status.FORMAL and not self.additive:
            return user.has_perm("complaints.review_formal")
        return True


def _can_move(to: Status) -> Callable[[Complaint], bool]:
    return lambda complaint: to in allowed_next(complaint.status)


def _open(complaint: Complaint) -> bool:
    return Status(complaint.status) in OPEN_STATUSES


ACTIONS: dict[str, DeskAction] = {
    a.name: a
    for a in (
        DeskAction(
            "assign",
            "Assign",
            desk_forms.AssignForm,
            "complaints.change_complaint",
            lambda c, u, d: complaint_assign(complaint=c, assignee=d["assignee"], actor=u),
            done="Assigned.",
        ),
        DeskAction(
            "acknowledge",
            "Acknowledge",
            desk_forms.OptionalReasonForm,
            "complaints.change_complaint",
            lambda c, u, d: complaint_acknowledge(complaint=c, actor=u, reason=d["reason"]),
            _can_move(Status.ACKNOWLEDGED),
            done="Acknowledged.",
        ),
        DeskAction(
            "match",
            "Match to customer",
            desk_forms.CustomerMatchForm,
            "complaints.change_complaint",
            lambda c, u, d: complaint_customer_match(
                complaint=c, actor=u, account_reference=d["account_reference"], reason=d["reason"]
            ),
            lambda c: bool(c.customer_to_match),
            done="Customer matched.",
            initial=lambda c: {"account_reference": c.stated_account_reference},
        ),
        DeskAction(
            "note",
            "Add internal note",
            desk_forms.NoteForm,
            "complaints.add_casenote",
            lambda c, u, d: complaint_note_add(complaint=c, actor=u, body=d["body"]),
            done="Note added.",
            additive=True,
        ),
        DeskAction(
            "progress",
            "Send progress update",
            desk_forms.ProgressUpdateForm,
            "complaints.add_correspondence",
            lambda c, u, d: complaint_progress_update(complaint=c, actor=u, text=d["text"]),
            _open,
            done="Progress update sent to the customer.",
        ),
        DeskAction(
            "await",
            "Mark awaiting third party",
            desk_forms.AwaitThirdPartyForm,
            "complaints.change_complaint",
            lambda c, u, d: complaint_await_third_party(
                complaint=c, actor=u, third_party_name=d["third_party_name"], reason=d["reason"]
            ),
            _can_move(Status.AWAITING_THIRD_PARTY),
            done="Marked as awaiting the third party.",
        ),
        DeskAction(
            "third_party",
            "Log third-party correspondence",
            desk_forms.ThirdPartyForm,
            "complaints.add_thirdpartycorrespondence",
            lambda c, u, d: complaint_third_party_log(
                complaint=c,
                actor=u,
                third_party_name=d["third_party_name"],
                direction=d["direction"],
                body=d["body"],
            ),
            done="Third-party correspondence recorded.",
            additive=True,
        ),
        DeskAction(
            "attach",
            "Attach technical report",
            desk_forms.AttachmentForm,
            "complaints.add_attachment",
            lambda c, u, d: complaint_attachment_add(
                complaint=c,
                actor=u,
                upload=d["file"],
                customer_visible=d["customer_visible"],
                max_bytes=settings.REDRESS_MAX_ATTACHMENT_BYTES,
            ),
            done="File attached.",
            additive=True,
        ),
        DeskAction(
            "respond",
            "Send response",
            desk_forms.RespondForm,
            "complaints.change_complaint",
            lambda c, u, d: complaint_respond(
                complaint=c,
                actor=u,
                findings=d["findings"],
                fault_found=d["fault_found"],
                remedy_done=d["remedy_done"],
                resolution_proposed=d["resolution_proposed"],
            ),
            _can_move(Status.RESPONDED),
            done="Response sent to the customer.",
        ),
        DeskAction(
            "resolution",
            "Record resolution actioned",
            desk_forms.ResolutionActionedForm,
            "complaints.change_complaint",
            lambda c, u, d: complaint_resolution_action(complaint=c, actor=u, note=d["note"]),
            lambda c: c.resolution_awaiting_action,
            done="Resolution recorded; the customer's 10 working days start now.",
        ),
        DeskAction(
            "contact",
            "Record customer contact",
            desk_forms.CustomerContactForm,
            "complaints.add_correspondence",
            lambda c, u, d: complaint_customer_reply(
                complaint=c, actor=u, body=d["body"], channel=d["channel"]
            ),
            done="Customer contact recorded.",
            additive=True,
        ),
        DeskAction(
            "escalate",
            "Escalate to formal",
            desk_forms.EscalateForm,
            "complaints.change_complaint",
            lambda c, u, d: complaint_escalate(
                complaint=c, actor=u, requested=d["requested"], reason=d["reason"]
            ),
            complaint_can_escalate,
            done="Escalated to a formal complaint.",
        ),
        DeskAction(
            "categorise",
            "Set category and product",
            desk_forms.CategoriseForm,
            "complaints.change_complaint",
            lambda c, u, d: complaint_categorise(
                complaint=c,
                actor=u,
                category=d["category"],
                product=d["product"],
                reason=d["reason"],
            ),  # fmt: skip
            done="Category and product set.",
            initial=lambda c: {
                "category": c.category.code if c.category_id else None,
                "product": c.product.code if c.product_id else None,
            },
        ),
        DeskAction(
            "root_cause",
            "Record root cause",
            desk_forms.RootCauseForm,
            "complaints.change_complaint",
            lambda c, u, d: complaint_root_cause_record(
                complaint=c,
                actor=u,
                root_cause=d["root_cause"],
                company_at_fault=d["company_at_fault"],
                reason=d["reason"],
            ),  # fmt: skip
            done="Root cause recorded.",
            # The record of what went wrong, so also open while a senior manager reviews.
            additive=True,
        ),
        DeskAction(
            "close",
            "Close",
            desk_forms.CloseForm,
            "complaints.change_complaint",
            lambda c, u, d: complaint_close(
                complaint=c, actor=u, closure_reason=d["closure_reason"], reason=d["reason"]
            ),
            # After our response only: a formal case closes by its final proposition (COP-15).
            lambda c: c.status == Status.RESPONDED,
            done="Closed.",
        ),
        DeskAction(
            "reopen",
            "Reopen",
            desk_forms.ReasonForm,
            "complaints.change_complaint",
            lambda c, u, d: complaint_reopen(complaint=c, actor=u, reason=d["reason"]),
            lambda c: Status(c.status) in CLOSED_STATUSES,
            done="Reopened.",
        ),
        DeskAction(
            "first_made",
            "Correct first-made time",
            desk_forms.FirstMadeForm,
            "complaints.change_complaint",
            lambda c, u, d: complaint_first_made_change(
                complaint=c, actor=u, first_made_at=d["first_made_at"], reason=d["reason"]
            ),
            done="First-made time corrected; clocks recomputed.",
        ),
        DeskAction(
            "remedy",
            "Record a remedy given",
            desk_forms.RemedyForm,
            "complaints.add_remedy",
            lambda c, u, d: remedy_record(
                complaint=c,
                actor=u,
                kind=d["kind"],
                amount=d["amount"],
                approved_by=d["approved_by"],
                given_at=d["given_at"],
                note=d["note"],
            ),
            done="Remedy recorded.",
            additive=True,
        ),
        DeskAction(
            "void_remedy",
            "Void a remedy",
            desk_forms.RemedyVoidForm,
            "complaints.change_remedy",
            lambda c, u, d: remedy_void(
                remedy=remedy_for_complaint(complaint=c, pk=d["remedy"]),
                actor=u,
                reason=d["reason"],
            ),
            has_voidable_remedy,
            done="Remedy voided.",
            additive=True,
        ),
    )
}


# Whoever logs a complaint for another department may still add to what they logged (a
# note of something the caller said after, the letter's second page) for this long, without
# seeing the rest of a case that is not theirs.
LOGGER_MAY_ADD_FOR = timedelta(days=7)
LOGGER_ACTIONS = ("note", "attach")


def logger_actions(complaint: Complaint, user, *, now: datetime | None = None) -> list[DeskAction]:
    """The actions the member of staff who logged `complaint` may take without seeing it."""
    now = now or timezone.now()
    if complaint.logged_by_id != user.pk or now - complaint.logged_at > LOGGER_MAY_ADD_FOR:
        return []
    actions = [ACTIONS[name] for name in LOGGER_ACTIONS]
    return [a for a in actions if user.has_perm(a.permission) and a.allowed(complaint, user)]


def desk_action_run(action: DeskAction, *, complaint: Complaint, user, data: dict):
    """Run one action, refusing if the case changed since the form was shown."""
    with complaint_unchanged(complaint, data.get("version")) as locked:
        return action.run(locked, user, data)
