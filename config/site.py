"""The site's public address: every link that leaves the site (mails, feeds, the sitemap's
neighbours) is SITE_URL plus a path, built here."""

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
