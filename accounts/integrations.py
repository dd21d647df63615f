"""Integrations and their API keys (issue 14): created, issued, revoked and checked here.

The admin, ``manage.py api_key`` and the API's authentication all call these functions.
A key's secret is shown once, when issued; only its SHA-256 is stored (the secret is 32
random bytes, so a fast hash is enough: nothing to guess a dictionary from).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import ApiKey, ApiScope, Integration, User
from accounts.roles import STAFF_ROLES, Role, user_role_add

KEY_PATTERN = re.compile(r"^rdk_(?P<prefix>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_-]{43})$")
INTEGRATION_EMAIL_DOMAIN = "integrations.invalid"  # RFC 2606: never a real mailbox
LAST_USED_PRECISION = timedelta(minutes=1)  # last_used_at is written at most once a minute


@dataclass(frozen=True)
class IssuedKey:
    """A key just issued: `plaintext` is shown once and never stored."""

    key: ApiKey
    plaintext: str


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def scopes_clean(scopes) -> list[str]:
    """Return the scopes in a fixed order, or raise ValidationError naming a bad one."""
    known = {scope.value for scope in ApiScope}
    bad = [s for s in scopes if s not in known]
    if bad:
        raise ValidationError(
            f"Unknown scope {bad[0]!r}: use {', '.join(s.value for s in ApiScope)}."
        )
    if not scopes:
        raise ValidationError("A key needs at least one scope.")
    return [s.value for s in ApiScope if s.value in set(scopes)]


@transaction.atomic
def integration_create(*, name: str, role: Role, by: User | None = None) -> Integration:
    """Create an integration and the staff user it acts as, holding `role`."""
    name = name.strip()
    if not name:
        raise ValidationError("An integration needs a name.")
    try:
        role = Role(role)
    except ValueError:
        raise ValidationError(f"Unknown role {role!r}.") from None
    if role not in STAFF_ROLES:
        raise ValidationError(f"{role.label!r} is not a staff role.")
    if Integration.objects.filter(name__iexact=name).exists():
        raise ValidationError(f"An integration called {name!r} already exists.")
    slug = slugify(name)[:40] or "integration"
    email = f"{slug}-{secrets.token_hex(4)}@{INTEGRATION_EMAIL_DOMAIN}"
    # No usable password: the user cannot sign in, and password reset ignores it.
    user = User.objects.create_user(email, None, name=f"{name} (API)", is_staff=True)
    user_role_add(user=user, role=role)
    return Integration.objects.create(name=name, user=user, role=role.value, created_by=by)


def api_key_issue(
    *,
    integration: Integration,
    scopes,
    expires_at: datetime | None = None,
    label: str = "",
    by: User | None = None,
    now: datetime | None = None,
) -> IssuedKey:
    """Issue a new key for `integration`; the returned plaintext is the only copy."""
    now = now or timezone.now()
    scopes = scopes_clean(scopes)
    if expires_at is not None and expires_at <= now:
        raise ValidationError("The expiry must be in the future.")
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        integration=integration,
        label=label.strip(),
        prefix=prefix,
        secret_hash=_secret_hash(secret),
        scopes=scopes,
        expires_at=expires_at,
        created_by=by,
        created_at=now,
    )
    return IssuedKey(key=key, plaintext=f"rdk_{prefix}_{secret}")


def api_key_revoke(*, key: ApiKey, by: User | None = None, now: datetime | None = None) -> bool:
    """Revoke a key at once; False if it was revoked already (the first revocation stays)."""
    now = now or timezone.now()
    updated = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=by
    )
    key.refresh_from_db(fields=["revoked_at", "revoked_by"])
    return bool(updated)


def api_key_authenticate(plaintext: str, *, now: datetime | None = None) -> ApiKey | None:
    """Return the usable key `plaintext` names, or None (unknown, wrong, revoked, expired)."""
    match = KEY_PATTERN.match(plaintext or "")
    if not match:
        return None
    now = now or timezone.now()
    key = ApiKey.objects.select_related("integration__user").filter(prefix=match["prefix"]).first()
    if key is None or not hmac.compare_digest(key.secret_hash, _secret_hash(match["secret"])):
        return None
    if not key.usable_at(now) or not key.integration.user.is_active:
        return None
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_PRECISION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
