"""/api/v1/reports/return/: the complaints return as JSON (issue 16 item 6).

The same figures as the staff page /staff/reports/return/, for the same role: the
``read`` scope and the view_all_departments permission (managers and senior managers).
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from complaints.api.problems import validation_problem
from complaints.api.views import ERRORS, ApiView, _need
from escalation.reports import complaints_return
from escalation.views_reports import RETURN_PERMISSIONS, ReturnForm, return_as_data


@extend_schema(tags=["reports"])
class ComplaintsReturnView(ApiView):
    """The return for whole London months: volumes by department, channel, customer type,
    category and root cause (categories and root causes by code, "" for none recorded),
    first responses within 2 working days (COP-12), resolutions within 10 (COP-14), formal
    escalations, ADR letters, deadlocks, referrals, decisions, remedies given and paid."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "start", OpenApiTypes.DATE, description="Counts from this date's month."
            ),
            OpenApiParameter("end", OpenApiTypes.DATE, description="Up to this date's month."),
        ],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
        operation_id="reports_return",
    )
    def get(self, request):
        for permission in RETURN_PERMISSIONS:
            _need(request.user, permission, "read the complaints return")
        now = timezone.now()
        form = ReturnForm(request.query_params or None, today=timezone.localdate(now))
        if form.is_bound and not form.is_valid():
            raise validation_problem(form.errors)
        start, end = form.choice()
        return Response(return_as_data(complaints_return(start=start, end=end, now=now)))
