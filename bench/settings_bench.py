"""Settings for bench/pages.py: the local settings with debug off and a ceiling view.

The database comes from DATABASE_URL, which bench/pages.py points at its own database.
"""

from config.settings.local import *  # noqa: F403

DEBUG = False
ROOT_URLCONF = "bench.ceiling_urls"
# "testserver" only for the in-process query count (django.test.Client).
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
# No mail leaves the benchmark, and none is printed on gunicorn's console.
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
WHITENOISE_AUTOREFRESH = False
