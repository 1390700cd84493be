"""The XSS corpus in every author field, put in through the admin forms: every public
page, feed, the preview and the mails show it as text or drop it, never as markup that
runs. (tests/security/test_author_fields_xss_browser.py loads the same pages in Chromium.)
"""

import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from newsletter.rendering import Recipient, render_issue
from subscribers import emails
from subscribers.models import Subscriber, Subscription
from tests.factories import make_newsletter
from tests.security.author_xss import BODY_ISSUES, corpus_site, executable_parts

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus(admin_client):
    return corpus_site(admin_client, make_newsletter())


def local_name(element):
    return element.tag.rsplit("}", 1)[-1]


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_the_public_pages_show_the_corpus_as_text(client, corpus):
    newsletter, issues = corpus
    urls = ["/", newsletter.get_absolute_url(), newsletter.get_absolute_url() + "?page=2"]
    urls += [reverse("subscribers:subscribe", kwargs={"newsletter_slug": newsletter.slug})]
    urls += [issue.get_absolute_url() for issue in issues[: BODY_ISSUES + 1]]
    for url in urls:
        assert executable_parts(page(client, url)) == [], url


def test_the_feeds_carry_the_corpus_only_as_harmless_html(client, corpus):
    newsletter, _issues = corpus
    for name in ("feed_rss", "feed_atom"):
        feed = page(client, reverse(f"newsletter:{name}", kwargs={"slug": newsletter.slug}))
        root = ET.fromstring(feed)  # noqa: S314 - well-formed, whatever the subjects hold
        # The HTML of each item; titles and the channel's description are plain text.
        html_parts = [
            element.text or ""
            for item in root.iter()
            if local_name(item) in ("item", "entry")
            for element in item
            if local_name(element) in ("description", "summary", "content")
        ]
        assert html_parts
        for text in html_parts:
            assert executable_parts(text) == [], text[:200]


def test_the_preview_and_the_mails_show_the_corpus_as_text(admin_client, corpus):
    newsletter, issues = corpus
    reader = Recipient(email="reader@example.org", name="<script>alert(1)</script>")
    for issue in issues[:BODY_ISSUES]:
        subject, mail_html, _text = render_issue(issue).personalise(reader)
        assert executable_parts(mail_html) == [], issue.slug
        assert "\n" not in subject
        response = admin_client.post(
            reverse("admin:newsletter_issue_preview"),
            {
                "newsletter": newsletter.pk,
                "subject": issue.subject,
                "preview_text": issue.preview_text,
                "body_markdown": issue.body_markdown,
                "object_id": issue.pk,
            },
        )
        assert response.status_code == 200, response.content[:300]
        frame = admin_client.get(response.json()["html_url"])
        assert executable_parts(frame.content.decode()) == []
        assert "sandbox" in frame["Content-Security-Policy"]


def test_the_welcome_mail_shows_the_corpus_as_text(corpus):
    newsletter, _issues = corpus
    subscriber = Subscriber.objects.create(email="new@example.org", name="<b onclick=x>N</b>")
    subscription = Subscription.objects.create(
        subscriber=subscriber, newsletter=newsletter, status="confirmed", source="form"
    )
    welcome = emails.welcome_message(subscription)
    html = next(body for body, kind in welcome.alternatives if kind == "text/html")
    assert executable_parts(html) == []
    assert "\n" not in welcome.subject
