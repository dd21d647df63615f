"""Upgrading keeps every form token already used: a form sent before the upgrade and sent
again after it still files once (migration 0037 moves the tokens onto the complaints)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from complaints.models import Complaint
from tests.complaints.factories import complaint_form_data

BEFORE = [("complaints", "0036_complaint_overdue_idx")]
AFTER = [("complaints", "0037_portal_token_on_complaint")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_tokens_used_before_the_upgrade_still_file_once():
    form = complaint_form_data()
    Client().post(reverse("complaints:complain"), form)  # filed, on today's schema
    filed = Complaint.objects.get()
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        old = _migrate(BEFORE)  # as the database was before the upgrade
        old.get_model("complaints", "PortalSubmission").objects.create(
            token=form["token"], complaint_id=filed.pk, created_at=timezone.now()
        )
        _migrate(AFTER)
    finally:
        _migrate(latest)

    assert Complaint.objects.get().portal_token == form["token"]
    again = Client().post(reverse("complaints:complain"), form)
    assert again.status_code == 302
    assert again["Location"] == reverse("complaints:complaint-sent", args=[filed.reference])
    assert Complaint.objects.count() == 1
