"""The public pages of the subscribers app (namespace `subscribers`)."""

from django.urls import path, register_converter

from subscribers import views
from subscribers.tokens import StoredTokenConverter

register_converter(StoredTokenConverter, "token")
app_name = "subscribers"

urlpatterns = [
    path("embed/<slug:newsletter_slug>/subscribe/", views.embed_subscribe, name="embed_subscribe"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("u/<token:token>/", views.unsubscribe, name="unsubscribe"),
    path("preferences/erased/", views.erased, name="erased"),
    path("preferences/<token:token>/", views.preferences, name="preferences"),
    path(
        "preferences/<token:token>/unsubscribe-all/",
        views.preferences_unsubscribe_all,
        name="preferences_unsubscribe_all",
    ),
    path("preferences/<token:token>/export/", views.preferences_export, name="preferences_export"),
    path("preferences/<token:token>/erase/", views.preferences_erase, name="preferences_erase"),
    path("resend/", views.resend, name="resend"),
    path("<slug:newsletter_slug>/subscribe/", views.subscribe, name="subscribe"),
    path("<slug:newsletter_slug>/subscribe/thanks/", views.subscribe_done, name="subscribe_done"),
]
