"""Template helpers for accessible forms (WCAG 2.2: hints and errors tied to their field)."""

from django import template

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
