"""Recorded needs of a customer (issue 15 items 1 and 3; Ofcom GC C5).

Recording, correcting, reviewing and withdrawing needs go through here, whoever does it:
the customer on the portal, staff on the desk, or an integration through the API.
"""

from __future__ import annotations

from accounts.models import CommunicationFormat, Customer, CustomerNeeds


def communication_format(customer: Customer) -> str:
    """Return the CommunicationFormat in force for `customer`; STANDARD without a record."""
    try:
        needs = customer.needs
    except CustomerNeeds.DoesNotExist:
        return CommunicationFormat.STANDARD
    return needs.communication_format or CommunicationFormat.STANDARD
