"""Which URLs a webhook may be sent to: no private networks, https when required."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError


def _address_refused(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_link_local
        or ip.is_private
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def webhook_url_check(url: str) -> None:
    """Raise ValidationError unless `url` is a target we may POST to now.

    Run when a subscription is made and again before every attempt, so a name that
    later resolves to an internal address (DNS rebinding) is refused at delivery.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    allowed = ("https",) if settings.REDRESS_WEBHOOK_REQUIRE_HTTPS else ("https", "http")
    if scheme not in allowed:
        raise ValidationError(
            "The URL must use https." if scheme == "http" else "The URL must be http or https."
        )
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValidationError("The URL must not contain a user name or password.")
    host = parts.hostname
    if not host:
        raise ValidationError("The URL has no host.")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise ValidationError("The URL's port is not valid.") from exc
    if settings.REDRESS_WEBHOOK_ALLOW_PRIVATE_TARGETS:
        return
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise ValidationError(f"The host {host} could not be resolved.") from exc
    for *_rest, sockaddr in infos:
        if _address_refused(sockaddr[0]):
            raise ValidationError(
                f"The host {host} resolves to {sockaddr[0]}, a private, loopback, link-local, "
                "multicast or reserved address."
            )
