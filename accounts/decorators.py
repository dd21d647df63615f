"""Access to staff pages outside the admin: the admin's own rule, in one place."""

from functools import wraps

from django.contrib.admin.views.decorators import staff_member_required


def staff_required(view):
    """Let in active staff the admin site would let in (so with two factors when required)."""
    from django.contrib import admin

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not admin.site.has_permission(request):
            # Not (yet) allowed: off to the admin's sign-in, which asks for what is missing.
            return staff_member_required(lambda r: None)(request)
        return view(request, *args, **kwargs)

    return wrapped
