from django.urls import path

from complaints import bundles_views, views
from complaints.portal import views as portal

app_name = "complaints"

urlpatterns = [
    path("", portal.home, name="home"),
    path("code-of-practice/", portal.code_of_practice, name="code"),
    path("what-happens-next/", portal.what_happens_next, name="next"),
    path("complain/", portal.complain, name="complain"),
    path("complain/sent/<str:reference>/", portal.complaint_sent, name="complaint-sent"),
    path("confirm/resend/", portal.confirm_resend, name="confirm-resend"),
    path("confirm/<str:token>/", portal.confirm, name="confirm"),
    path("satisfaction/<str:token>/", portal.satisfaction, name="satisfaction"),
    path("my/", portal.my_complaints, name="my-complaints"),
    path("my/<str:reference>/", portal.complaint_detail, name="complaint-detail"),
    path("my/<str:reference>/reply/", portal.complaint_reply, name="complaint-reply"),
    path("my/<str:reference>/escalate/", portal.complaint_escalate, name="complaint-escalate"),
    path("my/<str:reference>/deadlock/", portal.complaint_deadlock, name="complaint-deadlock"),
    path("my/<str:reference>/files/<int:pk>/", portal.complaint_file, name="complaint-file"),
    path("healthz", views.healthz, name="healthz"),
    path("staff/bundles/<int:bundle_id>/", bundles_views.bundle_progress, name="bundle-progress"),
    path(
        "staff/bundles/<int:bundle_id>/download/",
        bundles_views.bundle_download,
        name="bundle-download",
    ),
    path(
        "staff/attachments/<int:pk>/",
        views.attachment_download,
        name="staff-attachment-download",
    ),
]
