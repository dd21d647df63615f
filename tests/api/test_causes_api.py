"""The API's category, root cause and close actions and its filters (issue 16 item 1)."""

import pytest

from complaints.domain.causes import ROOT_CAUSE_NEEDED
from tests.complaints.factories import complaint_make
from tests.complaints.test_causes import responded


@pytest.mark.django_db
def test_the_api_sets_category_and_root_cause_closes_and_filters(support):
    complaint = responded()
    other = complaint_make()
    base = f"/api/v1/complaints/{complaint.reference}"

    def etag():
        return support.get(base + "/")["ETag"]

    refused = support.post(
        base + "/close/", {"closure_reason": "customer_satisfied"}, format="json",
        HTTP_IF_MATCH=etag(),
    )  # fmt: skip
    assert refused.status_code == 400, refused.content
    assert ROOT_CAUSE_NEEDED in refused.content.decode()

    done = support.post(
        base + "/category/", {"category": "fault", "product": "broadband"}, format="json",
        HTTP_IF_MATCH=etag(),
    )  # fmt: skip
    assert done.status_code == 200, done.content
    assert done.json()["category"] == "fault" and done.json()["product"] == "broadband"
    done = support.post(
        base + "/root-cause/", {"root_cause": "system_error", "company_at_fault": True},
        format="json", HTTP_IF_MATCH=etag(),
    )  # fmt: skip
    assert done.status_code == 200, done.content
    assert done.json()["root_cause"] == "system_error" and done.json()["company_at_fault"]
    closed = support.post(
        base + "/close/", {"closure_reason": "customer_satisfied"}, format="json",
        HTTP_IF_MATCH=etag(),
    )  # fmt: skip
    assert closed.status_code == 200, closed.content
    assert closed.json()["status"] == "closed"

    def listed(query):
        response = support.get("/api/v1/complaints/?" + query)
        assert response.status_code == 200, response.content
        return {row["reference"] for row in response.json()["results"]}

    assert listed("root_cause=system_error") == {complaint.reference}
    assert listed("category=fault,billing") == {complaint.reference}
    assert other.reference in listed("")
    assert support.get("/api/v1/complaints/?root_cause=nonsense").status_code == 400
