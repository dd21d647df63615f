"""Top-level URLs: the staff admin, health check and the customer-facing pages."""

from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Redress complaints desk"
admin.site.site_title = "Redress"
admin.site.index_title = "Complaints handling"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("account/", include("accounts.urls")),
    path("staff/formal/", include("escalation.urls")),
    path("staff/reports/", include("escalation.urls_reports")),
    path("", include("complaints.urls")),
]
