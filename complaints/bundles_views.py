"""Staff pages of a bundle: its progress (no JavaScript needed) and its download."""

from __future__ import annotations

from django.contrib import admin
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from accounts.decorators import staff_required
from complaints.bundles import bundle_can_view, bundle_downloaded, bundle_filename
from complaints.models import BUNDLE_ACTIVE_STATES, Bundle, BundleState

# Seconds between reloads of the progress page while the bundle is being built.
PROGRESS_REFRESH_SECONDS = 3


def _bundle_for(request, bundle_id: int) -> Bundle:
    """The bundle, if this member of staff may see its subject; otherwise 404."""
    bundle = get_object_or_404(
        Bundle.objects.select_related("complaint__formal_case", "customer", "requested_by"),
        pk=bundle_id,
    )
    if not bundle_can_view(request.user, bundle):
        raise Http404("No such bundle.")
    return bundle


def _back_link(bundle: Bundle) -> tuple[str, str]:
    complaint = bundle.complaint
    if complaint is None:
        return (
            reverse("admin:accounts_customer_change", args=[bundle.customer_id]),
            "Back to the customer",
        )
    case = getattr(complaint, "formal_case", None)
    if case is not None and bundle.kind == "ombudsman_case_file":
        return (
            reverse("escalation:formal-detail", args=[case.register_reference]),
            f"Back to {case.register_reference}",
        )
    return (
        reverse("admin:complaints_complaint_change", args=[complaint.pk]),
        f"Back to {complaint.reference}",
    )


@require_GET
@staff_required
def bundle_progress(request, bundle_id: int):
    """How far a bundle has got; reloads itself while it is being built."""
    bundle = _bundle_for(request, bundle_id)
    back_url, back_text = _back_link(bundle)
    building = bundle.state in BUNDLE_ACTIVE_STATES
    # Reloading by itself only when asked (?auto=1): a page that refreshes unasked is a
    # time limit the reader did not choose (WCAG 2.2.1); the link to stop it is on the page.
    auto = building and request.GET.get("auto") == "1"
    return render(
        request,
        "bundles/progress.html",
        {
            **admin.site.each_context(request),
            "title": f"{bundle.get_kind_display()}, version {bundle.version}",
            "bundle": bundle,
            "building": building,
            "ready": bundle.state == BundleState.READY,
            "refresh_seconds": PROGRESS_REFRESH_SECONDS if auto else None,
            "auto": auto,
            "refresh_every": PROGRESS_REFRESH_SECONDS,
            "percent": (
                round(100 * bundle.progress_done / bundle.progress_total)
                if bundle.progress_total
                else 0
            ),
            "filename": bundle_filename(bundle),
            "back_url": back_url,
            "back_text": back_text,
            "subject_label": back_text.removeprefix("Back to "),
        },
    )


@require_GET
@staff_required
def bundle_download(request, bundle_id: int):
    """Download a ready bundle; the download is recorded in its subject's history."""
    bundle = _bundle_for(request, bundle_id)
    if bundle.state != BundleState.READY or not bundle.file:
        raise Http404("This bundle is not ready.")
    try:
        handle = bundle.file.open("rb")
    except FileNotFoundError:
        raise Http404("This bundle's file is no longer held.") from None
    bundle_downloaded(bundle=bundle, actor=request.user)
    return FileResponse(
        handle, as_attachment=True, filename=bundle_filename(bundle), content_type="application/zip"
    )
