"""The desk's own forms, reused by the API so that a rule of input is written once.

An API body is bound to the same Django form the desk page uses (`form_clean`): the same
required fields, lengths, choices and file checks, with the same messages. `form_serializer`
describes such a form to the OpenAPI schema; it validates nothing itself.
"""

from __future__ import annotations

from functools import cache

from django import forms
from rest_framework import serializers

from accounts.models import ContactMethod
from complaints import forms as desk_forms
from complaints.api.problems import validation_problem
from complaints.models import Channel

YES_NO = [("yes", "Yes"), ("no", "No")]


def _yes_no(field) -> bool:
    return isinstance(field, forms.TypedChoiceField) and list(field.choices) == YES_NO


def form_data(form_class: type[forms.Form], payload) -> dict:
    """Turn a JSON (or multipart) body into what `form_class` reads, field by field."""
    data = {}
    for name, field in form_class.base_fields.items():
        if name not in payload or isinstance(field, forms.FileField):
            continue
        value = payload[name]
        if isinstance(field, forms.NullBooleanField):
            value = "" if value is None else value
        elif _yes_no(field) and isinstance(value, bool):
            value = "yes" if value else "no"
        elif isinstance(field, forms.BooleanField) and isinstance(value, str):
            value = value.lower() in ("true", "1", "yes", "on")
        elif value is None:
            value = ""
        elif isinstance(value, (dict, list)):
            value = "\x00"  # not a value any field accepts: the form says what it wants
        elif not isinstance(field, forms.BooleanField) and not isinstance(value, str):
            value = str(value)  # a number or true where text is wanted: the form judges it
        data[name] = value
    return data


def form_clean(form_class: type[forms.Form], payload, files=None, *, exclude=()) -> dict:
    """Validate `payload` with the desk's form; the cleaned data, or a 400 problem."""
    data = form_data(form_class, payload)
    form = form_class(data=data, files=files or {})
    for name in exclude:
        form.fields.pop(name, None)
    if not form.is_valid():
        raise validation_problem(
            {
                ("non_field_errors" if field == "__all__" else field): list(messages)
                for field, messages in form.errors.items()
            }
        )
    return form.cleaned_data


def _serializer_field(field: forms.Field) -> serializers.Field:
    common = {"required": field.required, "help_text": str(field.help_text or field.label or "")}
    if not field.required:
        common["allow_null"] = True
    if isinstance(field, forms.NullBooleanField):
        return serializers.BooleanField(
            required=False, allow_null=True, help_text=common["help_text"]
        )
    if _yes_no(field):
        return serializers.BooleanField(**common)
    if isinstance(field, forms.BooleanField):
        return serializers.BooleanField(**common)
    if isinstance(field, forms.ModelChoiceField):
        return serializers.CharField(**common)
    if isinstance(field, forms.ChoiceField):
        return serializers.ChoiceField(choices=[c for c in field.choices if c[0]], **common)
    if isinstance(field, forms.DateTimeField):
        return serializers.DateTimeField(**common)
    if isinstance(field, forms.FileField):
        return serializers.FileField(**common)
    if isinstance(field, forms.IntegerField):
        return serializers.IntegerField(**common)
    if isinstance(field, forms.EmailField):
        return serializers.EmailField(allow_blank=not field.required, **common)
    return serializers.CharField(
        max_length=getattr(field, "max_length", None),
        allow_blank=not field.required,
        **common,
    )


@cache
def form_serializer(
    form_class: type[forms.Form], name: str, exclude: tuple[str, ...] = ()
) -> type[serializers.Serializer]:
    """A serializer with the form's fields, for the schema only."""
    fields = {
        field_name: _serializer_field(field)
        for field_name, field in form_class.base_fields.items()
        if field_name not in exclude
    }
    return type(name, (serializers.Serializer,), fields)


class LogOtherChannelForm(desk_forms.CustomerFields):
    """A complaint made by email or on a web form of the integration's own, logged as made.

    Phone calls and letters use the desk's Log a call and Log a letter forms unchanged.
    """

    first_made_at = desk_forms._when(
        "When the customer first made the complaint",
        required=False,
        help_text="ISO 8601 with its offset; now if left out (COP-07).",
    )
    agreed_contact_method = forms.ChoiceField(
        label="How the customer wants to be contacted",
        choices=[("", "Their preferred method"), *ContactMethod.choices],
        required=False,
    )


CREATE_FORMS: dict[str, type[forms.Form]] = {
    Channel.PHONE: desk_forms.LogCallForm,
    Channel.LETTER: desk_forms.LogLetterForm,
    Channel.EMAIL: LogOtherChannelForm,
    Channel.PORTAL: LogOtherChannelForm,
}


def _create_schema() -> type[serializers.Serializer]:
    fields = {"channel": serializers.ChoiceField(choices=list(CREATE_FORMS))}
    shared = set(desk_forms.CustomerFields.base_fields)
    for form_class in CREATE_FORMS.values():
        for name, field in form_class.base_fields.items():
            if name in fields:
                continue
            described = _serializer_field(field)
            if name not in shared:
                described.required = False
                channels = [c for c, f in CREATE_FORMS.items() if name in f.base_fields]
                described.help_text = f"{described.help_text} ({', '.join(channels)} only)"
            fields[name] = described
    return type("ComplaintCreateRequest", (serializers.Serializer,), fields)


CREATE_SCHEMA = _create_schema()
