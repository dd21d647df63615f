"""The project's URLs plus a bare view: the ceiling of Django and gunicorn on this machine."""

from django.http import HttpResponse
from django.urls import include, path

urlpatterns = [
    path("bench/ceiling/", lambda request: HttpResponse("ok")),
    path("", include("config.urls")),
]
