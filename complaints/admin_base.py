"""Pieces shared by the staff desk's admin pages."""

import datetime

from django.contrib import messages
from django.contrib.admin.templatetags.admin_list import ResultList, _coerce_field_name, results
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import (
    FieldIsAForeignKeyColumnName,
    _get_non_gfk_field,
    display_for_field,
    display_for_value,
    lookup_field,
)
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.core.paginator import Paginator
from django.db import connections, models
from django.db.models.constants import LOOKUP_SEP
from django.utils.functional import cached_property
from django.utils.html import format_html

from complaints.selectors import is_reference, rows_for_reference


class ReadOnlyAdminMixin:
    """A list staff read but never edit or delete here: its records change through services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ColumnsChangeList(ChangeList):
    """A change list that reads only the columns its rows show (ModelAdmin.list_only).

    A complaint row carries its whole description and a customer their address; the queue
    shows neither. The case page still reads the whole row (get_queryset is unchanged).
    """

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        # ChangeList skips list_select_related when get_queryset already joined something;
        # join it here so every relation the rows read comes in the page's one query.
        related = self.model_admin.list_select_related
        if isinstance(related, (list, tuple)):
            queryset = queryset.select_related(*related)
        return queryset.only(*self.model_admin.list_only)


class CappedCountPaginator(Paginator):
    """A paginator that counts no further than `cap` rows.

    Counting every open complaint in a million-row table costs more than the page itself,
    and nobody pages through a thousand complaints: past the cap, the desk says "more than
    1,000" and staff narrow the list with a queue, a filter or search. The count reads at
    most cap + 1 rows, so it costs the same at 100k and at 1M complaints.

    On PostgreSQL it counts in the list's own order, walking the index the page itself
    reads. Unordered, PostgreSQL counts with a sequential scan that stops at cap + 1 rows,
    as if matching rows were spread evenly through the table; open complaints are the
    newest, at its end, and synchronised scans start each scan wherever the last one got to.
    At 1M complaints the open queue's count took 1 ms, or 200-250 ms one time in fifty.
    Ordered, it takes 1-2 ms for the open queues, and up to 60 ms for a queue whose newest
    complaints are far back (awaiting a third party). SQLite counts unordered from indexes
    (0.3 ms, where ordered takes 12).
    """

    cap = 1000

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if connections[rows.db].vendor != "postgresql":
            rows = rows.order_by()
        return rows[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        """Whether there are more rows than were counted."""
        return self.count > self.cap

    @property
    def cap_label(self) -> str:
        return f"{self.cap:,}"


class LongListAdminMixin:
    """A list that grows with every case (history, alerts, outbox): read a page at a time.

    Newest first, 50 to a page, counted no further than 1,000, and searched by reference
    (an index) rather than by text inside millions of rows. `complaint_path` leads from the
    row to its complaint, as for VisibleComplaintsMixin.
    """

    ordering = ("-pk",)
    list_per_page = 50
    paginator = CappedCountPaginator
    show_full_result_count = False
    complaint_path = "complaint"
    search_help_text = "A complaint reference (CMP-…) or formal complaint reference (FCR-…)."

    def get_search_results(self, request, queryset, search_term):
        if search_term.strip() and not is_reference(search_term):
            messages.warning(
                request,
                f"“{search_term.strip()}” is not a reference. Search this list by a complaint "
                "reference (CMP-…) or a formal complaint reference (FCR-…); to find a "
                "customer's complaints, search the complaints list.",
            )
        return rows_for_reference(queryset, self.complaint_path, search_term), False


# --- The queue's rows ---------------------------------------------------------------


def changelist_rows(cl) -> list:
    """The rows of an admin change list, as `{% result_list %}` renders them, made cheaply.

    Django's admin works out every cell from scratch: it looks the field up, rebuilds the
    choices dictionary, reverses the change URL and resolves it again to add the preserved
    filters. That is about half a millisecond a row, most of the staff queue's time. Here the
    work that is the same for every row is done once per column and once per page; the HTML
    is the same, byte for byte (tests/complaints/test_desk_rows.py compares the two).

    Lists this does not speed up (editable lists, pop-ups) get the admin's own rows. It uses
    the admin's own helpers, two of them private (`_get_non_gfk_field`, `_coerce_field_name`):
    after a Django upgrade, that test says whether the rows are still the same.
    """
    if cl.formset or cl.is_popup or cl.to_field:
        return list(results(cl))
    rows = list(cl.result_list)
    if not rows:
        return []
    columns, first, links = [], True, cl.list_display_links
    for index, name in enumerate(cl.list_display):
        # Which columns link to the case, and which is the row's header: as the admin does.
        link = links is not None and ((first and not links) or name in links)
        columns.append(_Column(cl, index, name, link=link, tag="th" if link and first else "td"))
        first = first and not link
    change_url = _change_url_maker(cl, rows[0])
    out = []
    for result in rows:
        cells = []
        for column in columns:
            classes, text = column.cell(result)
            if column.link:
                cells.append(format_html(column.html, classes, change_url(result), text))
            else:
                cells.append(format_html(column.html, classes, text))
        out.append(ResultList(None, cells))
    return out


def _change_url_maker(cl, first):
    """A function giving a row's change URL with the preserved filters, as the admin does."""
    context = {"preserved_filters": cl.preserved_filters, "opts": cl.opts}

    def slow(result) -> str:
        return add_preserved_filters(context, cl.url_for_result(result))

    pk = getattr(first, cl.pk_attname)
    url = cl.url_for_result(first)
    tail = f"/{pk}/change/"
    full = add_preserved_filters(context, url)
    if not isinstance(pk, int) or not url.endswith(tail) or not full.startswith(url):
        return slow
    # Integer keys reverse to <prefix>/<pk>/change/; the filters add the same query to each.
    prefix, query = url[: -len(tail)], full[len(url) :]
    attname = cl.pk_attname
    return lambda result: f"{prefix}/{getattr(result, attname)}/change/{query}"


