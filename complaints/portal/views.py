"""Portal pages. Each view checks who is asking, then calls one service or selector."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.tokens import default_token_generator
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.views.decorators.http import require_GET, require_http_methods

from accounts.backends import LOGIN_BACKEND
from accounts.emails import confirmation_email_send
from accounts.models import CommunicationFormat, Customer
from accounts.needs import communication_format
from accounts.representatives import authority_for, represents_anyone
from accounts.services import (
    AlreadyConfirmed,
    ConfirmationInvalid,
    email_confirm,
    portal_customer,
)
from complaints.domain.lifecycle import CLOSED_STATUSES, Status
from complaints.domain.wording import date_words, moment_words
from complaints.forms import form_errors_add
from complaints.models import Complaint
from complaints.paging import paged
from complaints.portal.filed import filed_by_this_browser, filed_remember
from complaints.portal.forms import (
    ComplaintForm,
    DeadlockForm,
    EscalateForm,
    ReplyForm,
    ResendConfirmationForm,
)
from complaints.selectors import (
    complaint_customer_clocks,
    complaint_timeline,
    portal_complaints_for,
)
from complaints.services.desk import complaint_can_escalate
from complaints.services.notices import letter_large_print_copy, letters_with_large_print_copy
from complaints.services.portal import (
    complaint_deadlock_request,
    portal_complaint_file,
    portal_escalate,
    portal_reply,
)
from complaints.services.responses import complaint_customer_next_step

CODE_TEXT = Path(settings.BASE_DIR) / "templates" / "portal" / "code-of-practice.txt"


# --- Public pages (COP-02, COP-20) --------------------------------------------------------


@require_GET
def home(request):
    """Show how to complain, by every channel, with the company's details from settings."""
    return render(request, "portal/home.html")


@require_GET
def code_of_practice(request):
    """Show the Complaints Code of Practice itself (COP-20)."""
    paragraphs = [p.strip() for p in CODE_TEXT.read_text(encoding="utf-8").split("\n\n")]
    return render(request, "portal/code.html", {"paragraphs": [p for p in paragraphs if p]})


@require_GET
def what_happens_next(request):
    """Explain the process and its time limits in plain English."""
    return render(request, "portal/next.html")


# --- Making a complaint (COP-01, COP-05, COP-16) -----------------------------------------------


@require_http_methods(["GET", "POST"])
def complain(request):
    """Make a complaint, signed in or not; the same form sent twice files once."""
    customer = portal_customer(request.user, filing=True)
    form = ComplaintForm(request.POST or None, request.FILES or None, signed_in_customer=customer)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        email = customer.email if customer else data["email"]
        try:
            complaint, created = portal_complaint_file(
                token=data["token"],
                user=request.user,
                customer=customer,
                name=customer.name if customer else data["name"],
                email=email,
                phone=data["phone"],
                account_reference=data["account_reference"],
                department=data["about"],
                subject=data["subject"],
                description=data["description"],
                preferred_contact_method=data["preferred_contact_method"],
                customer_type=data["customer_type"],
                employee_count=data["employee_count"],
                files=data["files"],
                postal_address=data["postal_address"],
            )
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            if created and customer is None:
                # Sent once the filing is committed (it is, here), as before.
                user = request.user if request.user.is_authenticated else None
                confirmation_email_send(request, email=email, user=user)
            response = redirect("complaints:complaint-sent", complaint.reference)
            filed_remember(request, response, complaint.pk)  # a signed cookie, no session row
            return response
    return render(request, "portal/complain.html", {"form": form, "customer": customer})


@require_GET
def complaint_sent(request, reference: str):
    """Confirm a complaint just made: reference, next step and reply date (COP-05)."""
    complaint = get_object_or_404(
        Complaint, reference=reference, pk__in=filed_by_this_browser(request)
    )
    confirmed = portal_customer(request.user)
    return render(
        request,
        "portal/sent.html",
        {
            "complaint": complaint,
            "response_due": moment_words(
                complaint.response_due_at, timezone.get_default_timezone()
            ),
            "immediate_action": settings.REDRESS_IMMEDIATE_ACTION.get(complaint.department, ""),
            "can_view": confirmed is not None and complaint.customer_id == confirmed.pk,
        },
    )


