"""Staff reports, included by config/urls.py at /staff/reports/."""

from django.urls import path

from escalation import views_reports

app_name = "reports"

urlpatterns = [
    path("register/", views_reports.register, name="register"),
    path("dashboard/", views_reports.dashboard, name="dashboard"),
    path("return/", views_reports.complaints_return_page, name="return"),
]