class _Column:
    """One list_display column: what is the same in every row, worked out once."""

    def __init__(self, cl, index: int, name, *, link: bool, tag: str):
        self.cl, self.name = cl, name
        self.link, self.tag = link, tag
        # The cell's HTML in one format_html: the class attribute, [the link,] the contents.
        inner = '<a href="{}">{}</a>' if link else "{}"
        self.html = f"<{tag}{{}}>{inner}</{tag}>"
        self.empty = cl.model_admin.get_empty_value_display()
        self.classes = [f"field-{_coerce_field_name(name, index)}"]
        self.field = None
        if isinstance(name, str) and LOOKUP_SEP not in name:
            try:
                self.field = _get_non_gfk_field(cl.lookup_opts, name)
            except (FieldDoesNotExist, FieldIsAForeignKeyColumnName):
                self.field = None
        if self.field is not None and self.field.auto_created:
            self.field = None  # the admin shows an implicit key as a plain value
        self.choices = None
        if self.field is not None:
            if isinstance(self.field, (models.DateField, models.TimeField, models.ForeignKey)):
                self.classes.append("nowrap")
            try:
                self.choices = dict(self.field.flatchoices) if self.field.flatchoices else None
            except TypeError:  # list-like choices: display_for_field copes with them
                self.choices = None
        self.class_attr = format_html(' class="{}"', " ".join(self.classes))

    def cell(self, result):
        """(class attribute, cell contents) for one row."""
        field = self.field
        if field is None:
            return self._other(result)
        value = getattr(result, self.name)
        if isinstance(field.remote_field, models.ManyToOneRel):
            return self.class_attr, self.empty if value is None else value
        if isinstance(value, str) and value.strip() == "":
            value = ""
        if self.choices is not None:
            return self.class_attr, self.choices.get(value, self.empty)
        return self.class_attr, display_for_field(value, field, self.empty, avoid_link=self.link)

    def _other(self, result):
        """A method, property or callable: the admin's own steps (items_for_result)."""
        classes = list(self.classes)
        empty = self.empty
        try:
            _, attr, value = lookup_field(self.name, result, self.cl.model_admin)
        except ObjectDoesNotExist:
            text = empty
        else:
            empty = getattr(attr, "empty_value_display", empty)
            if isinstance(value, str) and value.strip() == "":
                value = ""
            if self.name == "action_checkbox":
                classes = ["action-checkbox"]
            boolean = getattr(attr, "boolean", False)
            if isinstance(attr, property) and hasattr(attr, "fget"):
                boolean = getattr(attr.fget, "boolean", False)
            text = display_for_value(value, empty, boolean)
            if isinstance(value, (datetime.date, datetime.time)):
                classes.append("nowrap")
        return format_html(' class="{}"', " ".join(classes)), text
