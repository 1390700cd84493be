"""Feed readers use an item's <guid>/<id> to tell issues apart: it must be a full URL."""

from xml.etree import ElementTree

import pytest
from django.utils import timezone

from tests.factories import make_issue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def first_issue(newsletter):
    return make_issue(newsletter, slug="first", subject="First", sent_at=timezone.now())


def test_the_rss_guid_is_the_issues_absolute_permalink(client, newsletter):
    channel = ElementTree.fromstring(client.get("/weekly/feed/rss/").content).find("channel")  # noqa: S314
    item = channel.find("item")
    guid = item.find("guid")
    assert guid.text.startswith("http://testserver/")
    assert guid.get("isPermaLink", "true") == "true"
    assert guid.text == item.find("link").text


def test_the_atom_id_is_absolute(client, newsletter):
    atom = "{http://www.w3.org/2005/Atom}"
    feed = ElementTree.fromstring(client.get("/weekly/feed/atom/").content)  # noqa: S314
    assert feed.find(f"{atom}entry/{atom}id").text.startswith("http://testserver/")
