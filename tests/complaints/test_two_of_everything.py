"""Two of everything (issue 17): two web processes, two workers, one beat, one bucket.

Each web process (gunicorn) and each Celery worker has a working folder and MEDIA_ROOT of
its own, as separate hosts would; they share only PostgreSQL, Redis and the S3 bucket (a
real S3 API: moto's server mode). A customer signs in and files a complaint with a file
through web 1; a worker sends the acknowledgement (COP-05) with its letter read from the
bucket; the customer downloads the letter and the file through web 2; and every notice
is sent exactly once.

PostgreSQL and Redis only (CI's second run): SQLite and the filesystem broker are one
machine's by design.
"""

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from complaints.models import Attachment, DeliveryState, Notice, NoticeKind, OutboxMessage
from tests.accounts.factories import CustomerFactory
from tests.complaints.processes import CeleryProcesses, database_url
from tests.complaints.s3server import free_port, s3_server  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a long pass phrase 7"  # noqa: S105 - a test customer's
PDF = b"%PDF-1.4\n% the bill\n%%EOF\n"
MESSAGE_ID = re.compile(rb"^Message-ID: (<notice-[^>]+>)", re.MULTILINE | re.IGNORECASE)
pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]


def _skip_unless_shared_services() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL), as CI's second run: hosts share it")
    if not settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        pytest.skip("needs Redis (CELERY_BROKER_URL), as CI's second run: hosts share it")


def _multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            .encode()
        )  # fmt: skip
    for name, (filename, data) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Browser:
    """One customer's cookies, used against either web process (cookies ignore the port)."""

    def __init__(self):
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def get(self, url: str) -> tuple[int, bytes]:
        try:
            with self.opener.open(url, timeout=60) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def post(self, url: str, data: bytes, content_type: str) -> tuple[int, bytes]:
        request = urllib.request.Request(
            url, data=data, headers={"Referer": url, "Content-Type": content_type}
        )
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def form(self, url: str, fields: dict, files: dict | None = None) -> tuple[int, bytes]:
        """Open the form at `url` (for its CSRF token and hidden fields), then send it."""
        status, page = self.get(url)
        assert status == 200, (url, status)
        hidden = dict(re.findall(rb'type="hidden" name="([^"]+)" value="([^"]*)"', page))
        fields = {k.decode(): v.decode() for k, v in hidden.items()} | fields
        if files:
            body, content_type = _multipart(fields, files)
        else:
            body, content_type = (
                urllib.parse.urlencode(fields).encode(),
                "application/x-www-form-urlencoded",
            )
        return self.post(url, body, content_type)


class WebProcess:
    """gunicorn in a working folder of its own (its own var/ and MEDIA_ROOT)."""

    def __init__(self, folder: Path, env: dict):
        folder.mkdir(parents=True)
        self.folder, self.port = folder, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = folder / "gunicorn.log"
        self._out = self.log.open("w")
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "gunicorn", "config.wsgi", "--pythonpath", str(ROOT),
             "--bind", f"127.0.0.1:{self.port}", "--workers", "2", "--timeout", "120"],
            cwd=folder, env={**env, "REDRESS_VAR_DIR": str(folder)},
            stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60  # waiting for a server to start, not for a clock
        while True:
            try:
                urllib.request.urlopen(f"{self.base}/healthz", timeout=2)  # noqa: S310
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"gunicorn did not start:\n{self.log.read_text()}")
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._out.close()


def _local_files(folder: Path) -> list[Path]:
    media = folder / "media"
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def _mail_ids(mail_dir: Path) -> Counter:
    found = Counter()
    for path in mail_dir.glob("*.log") if mail_dir.exists() else ():
        found.update(m.decode() for m in MESSAGE_ID.findall(path.read_bytes()))
    return found


