"""Top-level URLs: the staff admin, the API, health check and the customer-facing pages."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("complaints.api.urls")),
    path("account/", include("accounts.urls")),
    path("staff/formal/", include("escalation.urls")),
    path("staff/reports/", include("escalation.urls_reports")),
    path("", include("complaints.urls")),
]
