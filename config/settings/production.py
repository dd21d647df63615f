"""Production settings: PostgreSQL, Redis, HTTPS. No default secrets; a missing one stops start."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import CELERY_BROKER_URL, DATABASES, STORAGE_DEFAULT, env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
# Links in notices (the satisfaction question) name the portal: its public address.
REDRESS_PORTAL_URL = env("REDRESS_PORTAL_URL", default=f"https://{ALLOWED_HOSTS[0]}")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and not env.bool(
    "REDRESS_ALLOW_SQLITE", default=False
):
    raise ImproperlyConfigured("Set DATABASE_URL to a PostgreSQL database in production.")
if CELERY_BROKER_URL.startswith("filesystem://") and not env.bool(
    "REDRESS_ALLOW_FILESYSTEM_BROKER", default=False
):
    raise ImproperlyConfigured("Set CELERY_BROKER_URL to a Redis URL in production.")

EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("DJANGO_EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("DJANGO_EMAIL_PORT", default=587)
EMAIL_HOST_USER = env("DJANGO_EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("DJANGO_EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("DJANGO_EMAIL_USE_TLS", default=True)

# HTTPS everywhere, behind a proxy that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Stored files as base.py chose them (the disk, or the REDRESS_S3_BUCKET bucket).
STORAGES = {
    "default": STORAGE_DEFAULT,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Webhooks go only to https:// targets in production.
REDRESS_WEBHOOK_REQUIRE_HTTPS = env.bool("REDRESS_WEBHOOK_REQUIRE_HTTPS", default=True)
