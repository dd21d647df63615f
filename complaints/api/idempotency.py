"""``Idempotency-Key`` on creates: the same key and body get the first answer again (issue 14).

A CRM that timed out does not know whether its complaint was filed; sending the same
request again with the same key files nothing new and returns the first 201. The same key
with a different body is a 422, never a silent replay of another request's answer. Keys are
per integration and remembered for IDEMPOTENCY_TTL.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.response import Response

from accounts.models import IdempotencyRecord
from complaints.api.problems import Problem

IDEMPOTENCY_TTL = timedelta(hours=24)
HEADER = "Idempotency-Key"


def request_digest(request) -> str:
    """SHA-256 of the method, path and body (files by their content), whatever the encoding."""
    data = request.data
    if hasattr(data, "lists"):
        items = {key: values for key, values in data.lists()}
    else:
        items = data if isinstance(data, dict) else {"": data}
    canonical = {}
    for key, value in items.items():
        values = value if isinstance(value, list) and hasattr(data, "lists") else [value]
        canonical[key] = [_value_digest(v) for v in values]
    blob = json.dumps(
        [request.method, request.path, canonical], sort_keys=True, default=str
    ).encode()
    return hashlib.sha256(blob).hexdigest()


def _value_digest(value):
    if hasattr(value, "chunks"):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)
        return {"file": value.name, "sha256": digest.hexdigest()}
    return value


def idempotent(request, create: Callable[[], Response]) -> Response:
    """Run `create` once per (integration, Idempotency-Key); replay its answer after that."""
    key = request.headers.get(HEADER, "")
    if not key:
        return create()
    if len(key) > 255 or not key.strip():
        raise Problem(
            400,
            "idempotency-key",
            "Idempotency-Key not usable",
            "An Idempotency-Key must be 1 to 255 characters (a UUID is a good choice).",
        )
    integration = request.auth.integration
    digest = request_digest(request)
    now = timezone.now()
    with transaction.atomic():
        # Forget this integration's keys older than a day (this one included), so the
        # table holds one day of creates, not every create ever made.
        IdempotencyRecord.objects.filter(
            integration=integration, created_at__lt=now - IDEMPOTENCY_TTL
        ).delete()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    integration=integration, key=key, request_hash=digest, created_at=now
                )
        except IntegrityError:
            # Sent before (or being sent right now: the insert waited for it to commit).
            first = IdempotencyRecord.objects.get(integration=integration, key=key)
            return _replay(first, digest)
        response = create()
        record.status_code = response.status_code
        record.body = json.loads(json.dumps(response.data, default=str))
        record.location = response.get("Location", "")
        record.save(update_fields=["status_code", "body", "location"])
    return response


def _replay(record: IdempotencyRecord, digest: str) -> Response:
    if record.request_hash != digest:
        raise Problem(
            422,
            "idempotency-key-reused",
            "Idempotency-Key used for another request",
            "This Idempotency-Key was already used with a different request. Nothing was "
            "saved: send a new key with a new request.",
        )
    headers = {"Idempotent-Replayed": "true"}
    if record.location:
        headers["Location"] = record.location
    return Response(record.body, status=record.status_code, headers=headers)
