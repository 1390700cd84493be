# django-newsletter's own URLs (the peer package is also called newsletter).
from django.urls import include, path

urlpatterns = [path("newsletter/", include("newsletter.urls"))]
