from django.contrib.admin.apps import AdminConfig


class RedressAdminConfig(AdminConfig):
    """The Django admin, served by our site class (two-factor sign-in for staff when on)."""

    default_site = "config.admin.RedressAdminSite"
