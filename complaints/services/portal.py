"""What customers do on the portal: file a complaint, reply, escalate, ask for deadlock."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Customer, CustomerType
from accounts.needs import UNREAD, needs_of, needs_read
from accounts.representatives import Recipients, recipients_if_unrepresented, with_represented
from complaints.models import (
    Attachment,
    CaseEvent,
    Channel,
    Complaint,
    HistoryBatch,
    NoticeKind,
    StaffAlert,
)
from complaints.services.desk import complaint_escalate
from complaints.services.intake import complaint_log
from complaints.services.notices import notice_send
from complaints.services.responses import complaint_customer_reply
from complaints.services.transitions import complaint_transition
from complaints.transactions import whole_transaction
from complaints.uploads import upload_check


def _files_check(files) -> list:
    files = [f for f in files or [] if f]
    if len(files) > settings.REDRESS_PORTAL_MAX_FILES:
        raise ValidationError(
            {"files": f"Attach at most {settings.REDRESS_PORTAL_MAX_FILES} files."}
        )
    checked = []
    for upload in files:
        try:
            checked.append(
                (upload, upload_check(upload, max_bytes=settings.REDRESS_MAX_ATTACHMENT_BYTES))
            )
        except ValidationError as exc:
            raise ValidationError({"files": f"{upload.name}: {' '.join(exc.messages)}"}) from exc
    return checked


def _files_save(complaint: Complaint, checked, *, actor) -> None:
    for upload, info in checked:
        attachment = Attachment(
            complaint=complaint,
            kind=Attachment.Kind.CUSTOMER_UPLOAD,
            original_name=info.name,
            content_type=info.content_type,
            size=info.size,
            customer_visible=True,
            uploaded_by=actor,
        )
        attachment.file.save(info.name, File(upload), save=False)
        attachment.save()


def customer_for_stated_reference(
    customer: Customer | None, *, stated: str, email: str
) -> tuple[Customer | None, str]:
    """Decide whose complaint this is when the complainant typed an account reference.

    Anyone can type a reference (it is printed on every invoice), so a typed reference
    alone never attaches a complaint to an account: the complaint goes to the holder of
    the reference only when `email` is that holder's confirmed address. Otherwise it stays
    with `customer` (found by email, or None for a new record) and the second value says
    why staff must match it by hand (the desk's "Customer to match" queue); it is empty
    when nothing needs checking.
    """
    if not stated:
        return customer, ""
    holder = Customer.objects.filter(account_reference__iexact=stated).first()
    if holder is None:
        if customer is not None and customer.account_reference:
            return customer, (
                f"Stated account reference {stated} is not the {customer.account_reference} "
                "on this customer's record."
            )
        return customer, ""
    if customer is not None and holder.pk == customer.pk:
        return customer, ""
    if holder.email_confirmed_at and email and holder.email.strip().lower() == email.lower():
        return holder, ""
    return customer, f"Stated account reference {stated} belongs to another customer record."


def portal_submission_complaint(token: str) -> Complaint | None:
    """Return the complaint an earlier sending of the form `token` filed, or None."""
    return Complaint.objects.filter(portal_token=token).first()


def _customer_fill(
    customer: Customer,
    *,
    phone: str,
    stated: str,
    to_match: str,
    customer_type: str,
    employee_count: int | None,
    postal_address: str = "",
) -> bool:
    """Fill in what the record lacks; never overwrite what the customer or staff recorded.

    Returns whether anything changed.
    """
    before = (
        customer.phone,
        customer.postal_address,
        customer.account_reference,
        customer.customer_type,
        customer.employee_count,
    )
    fills = [("phone", phone.strip()), ("postal_address", postal_address.strip())]
    if stated and not to_match:
        fills.append(("account_reference", stated))
    for field, value in fills:
        if value and not getattr(customer, field):
            setattr(customer, field, value)
    if customer.customer_type == CustomerType.UNKNOWN and customer_type:
        customer.customer_type = customer_type
        customer.employee_count = employee_count if customer_type == CustomerType.BUSINESS else None
    return before != (
        customer.phone,
        customer.postal_address,
        customer.account_reference,
        customer.customer_type,
        customer.employee_count,
    )


def portal_complaint_file(*, token: str, **fields) -> tuple[Complaint, bool]:
    """File a complaint from the portal; return it and whether this call created it.

    The form's one-time `token` makes a double-click (or a resent form) file once: the
    second sender gets the first complaint. The token is written with the complaint
    (Complaint.portal_token, unique), so claiming it costs no statement of its own: a
    second sending's complaint breaks the unique index (PostgreSQL makes it wait until the
    first one's transaction ends), and its whole transaction, reference number and all,
    rolls back before any file reaches storage. One transaction, all or nothing, without
    savepoints inside (complaints.transactions); `fields` are _portal_complaint_file's.
    """
    try:
        with whole_transaction():
            return _portal_complaint_file(token=token, **fields), True
    except IntegrityError:
        earlier = portal_submission_complaint(token)
        if earlier is None:  # another constraint: not a second sending of this form
            raise
        return earlier, False


def _portal_complaint_file(
    *,
    token: str,
    user,
    customer: Customer | None,
    name: str,
    email: str,
    phone: str,
    account_reference: str,
    department: str,
    subject: str,
    description: str,
    preferred_contact_method: str,
    customer_type: str,
    employee_count: int | None,
    files=(),
    postal_address: str = "",
) -> Complaint:
    """File the complaint (in portal_complaint_file's transaction).

    `customer` is the signed-in customer with a confirmed email; otherwise the complaint
    goes to the customer with this email address (or a new one) and stays hidden until the
    address is confirmed. Attachments are checked first, so a bad file saves nothing.

    The history rows are written together at the end (models.HistoryBatch), and the
    customer's needs and representatives are read once (none for a new customer): the
    same rows as logging, notifying and acknowledging one by one, in fewer round trips.
    """
    checked = _files_check(files)
    needs, needs_of_whom = UNREAD, None
    if customer is None:
        email = email.strip().lower()
        found = with_represented(Customer.objects.filter(email__iexact=email))
        customer = found.select_related("needs").order_by("user", "-pk").first() if email else None
    if customer is not None and Customer.needs.is_cached(customer):
        # Read with the customer (found here, in this transaction; or signed in, with the
        # login a moment before it: portal_customer(filing=True)).
        needs, needs_of_whom = needs_of(customer), customer
    stated = account_reference.strip()
    customer, to_match = customer_for_stated_reference(
        customer, stated=stated, email=(customer.email if customer else email) or email
    )
    new_customer = customer is None
    if new_customer:
        customer = Customer(name=name.strip(), email=email)
    changed = _customer_fill(
        customer,
        phone=phone,
        stated=stated,
        to_match=to_match,
        customer_type=customer_type,
        employee_count=employee_count,
        postal_address=postal_address,
    )
    if new_customer or changed:
        # The unique account reference and the business-only employee count are the
        # database's constraints; customer_for_stated_reference has just looked the
        # reference up and Customer.clean() checks the count, so full_clean's own queries
        # for them (one each, in a savepoint) would find nothing new.
        customer.full_clean(validate_unique=False, validate_constraints=False)
        customer.save()
    if new_customer:
        needs = None
    elif customer is not needs_of_whom:
        needs = needs_read(customer)  # the signed-in customer, or the reference's holder
    # A customer created in this transaction has no representatives yet; one read with
    # with_represented() may have never had one (no query then either).
    if new_customer:
        recipients = Recipients(representatives=(), customer=True)
    else:
        recipients = recipients_if_unrepresented(customer)

    with HistoryBatch():
        complaint, alarms = _file(
            customer=customer,
            department=department,
            subject=subject,
            description=description,
            preferred_contact_method=preferred_contact_method,
            stated=stated,
            to_match=to_match,
            needs=needs,
            recipients=recipients,
            files=checked,
            uploader=user if getattr(user, "is_authenticated", False) else None,
            token=token,
        )
        complaint_transition(
            complaint=complaint,
            to="acknowledged",
            actor=None,
            reason="Acknowledged on the portal and by the customer's contact method (COP-05).",
            locked=True,  # created just now, in this transaction
            alarms=alarms,
        )
    return complaint


def _file(
    *,
    customer,
    department,
    subject,
    description,
    preferred_contact_method,
    stated,
    to_match,
    needs,
    recipients,
    files,
    uploader,
    token: str,
) -> tuple[Complaint, dict]:
    """Log the complaint with its files and send its acknowledgement; return it and its alarms."""
    alarms: dict = {}
    complaint = complaint_log(
        customer=customer,
        channel=Channel.PORTAL,
        department=department,
        subject=subject,
        description=description,
        agreed_contact_method=preferred_contact_method,
        actor=None,
        reason="Complaint made on the portal.",
        stated_account_reference=stated,
        customer_to_match=to_match,
        needs=needs,
        alarms=alarms,
        portal_token=token,  # claimed here, before the files go to storage
    )
    _files_save(complaint, files, actor=uploader)
    # COP-05: the customer hears at once: reference, what happens next, when we reply.
    notice_send(
        complaint=complaint,
        kind=NoticeKind.ACKNOWLEDGEMENT,
        deadline_at=complaint.first_made_at,
        needs=needs,
        recipients=recipients,
    )
    return complaint, alarms


@transaction.atomic
def portal_reply(*, complaint: Complaint, user, body: str, files=()) -> Complaint:
    """Record the customer's reply from the portal, with any files (COP-10)."""
    checked = _files_check(files)
    complaint = complaint_customer_reply(
        complaint=complaint, body=body, channel=Channel.PORTAL, actor=user
    )
    _files_save(complaint, checked, actor=user)
    return complaint


def portal_escalate(*, complaint: Complaint, user, requested: str, reason: str) -> Complaint:
    """'I am still not satisfied': the complaint goes formal (COP-11, COP-15)."""
    return complaint_escalate(complaint=complaint, actor=user, requested=requested, reason=reason)


@transaction.atomic
def complaint_deadlock_request(*, complaint: Complaint, user, reason: str) -> Complaint:
    """Record the customer's request for a deadlock letter and alert the managers (COP-17)."""
    locked = Complaint.objects.select_for_update(of=("self",)).get(pk=complaint.pk)
    if locked.deadlock_requested_at:
        return locked

    now = timezone.now()
    locked.deadlock_requested_at = now
    locked.save(update_fields=["deadlock_requested_at"])
    CaseEvent.objects.record(
        complaint=locked,
        kind=CaseEvent.Kind.CORRESPONDENCE,
        actor=user,
        reason="The customer asked for a deadlock letter (COP-17)"
        + (f": {reason.strip()}" if (reason or "").strip() else "."),
        at=now,
    )
    StaffAlert.objects.get_or_create(
        complaint=locked,
        kind="deadlock_request",
        deadline_at=now,
        audience=StaffAlert.Audience.MANAGERS,
        defaults={
            "department": locked.department,
            "message": f"{locked.reference}: the customer asked for a deadlock letter (COP-17).",
        },
    )
    return locked
