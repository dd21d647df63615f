"""200 customers filing at once through a real server (gunicorn): nothing lost, nothing doubled.

PostgreSQL only (as in CI's second run): SQLite serialises every writer by design.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from django.db import connection

from complaints.models import Complaint, Notice, NoticeKind
from tests.complaints.processes import database_url

ROOT = Path(__file__).resolve().parents[2]
CUSTOMERS = 200
pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _file_one(base: str, i: int) -> int:
    """Open the form, then send it, as one browser would; return the final status code."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/complain/", timeout=60).read().decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": csrf, "token": token, "name": f"Customer {i}",
         "email": f"load{i}@example.com", "about": "technical_support",
         "subject": "Line down", "description": f"Customer {i}: no service since 8am.",
         "preferred_contact_method": "email", "customer_type": "consumer"}
    ).encode()  # fmt: skip
    request = urllib.request.Request(
        f"{base}/complain/", data=data, headers={"Referer": f"{base}/complain/"}
    )
    try:
        return opener.open(request, timeout=60).status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_two_hundred_customers_filing_at_once(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("runs on PostgreSQL (CI's second run); SQLite serialises writers")
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(),
        "REDRESS_VAR_DIR": str(tmp_path),
    }
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "3", "--threads", "8", "--timeout", "120"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60  # waiting for the server to start, not a clock
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2)  # noqa: S310 - loopback
                break
            except OSError:
                time.sleep(0.2)
        with ThreadPoolExecutor(max_workers=50) as pool:
            statuses = list(pool.map(lambda i: _file_one(base, i), range(CUSTOMERS)))
    finally:
        os.kill(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    server_log = (tmp_path / "gunicorn.log").read_text()
    assert all(s < 500 for s in statuses), server_log[-3000:]
    assert statuses.count(200) == CUSTOMERS, sorted(set(statuses))
    references = list(Complaint.objects.values_list("reference", flat=True))
    assert len(references) == CUSTOMERS == len(set(references))
    acknowledgements = Notice.objects.filter(kind=NoticeKind.ACKNOWLEDGEMENT)
    assert acknowledgements.count() == CUSTOMERS
    assert acknowledgements.values("complaint").distinct().count() == CUSTOMERS
