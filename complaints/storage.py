"""Where stored files live: the web host's disk (embedded default) or an S3 bucket.

Attachments, letters, raw emails and bundles are all FileFields on the default storage
(settings.STORAGES["default"]). With REDRESS_S3_BUCKET set it is a private bucket that every
web and worker host shares (issue 17), so a file written by one host is served by any
other. Files leave only through our own permission-checked views, which stream them from
storage (customers see only their own complaints' files, COP-20 / UK GDPR art. 5(1)(f)):
a bucket object is never public and we never hand out a link to one.
"""

from __future__ import annotations

from storages.backends.s3 import S3Storage


class PrivateS3Storage(S3Storage):
    """A private S3 (or S3-compatible) bucket whose objects are never linked to directly.

    - ``default_acl = "private"``: objects are readable with the bucket's credentials only.
    - ``file_overwrite = False``: a second file of the same name gets a new name, as on the
      file system, so nothing stored is ever replaced by another upload.
    - ``url()`` refuses: a pre-signed link would let anyone holding it read the file for its
      lifetime, past the permission checks of the download views (and past a sign-out).
    """

    default_acl = "private"
    file_overwrite = False
    querystring_auth = True

    def url(self, name, parameters=None, expire=None, http_method=None):
        raise NotImplementedError(
            "Stored files are served only through Redress's permission-checked download "
            "views, never by a link to the bucket."
        )
