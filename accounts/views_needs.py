"""The portal's "Your needs and how we contact you" page (issue 15 item 1; Ofcom GC C5).

The customer tells us, reads, corrects and withdraws their own needs; consent is their
own act here. Every write is accounts.needs.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.forms import NeedsForm
from accounts.models import ConsentHow, CustomerNeeds
from accounts.needs import needs_record, needs_withdraw
from accounts.services import portal_customer
from complaints.forms import form_errors_add


def _needs(customer):
    return (
        CustomerNeeds.objects.filter(customer=customer)
        .select_related("recorded_by", "named_contact")
        .first()
    )


@login_required
@require_http_methods(["GET", "POST"])
def needs(request):
    """Show what we hold about the customer's needs, and let them record or correct it."""
    customer = portal_customer(request.user)
    if customer is None:
        return redirect("complaints:my-complaints")
    held = _needs(customer)
    form = NeedsForm(request.POST or None, initial=NeedsForm.initial_from(held))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            needs_record(
                customer=customer,
                actor=request.user,
                by_customer=True,
                consent_how=ConsentHow.PORTAL,
                kinds=data["kinds"],
                details=data["details"],
                call_times=data["call_times"],
                communication_format=data["communication_format"],
            )
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(
                request, "Thank you. We have saved your needs and will use them from now on."
            )
            return redirect("accounts:needs")
    return render(request, "accounts/needs.html", {"form": form, "held": held})


@login_required
@require_http_methods(["GET", "POST"])
def needs_withdraw_view(request):
    """Ask before deleting the customer's needs; delete them on the POST."""
    customer = portal_customer(request.user)
    if customer is None:
        return redirect("complaints:my-complaints")
    held = _needs(customer)
    if held is None:
        messages.info(request, "We do not hold any needs for you.")
        return redirect("accounts:needs")
    if request.method == "POST":
        needs_withdraw(customer=customer, actor=request.user, by_customer=True)
        messages.success(
            request,
            "We have deleted your needs. We keep only a note that you told us about them "
            "and later asked us to delete them.",
        )
        return redirect("accounts:needs")
    return render(request, "accounts/needs_withdraw.html", {"held": held})
