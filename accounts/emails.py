"""Account emails sent straight to the address given (not case notices)."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse

from accounts.services import email_confirmation_token


def confirmation_email_send(request, *, email: str, user=None) -> None:
    """Email, after commit, a signed link that proves the address is the customer's."""
    token = email_confirmation_token(email=email, user=user)
    link = request.build_absolute_uri(reverse("complaints:confirm", args=[token]))
    days = settings.REDRESS_CONFIRM_LINK_DAYS
    company = settings.REDRESS_COMPANY["name"]
    body = (
        f"Please confirm your email address to follow your complaints with {company} online:"
        f"\n\n{link}\n\nThe link works for {days} days. If you did not ask for this, you can "
        "ignore this email."
    )
    transaction.on_commit(
        lambda: send_mail("Confirm your email address", body, None, [email], fail_silently=True)
    )
