"""The project's URLs plus two bare views: the ceiling of Django and gunicorn on this machine.

/bench/ceiling/ answers "ok" without touching the session. /bench/ceiling/signed-in/ also
loads the signed-in user (the session row and the user row, as every signed-in page does),
so the difference between the two is what signing in costs before a page does any work.
"""

from django.http import HttpResponse
from django.urls import include, path


def signed_in(request):
    return HttpResponse(f"ok {request.user.pk}")


urlpatterns = [
    path("bench/ceiling/", lambda request: HttpResponse("ok")),
    path("bench/ceiling/signed-in/", signed_in),
    path("", include("config.urls")),
]