@require_http_methods(["GET", "POST"])
def confirm(request, token: str):
    """Confirm an email address from a signed link: a button, since GET changes nothing."""
    if request.method == "POST":
        try:
            user = email_confirm(token=token, max_age_days=settings.REDRESS_CONFIRM_LINK_DAYS)
        except ConfirmationInvalid as exc:
            return render(
                request,
                "portal/confirm.html",
                {"error": str(exc), "form": ResendConfirmationForm()},
            )
        except AlreadyConfirmed as exc:
            return _already_confirmed(request, exc.user)
        login(request, user, backend=LOGIN_BACKEND)
        messages.success(request, "Thank you: your email address is confirmed.")
        return redirect("complaints:my-complaints")
    return render(request, "portal/confirm.html", {"token": token})


def _already_confirmed(request, user):
    """Answer a used link: say so and send the person to sign in, never signing them in.

    Whoever is already signed in as that customer goes to their complaints. A customer who
    came in by the link alone has no password to sign in with, so the address (never the
    holder of the link) is sent one to choose.
    """
    said = "This address is already confirmed."
    if request.user.is_authenticated and request.user.pk == user.pk:
        messages.info(request, said)
        return redirect("complaints:my-complaints")
    if user.has_usable_password():
        messages.info(request, f"{said} Sign in to see your complaints.")
    else:
        _choose_password_email_send(request, user=user)
        messages.info(
            request,
            f"{said} You have not chosen a password yet, so we have emailed you a link to "
            "choose a password; then sign in here to see your complaints.",
        )
    return redirect_to_login(reverse("complaints:my-complaints"))


def _choose_password_email_send(request, *, user) -> None:
    """Email, after commit, the password reset link to a login that has no password yet.

    Django's reset form sends nothing to a login without a usable password; the link and
    its one-time token are the same as a reset's.
    """
    path = reverse(
        "accounts:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    body = render_to_string(
        "portal/choose_password_email.txt",
        {"email": user.email, "link": request.build_absolute_uri(path)},
    )
    company = settings.REDRESS_COMPANY["name"]
    transaction.on_commit(
        lambda: send_mail(
            f"Choose a password for your {company} complaints account",
            body,
            None,
            [user.email],
            fail_silently=True,
        )
    )


@require_http_methods(["GET", "POST"])
def confirm_resend(request):
    """Send a fresh confirmation link; says the same whether or not we know the address."""
    form = ResendConfirmationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].lower()
        if Customer.objects.filter(email__iexact=email).exists():
            user = request.user if request.user.is_authenticated else None
            confirmation_email_send(request, email=email, user=user)
        messages.success(
            request, f"If we have a complaint from {email}, we have sent a new link to it."
        )
        return redirect("complaints:home")
    return render(request, "portal/confirm_resend.html", {"form": form})


# --- My complaints ---------------------------------------------------------------

# A business may have many complaints; the list is read a page at a time.
MY_COMPLAINTS_PER_PAGE = 25


def _mine(request, reference: str, *, acting: bool = True) -> Complaint:
    """Return a complaint the signed-in person may act on (`acting`) or see, or 404.

    Their own; or one they represent the customer on with authority in force, and to act
    only with "may act on the complaint" (issue 15 item 4; GC C5).
    """
    return get_object_or_404(
        portal_complaints_for(request.user, acting=acting), reference=reference
    )


def _representing(request, complaint: Complaint):
    """Return the authority by which the signed-in person sees someone else's complaint."""
    if complaint.customer.user_id == request.user.pk:
        return None
    return authority_for(request.user, complaint)


@login_required
@require_GET
def my_complaints(request):
    """List the customer's complaints with their status in plain words."""
    customer = portal_customer(request.user)
    if customer is None and not represents_anyone(request.user):
        return render(request, "portal/confirm_needed.html", {"form": ResendConfirmationForm()})
    complaints = (
        portal_complaints_for(request.user)
        .select_related(None)
        .only("reference", "subject", "first_made_at", "status")
        .order_by("-first_made_at", "-pk")
    )
    # The list reads one table a page at a time from its index: no joins to skip.
    mine = paged(request, complaints, per_page=MY_COMPLAINTS_PER_PAGE, paginator=Paginator)
    return render(
        request, "portal/my_complaints.html", {"paged": mine, "rows": _my_rows(mine.page)}
    )


