"""Benchmark-only URLs: Rundbrief's own, plus a trivial view as the throughput ceiling.

The trivial view runs through the same middleware on the same gunicorn server and does
no database or template work, so a page's ratio to it is the cost of the page itself.
It lives here, never in config/urls.py.
"""

from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as rundbrief_urlpatterns


def trivial(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/trivial/", trivial), *rundbrief_urlpatterns]
