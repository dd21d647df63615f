"""Settings for the test suite: fast hashing, email kept in memory, same database rules."""

import os

from .base import *  # noqa: F403
from .base import DATABASES, STORAGE_DEFAULT, VAR_DIR, env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY", default="test-only-not-a-secret-0123456789abcdef0123456789")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# In memory by default; a worker process started by a test may write files instead.
# (A variable of its own, so that a developer's .env pointing at SMTP never reaches tests.)
EMAIL_BACKEND = env(
    "REDRESS_TEST_EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend"
)
EMAIL_FILE_PATH = env("REDRESS_TEST_EMAIL_FILE_PATH", default=str(VAR_DIR / "emails"))
# Stored files as base.py chose them (the disk, or the REDRESS_S3_BUCKET bucket).
STORAGES = {
    "default": STORAGE_DEFAULT,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so that a real Celery worker started by a test can share it.
    # One file per test run, so that runs side by side never share a database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
WHITENOISE_AUTOREFRESH = True  # no collectstatic in tests
# Each test process keeps its own cache (rate limits), so tests side by side never share
# counts; a test that needs the shared cache says so.
CACHES = {"default": env.cache_url("REDRESS_TEST_CACHE_URL", default="locmemcache://redress-tests")}

# The tests move the clock to fixed dates (late 2026 and 2027) and back to the real one. A
# session saved on a moved date must not end because the real date has since passed its
# two weeks: a test's result may never depend on the day it runs. (Production keeps
# Django's two weeks; nothing in the suite tests the session's age.)
SESSION_COOKIE_AGE = 60 * 60 * 24 * 365 * 20
