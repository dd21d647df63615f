"""Authentication backends."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Exists, OuterRef


class PermissionsBackend(ModelBackend):
    """Django's ModelBackend, reading a user's own and group permissions in one query.

    ModelBackend asks twice (the user's permissions, then their groups'), on every staff
    page. The answer is the same set: the two are joined with UNION, once per request
    (cached on the user object like ModelBackend's own _perm_cache).
    """

    def get_user(self, user_id):
        """The signed-in user, with their customer record in the same SELECT.

        Every portal page asks for the customer (accounts.services.portal_customer); it
        comes joined to the user, with the customer's needs and whether they ever had a
        representative, which the complaint form reads, instead of a second query. The
        user is read afresh on each request, as ModelBackend does, so signing out,
        changing the password and deactivating the account still end access at once.
        """
        from accounts.models import Representative

        user_model = get_user_model()
        users = user_model._default_manager.select_related("customer", "customer__needs")
        users = users.annotate(
            customer_represented=Exists(
                Representative.objects.filter(customer_id=OuterRef("customer__pk"))
            )
        )
        user = users.filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

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
