"""Template helpers for accessible forms (WCAG 2.2: hints and errors tied to their field)."""

import copy

from django import forms, template
from django.conf import settings
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def described(field):
    """Render a field's widget with aria-describedby naming its hint and error message."""
    ids = []
    if field.help_text:
        ids.append(f"{field.auto_id}-hint")
    if field.errors:
        ids.append(f"{field.auto_id}-error")
    attrs = {"class": "input" + (" input-error" if field.errors else "")}
    if ids:
        attrs["aria-describedby"] = " ".join(ids)
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)


# A blank field, rendered, for forms that are the same for everyone until filled in
# (ComplaintForm): its HTML depends only on the field and the value it starts with.
_RENDERED_ONCE: dict[tuple, str] = {}
_RENDERED_ONCE_MAX = 512


def _keeps(form) -> bool:
    """Whether `form`'s fields may be kept: one that asks, before anything was typed in."""
    return not (
        form.is_bound or not getattr(form, "render_blank_fields_once", False) or settings.DEBUG
    )


def _once_key(form, bound_field) -> tuple | None:
    """What a blank field's HTML depends on, or None when it must be rendered each time.

    Only a form that asks (`render_blank_fields_once`), before anything was typed into it,
    and only a visible field starting empty or on one of its own choices: a field filled
    in with someone's details (their name, say) is never kept.
    """
    if not _keeps(form):
        return None
    field = bound_field.field
    value = bound_field.value()
    if bound_field.is_hidden or not (value in (None, "") or str(value) in _choice_keys(field)):
        return None
    return (type(form), form.prefix, form.auto_id, bound_field.name, str(value),
            field.disabled, field.required)  # fmt: skip


# A text field filled in with someone's details (a signed-in customer's name, say) is kept
# only as its shape: rendered once with a stand-in for the value, which each form replaces
# with its own, escaped as the template escapes it. Nobody's details are kept.
_STAND_IN = "\ue000value\ue000"
_TEXT_WIDGETS = (forms.TextInput, forms.EmailInput, forms.Textarea)
_TEXT_FIELDS = (forms.CharField, forms.EmailField)


def _shape_key(form, bound_field) -> tuple | None:
    """What a filled text field's shape depends on, or None when it is rendered in full."""
    if not _keeps(form):
        return None
    field = bound_field.field
    if type(field) not in _TEXT_FIELDS or type(field.widget) not in _TEXT_WIDGETS:
        return None
    value = bound_field.value()
    if not isinstance(value, str) or not value or _STAND_IN in value:
        return None
    return (type(form), form.prefix, form.auto_id, bound_field.name, _STAND_IN,
            field.disabled, field.required)  # fmt: skip


def _shape_render(template, context, form, bound_field) -> str | None:
    """The field's HTML with the stand-in for its value, or None if the value shows twice."""
    shaped = copy.copy(bound_field.field)
    shaped.initial = _STAND_IN
    with context.push(field=forms.BoundField(form, shaped, bound_field.name)):
        html = template.render(context)
    return html if html.count(_STAND_IN) == 1 else None


def _choice_keys(field) -> set[str]:
    """The values a choice field can start on (a radio button ticked), as strings."""
    keys = set()
    for key, label in getattr(field, "choices", ()):
        if isinstance(label, list | tuple):  # a group of choices
            keys.update(str(k) for k, _ in label)
        else:
            keys.add(str(key))
    return keys


def _plain_hidden(bound_field) -> str | None:
    """A plain hidden input's HTML, as Django's widget template writes it, or None.

    The form's one-use token is a new value each time, so it is never kept; writing it
    here costs a fraction of the widget template (a tenth of the form page's time).
    """
    widget = bound_field.field.widget
    if type(widget) is not forms.HiddenInput or widget.attrs or bound_field.errors:
        return None
    value = widget.format_value(bound_field.value())
    # The field template's own newline (after its last tag) ends each field.
    if value is None:
        return format_html('<input type="hidden" name="{}" id="{}">\n', bound_field.html_name,
                           bound_field.auto_id)  # fmt: skip
    return format_html('<input type="hidden" name="{}" value="{}" id="{}">\n',
                       bound_field.html_name, value, bound_field.auto_id)  # fmt: skip


@register.simple_tag(takes_context=True)
def form_fields(context, form):
    """Each field of `form` through portal/_field.html, as `{% include %}` in a loop would.

    A blank field of a form that is the same for everyone (the complaint form before it is
    filled in) is rendered once per process and reused: rendering the fields was four fifths
    of the complaint form's time. A text field filled in with someone's details is kept as
    its shape only (_STAND_IN). The one-use token (a hidden field) is written each time.
    tests/complaints/test_form_fields.py checks the HTML is the same, byte for byte.
    """
    template = context.template.engine.get_template("portal/_field.html")
    parts = []
    for bound_field in form:
        key = _once_key(form, bound_field)
        html = _RENDERED_ONCE.get(key) if key else None
        if html is None and form.auto_id == "id_%s" and bound_field.is_hidden:
            html = _plain_hidden(bound_field)
        shape_key = None if key or html is not None else _shape_key(form, bound_field)
        if shape_key:
            shape = _RENDERED_ONCE.get(shape_key)
            if shape is None:
                # "" remembers a field whose value shows twice: it is rendered in full.
                shape = _shape_render(template, context, form, bound_field) or ""
                if len(_RENDERED_ONCE) < _RENDERED_ONCE_MAX:
                    _RENDERED_ONCE[shape_key] = shape
            if shape:
                # The shape is the template's safe HTML; the value goes in escaped.
                html = mark_safe(shape.replace(_STAND_IN, escape(bound_field.value())))  # noqa: S308  # nosec B308 B703
        if html is None:
            with context.push(field=bound_field):
                html = template.render(context)
            if key and len(_RENDERED_ONCE) < _RENDERED_ONCE_MAX:
                _RENDERED_ONCE[key] = html
        parts.append(html)
    return format_html_join("", "{}", ((part,) for part in parts))  # each part is safe HTML
