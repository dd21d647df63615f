"""Pieces shared by the staff desk's admin pages."""


class ReadOnlyAdminMixin:
    """A list staff read but never edit or delete here: its records change through services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
