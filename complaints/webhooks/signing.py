"""Standard Webhooks signatures: webhook-id, webhook-timestamp, webhook-signature."""

from __future__ import annotations

import base64
import secrets
import uuid
from datetime import datetime

from standardwebhooks.webhooks import Webhook


def webhook_secret_new() -> str:
    """Return a new signing secret in the Standard Webhooks form, whsec_<base64 of 32 bytes>."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def webhook_id_new() -> str:
    """Return a new stable message id, msg_<uuid4 hex>."""
    return f"msg_{uuid.uuid4().hex}"


def webhook_headers(*, secret: str, webhook_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """Return the three signature headers for `body`, signed over id.timestamp.body."""
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, at, body),
    }
