"""Pieces shared by the staff desk's admin pages."""

from django.core.paginator import Paginator
from django.utils.functional import cached_property


class ReadOnlyAdminMixin:
    """A list staff read but never edit or delete here: its records change through services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CappedCountPaginator(Paginator):
    """A paginator that counts no further than `cap` rows.

    Counting every open complaint in a million-row table costs more than the page itself,
    and nobody pages through a thousand complaints: past the cap, the desk says "more than
    1,000" and staff narrow the list with a queue, a filter or search. The count reads at
    most cap + 1 rows, so it costs the same at 100k and at 1M complaints.
    """

    cap = 1000

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        """Whether there are more rows than were counted."""
        return self.count > self.cap

    @property
    def cap_label(self) -> str:
        return f"{self.cap:,}"
