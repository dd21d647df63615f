"""Which keys may call what: the key's scopes here; the staff role's permissions in the views.

A read needs the ``read`` scope, any write ``write``, and a senior manager's action on a
formal case ``formal`` as well (with the review_formal permission of the acting role).
"""

from __future__ import annotations

from rest_framework import permissions

from accounts.models import ApiKey, ApiScope


class HasScope(permissions.BasePermission):
    """Require a key, holding the scope the method (or the view's `required_scopes`) needs."""

    message = "This API key does not have the scope this request needs."

    def has_permission(self, request, view) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            return False
        needed = set(getattr(view, "required_scopes", ()))
        needed.add(ApiScope.READ if request.method in permissions.SAFE_METHODS else ApiScope.WRITE)
        missing = sorted(scope for scope in needed if scope not in key.scopes)
        if missing:
            self.message = (
                f"This API key does not have the {' and '.join(missing)} scope this request "
                "needs; issue a key with it."
            )
            return False
        return True
