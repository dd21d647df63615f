"""Stored files in an S3 bucket (issue 17): the same files, through the same checked doors.

With REDRESS_S3_BUCKET set, a customer's upload, the letters we send (COP-05, COP-10) and
a bundle ZIP (the ombudsman's case file, COP-18; a subject access answer, UK GDPR art. 15)
are written to a private bucket, not to the web host's disk, and come back byte for byte
through the permission-checked download views: a customer sees only their own complaint's
files (a 404 for anyone else's), staff only their department's. No link to the bucket is
ever made. Runs against a real S3 API (moto's server mode, tests/complaints/s3server.py).
"""

import os
import subprocess
import sys
import zipfile
from io import BytesIO

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from complaints import bundles
from complaints.bundles import bundle_build, bundle_request, register_builder
from complaints.models import Attachment, BundleKind, Department, Notice, NoticeKind
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.complaints.factories import complaint_form_data
from tests.complaints.s3server import ROOT_ENV_KEYS, s3_server  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n% a bill\n%%EOF\n"
PREFIX = "redress-media"


@pytest.fixture
def bucket(s3_server, settings, tmp_path):  # noqa: F811 - the fixture imported above
    """A new bucket for this test, as the default storage; MEDIA_ROOT an empty folder."""
    name = s3_server.bucket()
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = s3_server.storages(name, prefix=PREFIX)
    return name


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _download(client: Client, response) -> bytes:
    assert response.status_code == 200, response
    return b"".join(response.streaming_content)


def _no_local_files(settings) -> None:
    media = settings.MEDIA_ROOT
    local = [p for p in media.rglob("*") if p.is_file()] if media.exists() else []
    assert local == [], "files were written to the web host's disk"


