"""The project's URLs plus two bare views: the ceiling of Django and gunicorn on this machine.

/bench/ceiling/ answers "ok" without touching the session. /bench/ceiling/signed-in/ also
loads the signed-in user (the session row and the user row, as every signed-in page does),
so the difference between the two is what signing in costs before a page does any work.
/bench/api-ceiling/ is the same for the API: a DRF view behind its key authentication.
"""

from django.http import HttpResponse
from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView


def signed_in(request):
    return HttpResponse(f"ok {request.user.pk}")


class ApiCeiling(APIView):
    """A bare DRF view with the API's own key authentication, scope check and rate limits."""

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("bench/api-ceiling/", ApiCeiling.as_view()),
    path("bench/ceiling/", lambda request: HttpResponse("ok")),
    path("bench/ceiling/signed-in/", signed_in),
    path("", include("config.urls")),
]
