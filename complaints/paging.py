"""Page a long list with plain links, so it works without JavaScript (WCAG 2.2 AA)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest


class KeysFirstPaginator(Paginator):
    """A paginator whose page skips the rows before it by their keys alone.

    A page far down a long list (OFFSET 60,000) would otherwise join each skipped row to its
    complaint, customer and manager before throwing it away. Here the page's keys are found
    first, by the list's own index, and only its rows are read with their joins.
    """

    def _get_page(self, object_list, number, paginator):
        if isinstance(object_list, QuerySet):
            object_list = self.object_list.filter(pk__in=object_list.values("pk"))
        return super()._get_page(object_list, number, paginator)


@dataclass(frozen=True)
class Paged:
    """One page of a list and the links to its neighbours, each keeping the other parameters."""

    page: Page
    previous_url: str = ""
    next_url: str = ""


def _url(request: HttpRequest, param: str, number: int) -> str:
    query = request.GET.copy()
    query[param] = str(number)
    return f"?{query.urlencode()}"


def paged(
    request: HttpRequest,
    rows: QuerySet,
    *,
    per_page: int,
    param: str = "page",
    paginator: type[Paginator] = KeysFirstPaginator,
) -> Paged:
    """Return the page of `rows` that `request` asks for in `param` (the first if not valid).

    Two queries whatever the number of rows: a count, then the page's rows. A list whose
    rows join nothing can take the plain `Paginator` (keys first would only add a step).
    """
    page = paginator(rows, per_page).get_page(request.GET.get(param))
    return Paged(
        page=page,
        previous_url=_url(request, param, page.previous_page_number())
        if page.has_previous()
        else "",
        next_url=_url(request, param, page.next_page_number()) if page.has_next() else "",
    )
