from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from accounts import views, views_needs, views_privacy

app_name = "accounts"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("details/", views.details, name="details"),
    path("password/", views.password_set, name="password"),
    path("needs/", views_needs.needs, name="needs"),
    path("needs/withdraw/", views_needs.needs_withdraw_view, name="needs_withdraw"),
    path("privacy/export/", views_privacy.privacy_export, name="privacy_export"),
    path("privacy/erase/", views_privacy.privacy_erase, name="privacy_erase"),
    path("privacy/requests/", views_privacy.sar_list, name="sar-list"),
    path("privacy/requests/new/", views_privacy.sar_request, name="sar-request"),
    path(
        "privacy/requests/<str:sar_reference>/download/",
        views_privacy.sar_download,
        name="sar-download",
    ),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(
            template_name="accounts/password_reset.html",
            email_template_name="accounts/password_reset_email.txt",
            subject_template_name="accounts/password_reset_subject.txt",
            success_url=reverse_lazy("accounts:password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html",
            success_url=reverse_lazy("accounts:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
]
