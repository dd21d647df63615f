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


def complaint_form_data(**overrides) -> dict:
    """What a person not signed in types into the public complaint form (/complain/)."""
    return {
        "token": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
        "name": "Priya Patel",
        "email": "Priya@Example.com",
        "phone": "",
        "account_reference": "",
        "about": "technical_support",
        "subject": "Broadband drops every evening",
        "description": "Since Monday the line drops at 7pm.",
        "preferred_contact_method": "email",
        "customer_type": "consumer",
        "employee_count": "",
        **overrides,
    }
