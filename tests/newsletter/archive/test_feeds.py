"""RSS and Atom feeds and the sitemap of the public archive."""

from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.utils import timezone

from tests.factories import make_issue, make_newsletter

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def parse_xml(content):
    return ElementTree.fromstring(content)  # noqa: S314 - our own server's output


@pytest.fixture
def german_archive():
    """A German newsletter with two sent issues and a draft."""
    newsletter = make_newsletter(language="de", description="Notes of the week.")
    now = timezone.now()
    make_issue(newsletter, slug="older", subject="Older", sent_at=now - timedelta(days=7))
    make_issue(
        newsletter,
        slug="newer",
        subject="Newer for {{ name }}",
        body_markdown='Hello **{{ name | default: "all" }}**. ![c](/media/c.png)',
        sent_at=now,
    )
    make_issue(newsletter, sent=False, slug="draft", subject="Draft")
    return newsletter


def test_the_rss_feed_lists_archive_issues_newest_first(client, german_archive):
    response = client.get("/weekly/feed/rss/")

    assert response["Content-Type"].startswith("application/rss+xml")
    channel = parse_xml(response.content).find("channel")
    assert channel.findtext("title") == "Weekly Bits"
    assert channel.findtext("language") == "de"
    assert channel.findtext("link") == "http://testserver/weekly/"
    items = channel.findall("item")
    assert [item.findtext("title") for item in items] == ["Newer for", "Older"]
    assert items[0].findtext("link") == "http://testserver/weekly/newer/"
    description = items[0].findtext("description")
    assert "Hello <strong>all</strong>." in description
    assert 'src="http://testserver/media/c.png"' in description  # absolute for readers


def test_the_atom_feed_is_valid_and_complete(client, german_archive):
    response = client.get("/weekly/feed/atom/")

    assert response["Content-Type"].startswith("application/atom+xml")
    feed = parse_xml(response.content)
    assert feed.findtext(f"{ATOM}title") == "Weekly Bits"
    assert feed.findtext(f"{ATOM}subtitle") == "Notes of the week."
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 2
    assert entries[0].find(f"{ATOM}link").get("href") == "http://testserver/weekly/newer/"
    assert entries[0].findtext(f"{ATOM}updated")
    assert entries[0].findtext(f"{ATOM}published")


def test_a_private_archive_has_no_feed(client):
    make_newsletter(slug="private", archive_public=False)

    assert client.get("/private/feed/rss/").status_code == 404
    assert client.get("/private/feed/atom/").status_code == 404


def test_the_sitemap_lists_public_newsletters_and_their_issues(client, german_archive):
    private = make_newsletter(slug="private", archive_public=False)
    make_issue(private, slug="secret")

    response = client.get("/sitemap.xml")

    urls = {
        element.findtext(f"{SITEMAP}loc")
        for element in parse_xml(response.content).findall(f"{SITEMAP}url")
    }
    assert urls == {
        "http://testserver/weekly/",
        "http://testserver/weekly/newer/",
        "http://testserver/weekly/older/",
    }
