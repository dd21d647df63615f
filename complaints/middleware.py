"""The last line of defence between a database clash and a person: never a raw error page."""

from __future__ import annotations

import logging

from django.db import IntegrityError
from django.template.response import TemplateResponse

logger = logging.getLogger("redress.clash")


class IntegrityErrorMiddleware:
    """Turn an IntegrityError that reached a view's caller into a clear 409 page.

    The services check what a person can get wrong (a reference already taken, an email
    already registered) and say so on the form. What is left is two people saving the same
    thing at the same moment: the losing request's transaction has been rolled back, so
    nothing it sent was half-saved, and the person is told to go back and send it again
    (their browser still holds what they typed). The error is logged for staff.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, IntegrityError):
            return None
        logger.warning("clash on %s %s: %s", request.method, request.path, exception)
        response = TemplateResponse(request, "409.html", status=409)
        return response.render()
