"""Rate limits per API key and per client address, counted in the shared cache (CACHES).

DRF answers 429 with ``Retry-After`` in seconds. The client address is found as for sign-in
(accounts.throttle.client_ip: REDRESS_TRUSTED_PROXIES from the right of X-Forwarded-For),
so a forged header never gives a caller a fresh allowance.
"""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiKey
from accounts.throttle import client_ip


class _SettingsRate(SimpleRateThrottle):
    def get_rate(self):
        # Read when asked, not once at import, so a changed setting takes effect.
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]


class KeyRateThrottle(_SettingsRate):
    """REDRESS_API_KEY_RATE requests per key (default 600 a minute)."""

    scope = "api_key"

    def get_cache_key(self, request, view):
        key = request.auth
        if not isinstance(key, ApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": key.prefix}


class AddressRateThrottle(_SettingsRate):
    """REDRESS_API_ADDRESS_RATE requests per client address, with or without a key."""

    scope = "api_address"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request)}
