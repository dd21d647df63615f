"""Template tags for the staff desk's admin pages."""

from django import template
from django.contrib.admin.templatetags.admin_list import (
    result_headers,
    result_hidden_fields,
)
from django.contrib.admin.templatetags.base import InclusionAdminNode

from complaints.admin_base import changelist_rows

register = template.Library()


def desk_result_list(cl):
    """The context of the admin's `{% result_list %}`, with the rows made by changelist_rows."""
    headers = list(result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": changelist_rows(cl),
    }


@register.tag(name="desk_result_list")
def desk_result_list_tag(parser, token):
    """`{% desk_result_list cl %}`: the admin's results table, rendered more cheaply."""
    return InclusionAdminNode(
        parser,
        token,
        func=desk_result_list,
        template_name="change_list_results.html",
        takes_context=False,
    )
