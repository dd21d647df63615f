"""What users read never mentions the developers' issue numbers ("issue 15", "issue 16 item 2").

Docstrings and comments may cite the issue a rule came from; labels, help texts, choices,
admin headings, templates and the API reference are read by customers, staff and
integrators, for whom "issue 15" means nothing.
"""

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.management import call_command

REPO = Path(__file__).resolve().parent.parent
ISSUE = re.compile(r"\bissues? \d+\b", re.IGNORECASE)
TEMPLATE_COMMENT = re.compile(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{#.*?#}", re.DOTALL)


def _field_texts():
    for model in apps.get_models():
        if model._meta.app_label not in {"accounts", "complaints", "escalation"}:
            continue
        yield f"{model.__name__} verbose name", str(model._meta.verbose_name)
        for field in model._meta.get_fields():
            where = f"{model.__name__}.{field.name}"
            yield where, str(getattr(field, "verbose_name", ""))
            yield where, str(getattr(field, "help_text", ""))
            for _value, label in getattr(field, "flatchoices", None) or ():
                yield where, str(label)


def test_labels_help_texts_and_choices_never_cite_an_issue():
    found = [(where, text) for where, text in _field_texts() if ISSUE.search(text)]
    assert found == []


def test_admin_headings_never_cite_an_issue(rf, admin_user):
    request = rf.get("/admin/")
    request.user = admin_user
    found = []
    for model, model_admin in admin.site._registry.items():
        for heading, _options in model_admin.get_fieldsets(request) or ():
            if heading and ISSUE.search(str(heading)):
                found.append((model.__name__, str(heading)))
    assert found == []


def test_templates_never_show_an_issue_outside_their_comments():
    found = []
    for path in sorted((REPO / "templates").rglob("*.html")):
        text = TEMPLATE_COMMENT.sub("", path.read_text(encoding="utf-8"))
        found += [(path.name, m.group(0)) for m in ISSUE.finditer(text)]
    assert found == []


@pytest.mark.django_db
def test_the_api_reference_never_cites_an_issue(tmp_path):
    schema = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(schema))
    assert ISSUE.findall(schema.read_text(encoding="utf-8")) == []
