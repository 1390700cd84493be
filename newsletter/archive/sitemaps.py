"""The sitemap: public newsletters and the issues in their archives."""

from django.contrib.sitemaps import Sitemap

from newsletter.models import Issue, Newsletter


class NewsletterSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.8

    def items(self):
        return Newsletter.objects.public().order_by("pk")


class IssueSitemap(Sitemap):
    changefreq = "monthly"
    priority = 0.6
    limit = 5000

    def items(self):
        return (
            Issue.objects.in_archive()
            .filter(newsletter__archive_public=True)
            .select_related("newsletter")
            .only("slug", "updated_at", "newsletter__slug")
            .order_by("pk")
        )

    def lastmod(self, item):
        return item.updated_at


SITEMAPS = {"newsletters": NewsletterSitemap, "issues": IssueSitemap}
