"""Errors as RFC 9457 problem details (``application/problem+json``), each with a plain message.

Every error the API gives has ``type``, ``title``, ``status`` and ``detail``; a form's errors
add ``errors`` (field name -> messages), a lifecycle refusal adds ``current_status``. The
types are listed in the README ("Errors").
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from complaints.domain.lifecycle import IllegalTransition
from complaints.services.desk import ComplaintChanged
from escalation.services import FormalCaseChanged, ReviewClosed

logger = logging.getLogger("redress.api")

PROBLEM_TYPE_BASE = "/api/v1/problems/"
CONTENT_TYPE = "application/problem+json"


class Problem(exceptions.APIException):
    """An error of ours: a status, a short title, a plain sentence and any extra members."""

    def __init__(self, status_code: int, slug: str, title: str, detail: str, **extra):
        self.status_code = status_code
        self.slug, self.title, self.extra = slug, title, extra
        super().__init__(detail)


def lifecycle_conflict(complaint, detail: str) -> Problem:
    """409: the move is not open to a complaint in its current status (the status named)."""
    return Problem(
        status.HTTP_409_CONFLICT,
        "lifecycle",
        "Not allowed in the complaint's current status",
        detail,
        current_status=complaint.status,
    )


def _body(status_code: int, slug: str, title: str, detail: str, **extra) -> dict:
    body = {
        "type": PROBLEM_TYPE_BASE + slug if slug != "about:blank" else slug,
        "title": title,
        "status": status_code,
        "detail": detail,
    }
    body.update(extra)
    return body


def _messages(detail) -> list[str] | dict:
    if isinstance(detail, dict):
        return {field: _messages(value) for field, value in detail.items()}
    if isinstance(detail, list):
        flat: list[str] = []
        for item in detail:
            flat.extend(_messages(item) if isinstance(item, list) else [str(item)])
        return flat
    return [str(detail)]


def validation_problem(errors: dict) -> Problem:
    """400 naming each field's problems (``errors``), with the first one as the detail."""
    first = next((f"{field}: {msgs[0]}" for field, msgs in errors.items() if msgs), "")
    field, _, message = first.partition(": ")
    detail = message if field in ("__all__", "non_field_errors") else first
    return Problem(
        status.HTTP_400_BAD_REQUEST,
        "validation",
        "The request has errors",
        detail or "The request has errors.",
        errors=errors,
    )


def _django_validation(exc: DjangoValidationError) -> Problem:
    if hasattr(exc, "error_dict"):
        errors = {
            ("non_field_errors" if field == "__all__" else field): list(messages)
            for field, messages in exc.message_dict.items()
        }
    else:
        errors = {"non_field_errors": list(exc.messages)}
    return validation_problem(errors)


def problem_exception_handler(exc, context):
    """DRF's exception handler: every error becomes a problem-details response."""
    headers = {}
    if isinstance(exc, Http404):
        exc = Problem(404, "not-found", "Not found", str(exc) or "Nothing is here.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, ReviewClosed):
        exc = Problem(409, "review-closed", "The review is closed", exc.messages[0])
    elif isinstance(exc, FormalCaseChanged):
        exc = Problem(
            412,
            "changed",
            "The formal case has changed",
            str(exc) or "Someone else saved the review since you read it. Nothing was saved.",
        )
    elif isinstance(exc, DjangoValidationError):
        exc = _django_validation(exc)
    elif isinstance(exc, IllegalTransition):
        exc = Problem(
            409,
            "lifecycle",
            "Not allowed in the complaint's current status",
            str(exc),
            current_status=exc.current.value,
        )
    elif isinstance(exc, ComplaintChanged):
        exc = Problem(412, "changed", "The complaint has changed", str(exc))
    elif isinstance(exc, IntegrityError):
        logger.warning("clash on %s: %s", context["request"].path, exc)
        exc = Problem(
            409,
            "clash",
            "Saved by someone else at the same moment",
            "Another request saved the same thing at the same moment. Nothing of yours was "
            "saved: send the request again.",
        )
    if isinstance(exc, Problem):
        body = _body(exc.status_code, exc.slug, exc.title, str(exc.detail), **exc.extra)
    elif isinstance(exc, exceptions.ValidationError):
        messages = _messages(exc.detail)
        errors = messages if isinstance(messages, dict) else {"non_field_errors": messages}
        problem = validation_problem(errors)
        body = _body(400, problem.slug, problem.title, str(problem.detail), errors=errors)
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail if isinstance(exc.detail, str) else _messages(exc.detail)
        if isinstance(exc, exceptions.Throttled):
            detail = (
                f"Too many requests. Try again in {exc.wait:.0f} seconds."
                if exc.wait is not None
                else "Too many requests. Try again later."
            )
        if isinstance(exc, exceptions.NotAuthenticated):
            detail = "Send an API key: 'Authorization: Bearer rdk_...'."
        body = _body(exc.status_code, "about:blank", _title(exc.status_code), str(detail))
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None) is not None:
            headers["Retry-After"] = f"{int(exc.wait) + (exc.wait % 1 > 0)}"
    else:
        logger.exception("API error on %s", context["request"].path, exc_info=exc)
        body = _body(
            500,
            "about:blank",
            "Internal Server Error",
            "Something went wrong on our side and nothing was saved. It has been logged; "
            "try again, and tell us if it keeps happening.",
        )
    response = Response(body, status=body["status"], headers=headers, content_type=CONTENT_TYPE)
    return response


def _title(status_code: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"
