"""The site's public address: the links in mails and the absolute URLs on pages (canonical
links, robots.txt) are SITE_URL plus a path, built here. Feeds and the sitemap take their
host from the request, as Django's syndication and sitemaps do."""

from django.conf import settings
from django.urls import reverse


def absolute_url(url):
    """A path under SITE_URL; a URL that already names its host is kept as it is."""
    if url.startswith(("http://", "https://")):
        return url
    return settings.SITE_URL + url


def absolute_reverse(name, **kwargs):
    """The named route's full URL."""
    return absolute_url(reverse(name, kwargs=kwargs or None))