def _my_rows(page) -> list[dict[str, str]]:
    """The list's cells, worked out once here rather than by template tags in every row."""
    url = _detail_url_maker()
    return [
        {
            "reference": c.reference,
            "url": url(c.reference),
            "subject": c.subject,
            "made_on": f"{timezone.localtime(c.first_made_at):%-d %B %Y}",
            "status": Status(c.status).customer_label,
        }
        for c in page.object_list
    ]


def _detail_url_maker():
    """A function giving a complaint's page from its reference: one reverse() for the list.

    reverse() costs about as much as the rest of a row; references are URL-safe (CMP-…).
    """
    marker = "CMP-0000-000000"
    url = reverse("complaints:complaint-detail", args=[marker])
    before, after = url.split(marker)
    return lambda reference: f"{before}{reference}{after}"


def _actions(complaint: Complaint, *, may_act: bool = True) -> dict[str, bool]:
    return {
        "can_reply": may_act,
        "can_escalate": may_act and complaint_can_escalate(complaint),
        "can_ask_deadlock": may_act
        and complaint.deadlock_requested_at is None
        and complaint.deadlock_letter_received_at is None,
    }


def _final_proposition(complaint: Complaint) -> dict[str, str]:
    """The final proposition as the customer reads it on the page, not only in its letter."""
    from escalation.services import reviewer_title

    case = complaint.formal_case
    manager = case.senior_manager
    return {
        "register_reference": case.register_reference,
        "reviewer": f"{manager.name or manager.email}, {reviewer_title(manager)}"
        if manager
        else "a senior manager",
        "sent_on": date_words(case.final_proposition_sent_at, timezone.get_default_timezone()),
        "findings": case.findings,
        "proposed_action": case.proposed_action,
    }


@login_required
@require_GET
def complaint_detail(request, reference: str):
    """Show one complaint: status, every clock in words, the timeline, letters, actions."""
    complaint = get_object_or_404(
        # The page shows the formal case and its reviewer: read them with the complaint.
        portal_complaints_for(request.user).select_related("formal_case__senior_manager"),
        reference=reference,
    )
    now = timezone.now()
    next_step = complaint_customer_next_step(complaint, now=now)
    representing = _representing(request, complaint)
    return render(
        request,
        "portal/detail.html",
        {
            "complaint": complaint,
            "representing": representing,
            "status_words": Status(complaint.status).customer_label,
            "clocks": complaint_customer_clocks(complaint, now=now),
            "timeline": complaint_timeline(complaint, customer_view=True),
            "next_step": next_step,
            "proposition": _final_proposition(complaint) if next_step.after_proposition else None,
            # A customer who asked for large print is offered it for every letter we sent
            # (the letters sent since they asked are in large print already).
            "large_print_letters": letters_with_large_print_copy(complaint)
            if communication_format(complaint.customer) == CommunicationFormat.LARGE_PRINT
            else set(),
            **_actions(complaint, may_act=representing is None or representing.act_on_case),
            **_satisfaction_question(
                complaint, may_act=representing is None or representing.act_on_case
            ),
        },
    )


def _satisfaction_question(complaint: Complaint, *, may_act: bool) -> dict:
    """A closed complaint asks the one optional question on its page too (issue 16 item 4),
    through the same signed link as the closing notice, until it is answered; then it
    thanks. Nothing is asked (and no query made) while the complaint is open."""
    from complaints.services.satisfaction import satisfaction_of, satisfaction_token

    if Status(complaint.status) not in CLOSED_STATUSES:
        return {}
    answer = satisfaction_of(complaint)
    if answer is not None:
        return {"satisfaction_answer": answer}
    if not may_act:
        return {}
    return {
        "satisfaction_url": reverse("complaints:satisfaction", args=[satisfaction_token(complaint)])
    }


@login_required
@require_http_methods(["GET", "POST"])
def complaint_reply(request, reference: str):
    """Reply to us about a complaint, with files; it reopens a closed one (COP-10), except
    after the final proposition, when the message is kept and the complaint stays closed."""
    complaint = _mine(request, reference)
    next_step = complaint_customer_next_step(complaint, now=timezone.now())
    form = ReplyForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            portal_reply(
                complaint=complaint,
                user=request.user,
                body=form.cleaned_data["body"],
                files=form.cleaned_data["files"],
            )
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, next_step.reply_thanks)
            return redirect("complaints:complaint-detail", complaint.reference)
    return render(
        request,
        "portal/reply.html",
        {"complaint": complaint, "form": form, "next_step": next_step},
    )


