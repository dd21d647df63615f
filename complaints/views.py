"""Public pages. The customer portal proper arrives with its own issue."""

from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from complaints.selectors import heartbeat_latest


@require_GET
def home(request):
    """Show how to complain and where to go next."""
    return render(request, "complaints/home.html")


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