def test_an_upload_and_its_letter_go_to_the_bucket_and_back_to_their_customer_only(
    s3_server,  # noqa: F811
    bucket,
    settings,
):
    customer = CustomerFactory(confirmed=True, email="sam@example.com")
    client = _signed_in(customer.user)
    response = client.post(
        reverse("complaints:complain"),
        {**complaint_form_data(email="sam@example.com"),
         "files": [SimpleUploadedFile("bill.pdf", PDF)]},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    complaint = customer.complaints.get()
    upload = Attachment.objects.get(complaint=complaint, kind="customer_upload")
    acknowledgement = Notice.objects.get(complaint=complaint, kind=NoticeKind.ACKNOWLEDGEMENT)
    letter = acknowledgement.letter

    # Both are objects in the bucket, under the prefix, and nothing is on this host's disk.
    keys = s3_server.keys(bucket)
    assert f"{PREFIX}/{upload.file.name}" in keys
    assert f"{PREFIX}/{letter.file.name}" in keys
    assert s3_server.read(bucket, f"{PREFIX}/{upload.file.name}") == PDF
    _no_local_files(settings)

    # The customer downloads both through the portal's checked view, byte for byte.
    url = reverse("complaints:complaint-file", args=[complaint.reference, upload.pk])
    assert _download(client, client.get(url)) == PDF
    letter_url = reverse("complaints:complaint-file", args=[complaint.reference, letter.pk])
    pdf = _download(client, client.get(letter_url))
    assert pdf.startswith(b"%PDF") and pdf == s3_server.read(bucket, f"{PREFIX}/{letter.file.name}")

    # Staff of the complaint's department download it from the desk; another's get a 404.
    agent = _signed_in(StaffUserFactory(role="support_agent"))
    staff_url = reverse("complaints:staff-attachment-download", args=[upload.pk])
    assert _download(agent, agent.get(staff_url)) == PDF
    other_department = _signed_in(StaffUserFactory(role="accounts_agent"))
    assert other_department.get(staff_url).status_code == 404

    # A customer of another complaint is told nothing exists (COP-20: only their own).
    stranger = _signed_in(CustomerFactory(confirmed=True).user)
    assert stranger.get(url).status_code == 404
    assert stranger.get(letter_url).status_code == 404


def test_a_file_gone_from_the_bucket_is_a_plain_404_not_an_error(s3_server, bucket):  # noqa: F811
    customer = CustomerFactory(confirmed=True, email="sam@example.com")
    client = _signed_in(customer.user)
    client.post(
        reverse("complaints:complain"),
        {**complaint_form_data(email="sam@example.com"),
         "files": [SimpleUploadedFile("bill.pdf", PDF)]},
    )  # fmt: skip
    upload = Attachment.objects.get(kind="customer_upload")
    # Removed under the retention policy (accounts/retention.py deletes through storage).
    default_storage.delete(upload.file.name)
    assert f"{PREFIX}/{upload.file.name}" not in s3_server.keys(bucket)
    url = reverse("complaints:complaint-file", args=[upload.complaint.reference, upload.pk])
    assert client.get(url).status_code == 404  # as on the disk: the row stays, the file not


@pytest.fixture
def builder():
    """A small builder for the subject-access kind, for one test (as tests/.../test_bundles)."""
    saved = dict(bundles._REGISTRY)

    def build(bundle, archive, progress):
        progress(0, 1)
        archive.writestr("letter.txt", f"complaint {bundle.complaint.reference}")
        progress(1, 1)

    register_builder(BundleKind.SUBJECT_ACCESS, build)
    yield
    bundles._REGISTRY.clear()
    bundles._REGISTRY.update(saved)


def test_a_bundle_zip_is_built_into_the_bucket_and_downloaded_by_its_staff_only(
    s3_server,  # noqa: F811
    bucket,
    builder,
    settings,
):
    from tests.complaints.factories import complaint_make

    complaint = complaint_make(department=Department.TECHNICAL_SUPPORT)
    agent = StaffUserFactory(role="support_agent")
    bundle = bundle_request(kind=BundleKind.SUBJECT_ACCESS, complaint=complaint, actor=agent)
    bundle_build(bundle.pk)
    bundle.refresh_from_db()
    key = f"{PREFIX}/{bundle.file.name}"
    assert key in s3_server.keys(bucket)
    _no_local_files(settings)

    client = _signed_in(agent)
    response = client.get(reverse("complaints:bundle-download", args=[bundle.pk]))
    assert response["Content-Type"] == "application/zip"
    data = _download(client, response)
    assert data == s3_server.read(bucket, key)
    archive = zipfile.ZipFile(BytesIO(data))
    assert archive.read("letter.txt").decode() == f"complaint {complaint.reference}"

    other = _signed_in(StaffUserFactory(role="accounts_agent"))
    assert other.get(reverse("complaints:bundle-download", args=[bundle.pk])).status_code == 404


def test_no_link_to_the_bucket_is_ever_made(bucket):
    """Files leave only through the checked views: a pre-signed URL would outlive them."""
    with pytest.raises(NotImplementedError, match="permission-checked"):
        default_storage.url("complaints/1/anything")


def test_the_settings_choose_the_bucket_only_when_one_is_named(s3_server):  # noqa: F811
    """REDRESS_S3_BUCKET (and friends) from the environment pick S3; without it, the disk."""
    script = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.STORAGES['default']))"
    )

    def storage(**env):
        clean = {k: v for k, v in os.environ.items() if k not in ROOT_ENV_KEYS}
        out = subprocess.run(  # noqa: S603 - our own interpreter, a fixed script
            [sys.executable, "-c", script],
            env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings.test", **env},
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        import json

        return json.loads(out.stdout.strip().splitlines()[-1])

    assert storage() == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    chosen = storage(**s3_server.env("letters", prefix="/redress/"))
    assert chosen["BACKEND"] == "complaints.storage.PrivateS3Storage"
    assert chosen["OPTIONS"] == {
        "bucket_name": "letters",
        "endpoint_url": s3_server.endpoint,
        "region_name": "eu-west-2",
        "access_key": "redress-test",
        "secret_key": "redress-test-secret",
        "addressing_style": "path",
        "location": "redress",
    }
