"""/api/v1/: the routes of the API, its OpenAPI schema and its reference page."""

from csp.decorators import csp_update
from django.urls import path
from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from complaints.api import (
    views,
    views_formal,
    views_needs,
    views_reports,
    views_representatives,
    views_sar,
)

app_name = "api"


class SchemaView(SpectacularAPIView):
    """The OpenAPI 3.1 schema: public, like any published API reference."""

    authentication_classes = []
    permission_classes = [AllowAny]


@method_decorator(csp_update({"img-src": ["data:"]}), name="dispatch")
class ReferenceView(SpectacularSwaggerSplitView):
    """The browsable reference (Swagger UI from our own static files, no other hosts).

    Swagger UI draws its small icons as data: images; this page alone allows them (the rest
    of its policy, no inline script or style and nothing from another host, is the site's).
    """

    authentication_classes = []
    permission_classes = [AllowAny]
    template_name = "api/reference.html"
    title = "Redress API"


urlpatterns = [
    path("complaints/", views.ComplaintList.as_view(), name="complaint-list"),
    path("complaints/<str:reference>/", views.ComplaintDetail.as_view(), name="complaint-detail"),
    path(
        "complaints/<str:reference>/attachments/",
        views.ComplaintAttachments.as_view(),
        name="complaint-attachments",
    ),
    path(
        "complaints/<str:reference>/letters/",
        views.ComplaintLetters.as_view(),
        name="complaint-letters",
    ),
    path(
        "complaints/<str:reference>/remedies/",
        views.ComplaintRemedies.as_view(),
        name="complaint-remedies",
    ),
    *[
        path(
            f"complaints/<str:reference>/{slug}/",
            views.ACTION_VIEWS[name].as_view(),
            name=f"complaint-{name.replace('_', '-')}",
        )
        for name, slug in views.ACTION_PATHS.items()
    ],
    path("attachments/<int:pk>/", views.AttachmentDownload.as_view(), name="attachment-download"),
    path("reports/return/", views_reports.ComplaintsReturnView.as_view(), name="reports-return"),
    path("customers/", views.CustomerList.as_view(), name="customer-list"),
    path("customers/<int:pk>/", views.CustomerDetail.as_view(), name="customer-detail"),
    path(
        "customers/<int:pk>/needs/", views_needs.CustomerNeedsView.as_view(), name="customer-needs"
    ),
    path(
        "customers/<int:pk>/representatives/",
        views_representatives.CustomerRepresentativesView.as_view(),
        name="customer-representatives",
    ),
    path(
        "customers/<int:pk>/representatives/<int:rep_id>/withdraw/",
        views_representatives.RepresentativeWithdrawView.as_view(),
        name="customer-representative-withdraw",
    ),
    path("formal-cases/", views_formal.FormalCaseList.as_view(), name="formal-list"),
    path(
        "formal-cases/<str:register_reference>/",
        views_formal.FormalCaseDetail.as_view(),
        name="formal-detail",
    ),
    *[
        path(
            f"formal-cases/<str:register_reference>/{slug}/",
            view.as_view(),
            name=f"formal-{slug}",
        )
        for slug, view in views_formal.FORMAL_ACTION_VIEWS.items()
    ],
    path(
        "formal-cases/<str:register_reference>/case-files/<int:version>/",
        views_formal.FormalCaseFileDownload.as_view(),
        name="formal-case-file-download",
    ),
    path("subject-access-requests/", views_sar.SarList.as_view(), name="sar-list"),
    path(
        "subject-access-requests/<str:sar_reference>/",
        views_sar.SarDetail.as_view(),
        name="sar-detail",
    ),
    *[
        path(
            f"subject-access-requests/<str:sar_reference>/{slug}/",
            view.as_view(),
            name=f"sar-{slug}",
        )
        for slug, view in views_sar.SAR_ACTION_VIEWS.items()
    ],
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", ReferenceView.as_view(url_name="api:schema"), name="docs"),
]
