"""The staff desk's admin site: the Django admin, with two-factor sign-in when required."""

from django.conf import settings
from django.contrib import admin
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite


def staff_two_factor_required() -> bool:
    """Return whether staff must sign in with a one-time code as well as a password."""
    return settings.REDRESS_STAFF_2FA


class RedressAdminSite(admin.AdminSite):
    """The admin, asking staff for a one-time code when REDRESS_STAFF_2FA is on."""

    site_header = "Redress complaints desk"
    site_title = "Redress"
    index_title = "Complaints handling"
    # The queue needs the width: the left-hand list of models took 300 px of a 1280 px
    # screen and pushed the clock off it. Breadcrumbs and the home page link everything.
    enable_nav_sidebar = False

    def has_permission(self, request):
        verified = not staff_two_factor_required() or request.user.is_verified()
        return super().has_permission(request) and verified

    def login(self, request, extra_context=None):
        if staff_two_factor_required():
            self.login_form = OTPAdminAuthenticationForm
            self.login_template = OTPAdminSite.login_template
        else:
            self.login_form = None
            self.login_template = None
        return super().login(request, extra_context)
