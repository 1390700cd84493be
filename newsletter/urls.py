from django.urls import path

from newsletter import views

app_name = "newsletter"

urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:slug>/", views.detail, name="detail"),
    path("<slug:slug>/<slug:issue_slug>/", views.issue, name="issue"),
]
