"""Login throttling (django-axes): by account and address together, and by address alone.

Nobody can lock a named member of staff out by guessing at their password: failures are
counted per account *and* client address (AXES_FAILURE_LIMIT, 5), so wrong passwords from
one place pause that account from that place only, and the real user signing in from
anywhere else is not stopped. One address guessing at many accounts is paused for every
account once its failures together reach a second, higher limit
(REDRESS_LOGIN_ADDRESS_FAILURE_LIMIT, 50), which django-axes has no setting for: the
handler below adds it. A password reset never goes through this throttle.
"""

from __future__ import annotations

import math

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.db.models import Sum
from django.shortcuts import render


def client_ip(request) -> str:
    """Return the address of the client, trusting X-Forwarded-For only from our own proxies.

    With REDRESS_TRUSTED_PROXIES = N, the N-th address from the right of X-Forwarded-For is
    the one our outermost proxy saw; anything to its left was written by the client.
    """
    trusted = settings.REDRESS_TRUSTED_PROXIES
    if trusted:
        header = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in header.split(",") if hop.strip()]
        if len(hops) >= trusted:
            return hops[-trusted]
    return request.META.get("REMOTE_ADDR", "")


def login_name(request, credentials: dict | None = None) -> str | None:
    """Return the account a login tried, as we look it up: an email address in lower case.

    Sign-in ignores case, so "Name@Example.com" and "name@example.com" are one account
    and share one count.
    """
    source = credentials if credentials else getattr(request, "data", request.POST)
    name = source.get("username") or source.get("email")
    return name.strip().lower() if isinstance(name, str) else name


def address_failures(request) -> int:
    """Return the failed logins from this request's client address, for every account."""
    attempts = AccessAttempt.objects.filter(ip_address=request.axes_ip_address)
    if settings.AXES_COOLOFF_TIME is not None:
        attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


def _address_locked(request) -> bool:
    locked = address_failures(request) >= settings.REDRESS_LOGIN_ADDRESS_FAILURE_LIMIT
    if locked:
        request.redress_address_locked = True
    return locked


class AccountAndAddressHandler(AxesDatabaseHandler):
    """django-axes' database handler, with the per-address limit as well.

    AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]] makes axes count each account
    from each address; this adds the count of every account from one address, against
    its own limit.
    """

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        return super().is_locked(request, credentials) or _address_locked(request)

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or request.axes_locked_out:
            return
        if self.is_whitelisted(request, credentials) or not _address_locked(request):
            return
        request.axes_locked_out = True
        request.axes_credentials = credentials
        user_locked_out.send(
            "axes",
            request=request,
            username=get_client_username(request, credentials),
            ip_address=request.axes_ip_address,
        )


def lockout_response(request, original_response=None, credentials=None):
    """The page shown instead of signing in while a pause lasts (HTTP 429)."""
    cool_off = get_cool_off(request)
    minutes = math.ceil(cool_off.total_seconds() / 60) if cool_off else None
    context = {
        "minutes": minutes,
        "whole_address": getattr(request, "redress_address_locked", False),
    }
    return render(request, "accounts/locked_out.html", context, status=429)
