"""Portal privacy pages: download the data we hold, ask for it to be erased (UK GDPR)."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.retention import customer_data_export, erasure_request
from accounts.services import portal_customer


@login_required
@require_http_methods(["GET", "POST"])
def privacy_export(request):
    """Explain the export on GET; on POST download everything we hold as JSON."""
    customer = portal_customer(request.user)
    if customer is None:
        return redirect("complaints:my-complaints")
    if request.method == "POST":
        data = customer_data_export(customer=customer)
        stamp = timezone.localdate().isoformat()
        response = HttpResponse(
            json.dumps(data, indent=2, ensure_ascii=False),
            content_type="application/json",
        )
        response["Content-Disposition"] = f'attachment; filename="my-data-{stamp}.json"'
        response["Cache-Control"] = "no-store"
        return response
    return render(request, "accounts/privacy_export.html", {"customer": customer})


@login_required
@require_http_methods(["GET", "POST"])
def privacy_erase(request):
    """Explain erasure on GET; on POST make the request and show what came of it."""
    customer = portal_customer(request.user)
    if customer is None:
        return redirect("complaints:my-complaints")
    if request.method == "POST":
        outcome = erasure_request(customer=customer, actor=request.user)
        if outcome.granted:
            logout(request)  # the login is disabled with the rest of the personal data
        context = {"outcome": outcome, "retention_years": settings.REDRESS_RETENTION_YEARS}
        return render(request, "accounts/privacy_erase.html", context)
    return render(request, "accounts/privacy_erase.html", {"customer": customer})
