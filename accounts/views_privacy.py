"""Portal privacy pages: ask for or download the data we hold, ask for erasure (UK GDPR)."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.models import SubjectAccessRequest as SAR
from accounts.retention import customer_data_export, erasure_request
from accounts.sar import SarRuleError, sar_bundle_filename, sar_customer_can_download, sar_open
from accounts.services import portal_customer
from complaints.bundles import bundle_downloaded


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
    open_request = SAR.objects.filter(
        customer=customer, state__in=[SAR.State.OPEN, SAR.State.EXTENDED]
    ).first()
    return render(
        request,
        "accounts/privacy_export.html",
        {"customer": customer, "open_request": open_request},
    )


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


@login_required
@require_http_methods(["POST"])
def sar_request(request):
    """Ask for everything we hold: a subject access request, with its clock (UK GDPR art. 15)."""
    customer = portal_customer(request.user)
    if customer is None:
        return redirect("complaints:my-complaints")
    try:
        opened = sar_open(customer=customer, channel=SAR.Channel.PORTAL, actor=request.user)
    except SarRuleError as exc:
        messages.error(request, str(exc))
        return redirect("accounts:privacy_export")
    sar = opened.request
    if opened.created:
        messages.success(request, f"We have your request. Its reference is {sar.reference}.")
    else:
        messages.info(
            request,
            f"You already have a request with us ({sar.reference}); we will answer it by "
            "the date below.",
        )
    return redirect("accounts:sar-list")


@login_required
@require_http_methods(["GET"])
def sar_list(request):
    """The customer's requests for their data: when we received each, and when it is due."""
    customer = portal_customer(request.user)
    if customer is None:
        return redirect("complaints:my-complaints")
    requests = list(
        SAR.objects.filter(customer=customer).select_related("bundle").order_by("-received_at")
    )
    return render(request, "accounts/sar_list.html", {"requests": requests})


@login_required
@require_http_methods(["GET"])
def sar_download(request, sar_reference: str):
    """Download the answer to one of the customer's own requests, once it is sent."""
    sar = SAR.objects.select_related("customer", "bundle").filter(reference=sar_reference).first()
    if sar is None or not sar_customer_can_download(request.user, sar):
        raise Http404("No such answered request.")
    try:
        handle = sar.bundle.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404("This file is no longer held.") from None
    bundle_downloaded(bundle=sar.bundle, actor=request.user)
    response = FileResponse(
        handle, as_attachment=True, filename=sar_bundle_filename(sar.bundle),
        content_type="application/zip",
    )  # fmt: skip
    response["Cache-Control"] = "no-store"
    return response
