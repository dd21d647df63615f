"""The portal's forms render the same HTML whether their blank fields were kept or not.

The complaint form's blank fields are rendered once per process ({% form_fields %}); what
a person sees must be exactly what the field template makes, and nobody's details may
ever appear on another person's form.
"""

import re

import pytest
from django.template import engines
from django.test import Client, RequestFactory
from django.urls import reverse

from complaints.portal.forms import ComplaintForm
from complaints.templatetags import portal as portal_tags
from tests.accounts.factories import CustomerFactory

pytestmark = pytest.mark.django_db

# The field loop as every portal form was rendered before {% form_fields %}.
INCLUDED = "{% for field in form %}{% include 'portal/_field.html' %}{% endfor %}"
TAGGED = "{% load portal %}{% form_fields form %}"


def _render(source: str, form) -> str:
    request = RequestFactory().get("/")
    return engines["django"].from_string(source).render({"form": form}, request)


def _forms():
    customer = CustomerFactory(
        confirmed=True, name="Ada Example", postal_address="1 High Street\nLeeds"
    )
    awkward = CustomerFactory(
        confirmed=True,
        name='O\'Brien & <Sons> "Ltd"',
        phone="0113 & <1>",
        postal_address="1 <b>High</b> Street\n'Leeds' & \"Co\"",
    )
    return {
        "blank": lambda: ComplaintForm(),
        "signed in": lambda: ComplaintForm(signed_in_customer=customer),
        "sent with mistakes": lambda: ComplaintForm({"token": "abcdef123456", "name": "B"}),
        "signed in, marks to escape": lambda: ComplaintForm(signed_in_customer=awkward),
    }


@pytest.mark.parametrize(
    "which", ["blank", "signed in", "sent with mistakes", "signed in, marks to escape"]
)
def test_the_fields_are_the_same_html_with_or_without_keeping_them(which):
    portal_tags._RENDERED_ONCE.clear()
    make = _forms()[which]
    cold, warm = make(), make()  # the second is rendered from what the first kept
    for form in (cold, warm):
        assert _render(TAGGED, form) == _render(INCLUDED, form)


def test_each_form_still_gets_its_own_one_use_token():
    client = Client()
    pages = [client.get(reverse("complaints:complain")).content.decode() for _ in range(2)]
    tokens = [re.search(r'name="token" value="(\w+)"', page).group(1) for page in pages]
    assert tokens[0] != tokens[1]
    one_use = r'(name="(?:token|csrfmiddlewaretoken)" value=)"\w+"'
    blank = [re.sub(one_use, r"\1", page) for page in pages]
    assert blank[0] == blank[1]


def test_one_customers_details_never_appear_on_anothers_form():
    portal_tags._RENDERED_ONCE.clear()
    pages = {}
    for name in ("Ada Example", "Brenda Other"):
        customer = CustomerFactory(confirmed=True, name=name, phone=f"0113 {len(name)}")
        client = Client()
        client.force_login(customer.user)
        pages[name] = client.get(reverse("complaints:complain")).content.decode()
    assert "Ada Example" in pages["Ada Example"] and "Ada Example" not in pages["Brenda Other"]
    assert "Brenda Other" in pages["Brenda Other"]
    # What was kept is only blank fields: no one's name, email or telephone number.
    kept = "".join(portal_tags._RENDERED_ONCE.values())
    assert "Ada Example" not in kept and "Brenda Other" not in kept and "0113" not in kept
    assert portal_tags._RENDERED_ONCE  # and something was kept


def test_every_blank_field_but_the_token_is_kept_radio_buttons_on_their_default_too():
    portal_tags._RENDERED_ONCE.clear()
    form = ComplaintForm()
    _render(TAGGED, form)
    visible = [f.name for f in form if not f.is_hidden]
    assert "preferred_contact_method" in visible  # starts on "Email", one of its choices
    kept = {key[3] for key in portal_tags._RENDERED_ONCE}
    assert kept == set(visible)


def test_a_hidden_field_written_without_the_template_is_escaped_as_the_template_would():
    form = ComplaintForm({"token": 'a"b<c>&d', "name": "B"})
    form.errors.pop("token", None)  # shown as the template shows a valid hidden field
    assert _render(TAGGED, form) == _render(INCLUDED, form)
    assert 'value="a&quot;b&lt;c&gt;&amp;d"' in _render(TAGGED, form)


def test_a_field_whose_shape_cannot_be_kept_is_rendered_in_full_and_only_tried_once(
    monkeypatch,
):
    """A value shown twice has no one shape: the field is rendered in full, every time,
    and the shape is not attempted again on the next form."""
    portal_tags._RENDERED_ONCE.clear()
    tried = []
    monkeypatch.setattr(portal_tags, "_shape_render", lambda *args: tried.append(args[3].name))
    customer = CustomerFactory(confirmed=True, name="Ada Example")
    for _ in range(2):
        form = ComplaintForm(signed_in_customer=customer)
        html = _render(TAGGED, form)
        assert html == _render(INCLUDED, form)
        assert "Ada Example" in html
    assert tried and len(tried) == len(set(tried))  # each field tried on the first form only
    assert "Ada Example" not in "".join(portal_tags._RENDERED_ONCE.values())
