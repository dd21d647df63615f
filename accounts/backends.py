"""Authentication backends."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission


class PermissionsBackend(ModelBackend):
    """Django's ModelBackend, reading a user's own and group permissions in one query.

    ModelBackend asks twice (the user's permissions, then their groups'), on every staff
    page. The answer is the same set: the two are joined with UNION, once per request
    (cached on the user object like ModelBackend's own _perm_cache).
    """

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            own = Permission.objects.filter(user=user_obj)
            grouped = Permission.objects.filter(group__user=user_obj)
            user_obj._perm_cache = {
                f"{app_label}.{codename}"
                for app_label, codename in own.values_list("content_type__app_label", "codename")
                .order_by()
                .union(grouped.values_list("content_type__app_label", "codename").order_by())
            }
        return user_obj._perm_cache


# The backend a view names when it signs someone in itself (after sign-up, say).
LOGIN_BACKEND = "accounts.backends.PermissionsBackend"
