"""Staff-side and operational views; the customer portal is complaints.portal."""

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from accounts.decorators import staff_required
from complaints.models import Attachment
from complaints.selectors import complaints_visible_to, heartbeat_latest


@require_GET
def healthz(request):
    """Report that the web process and database answer, and when beat last ran a job."""
    beat = heartbeat_latest()
    return JsonResponse(
        {
            "status": "ok",
            "heartbeat_at": beat.beat_at.isoformat() if beat else None,
            "heartbeats": beat.count if beat else 0,
        }
    )


@require_GET
@staff_required
def attachment_download(request, pk: int):
    """Let staff who may view attachments download one of a case they may see.

    The department scoping of the desk (complaints_visible_to) applies to files as to
    cases: a file of another department's case is a 404, whatever its number.
    """
    if not request.user.has_perm("complaints.view_attachment"):
        raise PermissionDenied
    attachment = get_object_or_404(
        Attachment, pk=pk, complaint__in=complaints_visible_to(request.user)
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
