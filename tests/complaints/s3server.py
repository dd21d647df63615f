"""A real S3-compatible server for tests: moto's server mode (`moto_server`), on loopback.

Issue 17: the stored files of every web and worker host live in one bucket. The tests that
prove it talk to a real HTTP S3 API (moto's server, a separate process), never to a mock
inside the test process. Each test gets a bucket of its own on the one server.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

# moto accepts any credentials; these only have to be the same everywhere.
ACCESS_KEY, SECRET_KEY, REGION = "redress-test", "redress-test-secret", "eu-west-2"
# The variables that point a process at a bucket (a test clears them for a clean start).
ROOT_ENV_KEYS = (
    "REDRESS_S3_BUCKET",
    "REDRESS_S3_ENDPOINT_URL",
    "REDRESS_S3_REGION",
    "REDRESS_S3_ACCESS_KEY_ID",
    "REDRESS_S3_SECRET_ACCESS_KEY",
    "REDRESS_S3_ADDRESSING_STYLE",
    "REDRESS_S3_PREFIX",
)
MOTO_MISSING = "moto is not installed (pip install -r requirements-dev.txt: moto[server])"


def moto_available() -> bool:
    return importlib.util.find_spec("moto") is not None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class S3Server:
    """One `moto_server` process; `bucket()` makes a new, empty, private bucket on it."""

    def __init__(self, log: Path):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._log = log.open("w")
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30  # waiting for a server to start, not for a clock
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"moto_server did not start: {log.read_text()}") from None
                time.sleep(0.1)

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def bucket(self) -> str:
        name = f"redress-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        return name

    def keys(self, bucket: str) -> list[str]:
        listing = self.client().list_objects_v2(Bucket=bucket)
        return sorted(item["Key"] for item in listing.get("Contents", []))

    def read(self, bucket: str, key: str) -> bytes:
        return self.client().get_object(Bucket=bucket, Key=key)["Body"].read()

    def env(self, bucket: str, prefix: str = "") -> dict[str, str]:
        """The REDRESS_S3_* variables that point a Redress process at `bucket`."""
        return {
            "REDRESS_S3_BUCKET": bucket,
            "REDRESS_S3_ENDPOINT_URL": self.endpoint,
            "REDRESS_S3_REGION": REGION,
            "REDRESS_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "REDRESS_S3_SECRET_ACCESS_KEY": SECRET_KEY,
            "REDRESS_S3_ADDRESSING_STYLE": "path",
            "REDRESS_S3_PREFIX": prefix,
        }

    def storages(self, bucket: str, prefix: str = "") -> dict:
        """settings.STORAGES for this test process, as base.py builds it from env()."""
        return {
            "default": {
                "BACKEND": "complaints.storage.PrivateS3Storage",
                "OPTIONS": {
                    "bucket_name": bucket,
                    "endpoint_url": self.endpoint,
                    "region_name": REGION,
                    "access_key": ACCESS_KEY,
                    "secret_key": SECRET_KEY,
                    "addressing_style": "path",
                    "location": prefix,
                },
            },
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    """A moto S3 server for the tests of one module (skipped, saying why, without moto)."""
    if not moto_available():
        pytest.skip(MOTO_MISSING)
    server = S3Server(tmp_path_factory.mktemp("moto") / "moto.log")
    yield server
    server.stop()
