from django.contrib.sitemaps.views import sitemap
from django.urls import path

from newsletter.archive import feeds, views
from newsletter.archive.sitemaps import SITEMAPS

app_name = "newsletter"

urlpatterns = [
    path("", views.index, name="index"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("<slug:slug>/", views.detail, name="detail"),
    path("<slug:slug>/feed/rss/", feeds.IssuesRssFeed(), name="feed_rss"),
    path("<slug:slug>/feed/atom/", feeds.IssuesAtomFeed(), name="feed_atom"),
    path("<slug:slug>/<slug:issue_slug>/", views.issue, name="issue"),
]
