"""API keys in the Authorization header: ``Authorization: Bearer rdk_<prefix>_<secret>``."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.integrations import api_key_authenticate


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Authenticate as the integration's staff user; `request.auth` is the ApiKey.

    A request with no key is anonymous (and refused by the permissions with 401); a key
    that is unknown, wrong, revoked or expired is refused here, with one message for all
    four, so a caller learns nothing about keys it does not hold.
    """

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != self.keyword.lower() or not token.strip():
            raise exceptions.AuthenticationFailed(
                "Send the key as 'Authorization: Bearer rdk_...'."
            )
        key = api_key_authenticate(token.strip())
        if key is None:
            raise exceptions.AuthenticationFailed(
                "This API key is not valid: it is unknown, revoked or expired."
            )
        return key.integration.user, key

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """The schema's security scheme: a bearer token that is one of our API keys."""

    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "rdk_<prefix>_<secret>",
            "description": "An API key issued in the admin or with manage.py api_key create.",
        }