def test_file_on_one_web_process_download_from_the_other_each_notice_once(
    tmp_path,
    s3_server,  # noqa: F811
):
    _skip_unless_shared_services()
    bucket = s3_server.bucket()
    mail_dir = tmp_path / "mail"
    shared = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(),
        **s3_server.env(bucket, prefix="redress"),
        "REDRESS_SWEEP_SECONDS": "1",
        "REDRESS_OUTBOX_SECONDS": "1",
        "REDRESS_HEARTBEAT_SECONDS": "1",
        "REDRESS_TEST_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "REDRESS_TEST_EMAIL_FILE_PATH": str(mail_dir),
    }
    customer = CustomerFactory(confirmed=True, email="sam@example.com", name="Sam Smith")
    customer.user.set_password(PASSWORD)
    customer.user.save()

    folders = {name: tmp_path / name for name in ("web1", "web2", "worker1", "worker2")}
    for name in ("worker1", "worker2"):
        folders[name].mkdir()
    s3_env = {k: v for k, v in shared.items() if k.startswith("REDRESS_")}
    webs = []
    with (
        CeleryProcesses(folders["worker1"], **s3_env) as one,
        CeleryProcesses(folders["worker2"], **s3_env) as two,
    ):
        try:
            one.worker("worker1", concurrency=2)
            one.beat("beat")  # one beat for the whole system
            two.worker("worker2", concurrency=2)
            webs = [WebProcess(folders["web1"], shared), WebProcess(folders["web2"], shared)]
            web1, web2 = webs

            def logs() -> str:
                web = "\n".join(f"--- {w.folder.name}\n{w.log.read_text()[-3000:]}" for w in webs)
                return f"{web}\n{one.output(60)}\n{two.output(60)}"

            browser = Browser()
            status, _ = browser.form(
                f"{web1.base}/account/login/", {"username": "sam@example.com", "password": PASSWORD}
            )
            assert status == 200, logs()
            status, page = browser.form(
                f"{web1.base}/complain/",
                {"name": "Sam Smith", "email": "sam@example.com", "phone": "",
                 "account_reference": "", "about": "technical_support",
                 "subject": "Broadband drops every evening",
                 "description": "Since Monday the line drops at 7pm.",
                 "preferred_contact_method": "email", "customer_type": "consumer",
                 "employee_count": ""},
                files={"files": ("bill.pdf", PDF)},
            )  # fmt: skip
            assert status == 200 and b"CMP-" in page, logs()
            complaint = customer.complaints.get()
            upload = Attachment.objects.get(complaint=complaint, kind="customer_upload")
            acknowledgement = Notice.objects.get(
                complaint=complaint, kind=NoticeKind.ACKNOWLEDGEMENT
            )

            # A worker (either) sends the acknowledgement, attaching the letter it read from
            # the bucket: no worker's disk has it.
            def acknowledged():
                return OutboxMessage.objects.filter(
                    notice=acknowledgement, state=DeliveryState.SENT
                ).exists() and _mail_ids(mail_dir)

            one.wait_until(acknowledged, "the acknowledgement to be sent", state=logs)

            # web 2 never saw the upload; it serves the letter and the file from the bucket.
            for attachment, expected in ((acknowledgement.letter, None), (upload, PDF)):
                url = f"{web2.base}/my/{complaint.reference}/files/{attachment.pk}/"
                status, body = browser.get(url)
                assert status == 200, logs()
                key = f"redress/{attachment.file.name}"
                assert body == s3_server.read(bucket, key)
                assert body.startswith(b"%PDF") and (expected is None or body == expected)
            # Another customer signed in on web 2 gets a 404 for Sam's letter.
            stranger = CustomerFactory(confirmed=True, email="alex@example.com")
            stranger.user.set_password(PASSWORD)
            stranger.user.save()
            other = Browser()
            other.form(
                f"{web2.base}/account/login/",
                {"username": "alex@example.com", "password": PASSWORD},
            )
            letter_url = f"{web2.base}/my/{complaint.reference}/files/{acknowledgement.letter_id}/"
            assert other.get(letter_url)[0] == 404

            # Let the beat's sweeps run a few more times over everything: nothing is resent.
            start = _beats()
            one.wait_until(lambda: _beats() >= start + 3, "three more heartbeats", state=logs)
            for folder in folders.values():
                assert _local_files(folder) == [], f"a file on {folder.name}'s disk"
            worker_logs = one.logs["worker1"].read_text() + two.logs["worker2"].read_text()
        finally:
            for web in webs:
                web.stop()

    # Each notice once, each of its deliveries once, each email once (COP-05).
    notices = Counter(Notice.objects.values_list("complaint_id", "kind"))
    assert notices and set(notices.values()) == {1}, notices
    deliveries = Counter(OutboxMessage.objects.values_list("notice_id", "channel"))
    assert set(deliveries.values()) == {1}, deliveries
    emails = set(OutboxMessage.objects.filter(channel="email").values_list("message_id", flat=True))
    assert _mail_ids(mail_dir) == Counter(dict.fromkeys(emails, 1)), worker_logs[-3000:]


def _beats() -> int:
    from complaints.models import Heartbeat

    row = Heartbeat.objects.filter(name="beat").first()
    return row.count if row else 0