@login_required
@require_http_methods(["GET", "POST"])
def complaint_escalate(request, reference: str):
    """'I am still not satisfied': ask for the Technical Director or Company Secretary."""
    complaint = _mine(request, reference)
    if not _actions(complaint)["can_escalate"]:
        done = getattr(getattr(complaint, "formal_case", None), "final_proposition_sent_at", None)
        messages.info(
            request,
            "We have sent our final proposition; you can now take your complaint to the "
            "ombudsman (see below)."
            if done
            else "A senior manager is already reviewing this complaint.",
        )
        return redirect("complaints:complaint-detail", complaint.reference)
    form = EscalateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        portal_escalate(complaint=complaint, user=request.user, **form.cleaned_data)
        messages.success(
            request,
            "Your complaint is now a formal complaint. A senior manager will review it and "
            "report to you directly.",
        )
        return redirect("complaints:complaint-detail", complaint.reference)
    return render(request, "portal/escalate.html", {"complaint": complaint, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def complaint_deadlock(request, reference: str):
    """Ask for a deadlock letter (COP-17)."""
    complaint = _mine(request, reference)
    form = DeadlockForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        complaint_deadlock_request(
            complaint=complaint, user=request.user, reason=form.cleaned_data["reason"]
        )
        messages.success(
            request, "We have your request. A senior manager will send you the letter."
        )
        return redirect("complaints:complaint-detail", complaint.reference)
    return render(request, "portal/deadlock.html", {"complaint": complaint, "form": form})


@login_required
@require_GET
def complaint_file(request, reference: str, pk: int):
    """Download a letter or file on the customer's own complaint that they may see."""
    complaint = _mine(request, reference, acting=False)
    attachment = complaint.attachments.filter(pk=pk, customer_visible=True).first()
    if attachment is None:
        raise Http404("No such file.")
    if request.GET.get("print") == "large":
        copy = letter_large_print_copy(attachment)
        if copy is None:
            raise Http404("There is no large-print copy of this file.")
        name, pdf = copy
        return FileResponse(
            BytesIO(pdf), as_attachment=True, filename=name, content_type="application/pdf"
        )
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        # Removed under the retention policy (the row and its history are kept).
        raise Http404("This file is no longer held.") from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )


# --- The satisfaction question (issue 16 item 4) -------------------------------------


@require_http_methods(["GET", "POST"])
def satisfaction(request, token: str):
    """Answer the one optional question through the signed link in a closing notice.

    No sign-in: the link is the customer's. Answerable once; a changed or expired link,
    or a complaint open again, is told plainly and nothing is written.
    """
    from complaints.models import SatisfactionResponse
    from complaints.portal.forms import SatisfactionForm
    from complaints.services.satisfaction import (
        AlreadyAnswered,
        NotClosed,
        SatisfactionLinkInvalid,
        satisfaction_complaint,
        satisfaction_open,
        satisfaction_record,
    )

    try:
        complaint = satisfaction_complaint(token)
    except SatisfactionLinkInvalid as exc:
        return render(request, "portal/satisfaction.html", {"problem": str(exc)}, status=400)
    context = {"complaint": complaint}
    if not satisfaction_open(complaint):
        return render(request, "portal/satisfaction.html", {**context, "state": _state(complaint)})
    form = SatisfactionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            satisfaction_record(
                complaint=complaint,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
                via=SatisfactionResponse.Via.LINK,
                actor=complaint.customer.user,
            )
        except AlreadyAnswered:
            return render(request, "portal/satisfaction.html", {**context, "state": "answered"})
        except NotClosed:
            return render(request, "portal/satisfaction.html", {**context, "state": "open"})
        return render(request, "portal/satisfaction.html", {**context, "state": "thanks"})
    return render(request, "portal/satisfaction.html", {**context, "form": form})


def _state(complaint: Complaint) -> str:
    from complaints.services.satisfaction import satisfaction_of

    return "answered" if satisfaction_of(complaint) else "open"
