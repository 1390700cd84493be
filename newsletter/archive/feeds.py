"""RSS 2.0 and Atom feeds of a newsletter's public archive."""

from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import translation
from django.utils.feedgenerator import Atom1Feed

from newsletter.models import Issue, Newsletter
from newsletter.rendering import render_subject_for_web, render_web

FEED_LENGTH = 20


class IssuesRssFeed(Feed):
    def get_object(self, request, slug):
        return get_object_or_404(Newsletter.objects.public(), slug=slug)

    def get_feed(self, obj, request):
        with translation.override(obj.language):
            return super().get_feed(obj, request)

    def title(self, obj):
        return obj.name

    def link(self, obj):
        return obj.get_absolute_url()

    def description(self, obj):
        return obj.description or obj.name

    def feed_url(self, obj):
        return reverse("newsletter:feed_rss", kwargs={"slug": obj.slug})

    def items(self, obj):
        issues = Issue.objects.in_archive().filter(newsletter=obj).select_related("newsletter")
        return issues[:FEED_LENGTH]

    def item_title(self, item):
        return render_subject_for_web(item)

    def item_description(self, item):
        return render_web(item)

    def item_link(self, item):
        # Without an item_guid, Django uses this link made absolute as the <guid> (RSS,
        # a permalink) and <id> (Atom): a relative one means nothing to a feed reader.
        return item.get_absolute_url()

    def item_pubdate(self, item):
        return item.sent_at

    def item_updateddate(self, item):
        return item.updated_at


class IssuesAtomFeed(IssuesRssFeed):
    feed_type = Atom1Feed

    def subtitle(self, obj):
        return obj.description

    def feed_url(self, obj):
        return reverse("newsletter:feed_atom", kwargs={"slug": obj.slug})
