"""Image URLs that climb out of the site's own media or static folder with "..".

Refused at save with a message naming the URL; the preview and the send never raise;
no message shown or stored names a folder on the server.
"""

import pytest
from django.conf import settings
from django.urls import reverse

from newsletter import sending
from newsletter.models import Delivery, Issue
from newsletter.rendering.images import CONTENT_WIDTH, natural_size, size_images
from tests.factories import make_issue, make_newsletter, make_readers
from tests.newsletter.sending.send_helpers import drain

pytestmark = pytest.mark.django_db
SITE = "https://news.example.org"
CLIMBING = [
    f"{SITE}/media/../../../../etc/passwd",
    f"{SITE}/media/uploads/%2e%2e/%2E%2E/settings.py",
    f"{SITE}/static/../config/settings.py",
    f"{SITE}/static/css/..%2f..%2f..%2fREADME.md",
    f"{SITE}/media/..%5C..%5Cetc%5Chosts",
    "/media/../../etc/passwd",
]


@pytest.fixture(autouse=True)
def site(settings, tmp_path):
    settings.SITE_URL = SITE
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "media").mkdir()
    return settings


def server_paths():
    return [str(settings.MEDIA_ROOT), str(settings.BASE_DIR), str(settings.STATIC_ROOT)]


def assert_no_server_path(text):
    for path in server_paths():
        assert path not in text, f"{path} shown in {text[:300]!r}"


def body_with(url):
    return f"Look:\n\n![A map]({url})\n"


@pytest.mark.parametrize("url", CLIMBING)
def test_the_width_lookup_does_not_follow_a_climbing_url(url):
    assert natural_size(url) is None
    assert f'width="{CONTENT_WIDTH}"' in size_images(f'<img alt="x" src="{url}">')


@pytest.mark.parametrize("url", CLIMBING)
def test_the_admin_refuses_a_climbing_image_url_at_save_and_names_it(admin_client, url):
    newsletter = make_newsletter()
    response = admin_client.post(
        reverse("admin:newsletter_issue_add"),
        {
            "newsletter": newsletter.pk,
            "subject": "Maps",
            "preview_text": "",
            "slug": "maps",
            "body_markdown": body_with(url),
            "show_in_archive": "on",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200  # the form again, with the error
    assert not Issue.objects.exists()
    assert "leaves the site’s media or static folder" in page
    assert (SITE + url if url.startswith("/") else url).split("/")[-1] in page
    assert_no_server_path(page)


def test_a_plain_upload_url_is_still_accepted():
    issue = make_issue(
        make_newsletter(), sent=False, body_markdown=body_with(f"{SITE}/media/a.png")
    )
    issue.full_clean()


@pytest.mark.parametrize("url", CLIMBING[:3])
def test_the_preview_explains_a_climbing_url_without_server_paths(admin_client, url):
    newsletter = make_newsletter()
    response = admin_client.post(
        reverse("admin:newsletter_issue_preview"),
        {"newsletter": newsletter.pk, "subject": "Maps", "body_markdown": body_with(url)},
    )
    assert response.status_code == 400
    errors = response.json()["errors"]["body_markdown"]
    assert "leaves the site’s media or static folder" in errors[0]["message"]
    assert_no_server_path(response.content.decode())


@pytest.mark.parametrize("url", CLIMBING[:4])
def test_an_issue_stored_before_the_check_is_sent_without_an_error(url):
    newsletter = make_newsletter()
    make_readers(newsletter, 2)
    issue = make_issue(newsletter, sent=False, body_markdown=body_with(url))
    sending.start_send(issue=issue)
    drain(issue)
    deliveries = list(Delivery.objects.filter(issue=issue))
    assert [d.status for d in deliveries] == [Delivery.Status.SENT] * 2, [
        d.error for d in deliveries
    ]
    for delivery in deliveries:
        assert_no_server_path(delivery.error)
