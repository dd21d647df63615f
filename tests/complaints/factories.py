"""Factories for complaints. Complaints are made through the intake service, as in real life."""

from datetime import datetime

from complaints.models import Channel, Complaint, Department
from complaints.services.intake import complaint_log
from tests.accounts.factories import CustomerFactory


def complaint_make(
    *,
    customer=None,
    channel: str = Channel.PORTAL,
    department: str = Department.TECHNICAL_SUPPORT,
    subject: str = "Broadband keeps dropping",
    description: str = "It drops every evening.",
    first_made_at: datetime | None = None,
    actor=None,
    **customer_fields,
) -> Complaint:
    """Log a complaint through complaint_log for a new (or the given) customer."""
    return complaint_log(
        customer=customer or CustomerFactory(**customer_fields),
        channel=channel,
        department=department,
        subject=subject,
        description=description,
        first_made_at=first_made_at,
        actor=actor,
    )
