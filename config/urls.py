from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.utils.functional import lazy
from django.views.generic import RedirectView
from django.views.static import serve

from config import views
from newsletter.tracking import webhooks
from outbox.views import outbox_list_view, outbox_message_view

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    # Browsers ask every site for /favicon.ico, whatever the pages link. Lazy: the static
    # manifest is read on the first request, not when the URLs are imported.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("img/favicon.svg"))),
    path("admin/outbox/", outbox_list_view, name="outbox-list"),
    path("admin/outbox/<str:name>", outbox_message_view, name="outbox-message"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # Provider webhooks (bounces, complaints), the configured provider's only.
    path("webhooks/anymail/<str:esp>/tracking/", webhooks.tracking_webhook, name="webhook"),
    path("", include("subscribers.urls")),
    path("", include("newsletter.archive.urls")),
]
if not settings.AWS_STORAGE_BUCKET_NAME:
    # Uploaded images in local media storage (S3-compatible storage serves its own).
    # Put a reverse proxy in front for large sites; this keeps `docker compose up` whole.
    urlpatterns.insert(
        0, re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})
    )
