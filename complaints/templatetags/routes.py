"""`{% route 'name' %}`: the URL of a page that takes no arguments, worked out once.

Django's `{% url %}` reverses the name on every render; the header and footer of every
portal page name the same eight pages, an eighth of the home page's time. A URL without
arguments depends only on the URL configuration and the script prefix (the path the site
is mounted at), so it is kept per process under both. Anything with arguments, or `as`,
is `{% url %}`'s work.
"""

from functools import lru_cache

from django import template
from django.urls import get_script_prefix, get_urlconf, reverse

register = template.Library()


@lru_cache(maxsize=256)
def _reversed(name: str, urlconf, prefix: str) -> str:
    return reverse(name, urlconf=urlconf)


@register.simple_tag
def route(name: str) -> str:
    """Return the path of the argument-free URL `name`, as `{% url name %}` would."""
    return _reversed(name, get_urlconf(), get_script_prefix())
