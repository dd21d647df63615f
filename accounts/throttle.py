"""The client address used to throttle logins: never taken from a header a client can forge."""

from django.conf import settings


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
