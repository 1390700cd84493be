"""Odd input in public URLs: a clear 400 or 404, never a server error."""

import pytest
from django.urls import reverse

from newsletter.rendering import Recipient, render_issue
from tests.factories import build_issue, make_issue, make_newsletter

pytestmark = pytest.mark.django_db

NUL = "%00"
TOKEN_PATHS = [
    ("get", "/confirm/{token}/"),
    ("post", "/confirm/{token}/"),
    ("get", "/u/{token}/"),
    ("post", "/u/{token}/"),
    ("get", "/preferences/{token}/"),
    ("post", "/preferences/{token}/"),
    ("post", "/preferences/{token}/unsubscribe-all/"),
    ("post", "/preferences/{token}/export/"),
    ("get", "/preferences/{token}/erase/"),
    ("post", "/preferences/{token}/erase/"),
]


@pytest.mark.parametrize("token", [NUL, f"abc{NUL}def", "a%00" * 50, "%C2%B2", "x" * 5000])
@pytest.mark.parametrize(("method", "template"), TOKEN_PATHS)
def test_a_token_url_with_odd_characters_is_refused_without_an_error(
    client, method, template, token
):
    response = getattr(client, method)(template.format(token=token))
    # 405: a path no token can match may fall to an archive page, which only answers GET.
    assert response.status_code in (400, 404, 405, 410), response.status_code


def test_a_one_click_post_with_a_nul_token_is_a_404(client):
    response = client.post(f"/u/{NUL}/", {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 404


PAGE_VALUES = ["²", "١", "-1", "0", "", " 1", "1.0", "abc", str(10**100), "9" * 5000, "1\x00"]


@pytest.mark.parametrize("value", PAGE_VALUES)
def test_an_odd_archive_page_number_is_a_404_not_an_error(client, value):
    newsletter = make_newsletter()
    make_issue(newsletter)
    response = client.get(newsletter.get_absolute_url(), {"page": value})
    assert response.status_code == 404, response.status_code


@pytest.mark.parametrize("value", ["²", "9" * 5000, "abc"])
def test_the_index_ignores_a_page_parameter(client, value):
    make_newsletter()
    assert client.get(reverse("newsletter:index"), {"page": value}).status_code == 200


@pytest.mark.parametrize("value", ["²", "9" * 5000, "abc", "-1", str(10**100)])
def test_the_sitemap_answers_an_odd_page_with_a_404(client, value):
    make_issue(make_newsletter())
    assert client.get(reverse("newsletter:sitemap"), {"p": value}).status_code == 404


def test_the_second_page_of_a_long_archive_still_works(client):
    newsletter = make_newsletter()
    for number in range(21):
        make_issue(newsletter, slug=f"issue-{number}", subject=f"Issue {number}")
    response = client.get(newsletter.get_absolute_url(), {"page": "2"})
    assert response.status_code == 200
    assert "Issue 0" in response.content.decode()


@pytest.mark.parametrize("newsletter", ["\x00", "garden\x00", "x" * 5000])
def test_resend_with_an_odd_newsletter_is_a_form_error(client, newsletter):
    make_newsletter(slug="garden")
    response = client.post("/resend/", {"email": "a@example.org", "newsletter": newsletter})
    assert response.status_code == 200
    assert response.context["form"].errors["newsletter"]


@pytest.mark.parametrize("start", ["²", "١٢", "9" * 5000, "-3", ""])
def test_an_odd_list_start_in_an_issue_is_rendered_not_an_error(start):
    issue = build_issue(body_markdown=f'<ol start="{start}"><li>One</li></ol>')
    _subject, _html, text = render_issue(issue).personalise(Recipient(email="a@example.org"))
    assert "One" in text


@pytest.mark.parametrize("path", ["/{long}/", "/weekly/{long}/", "/{long}/first-issue/"])
def test_a_slug_longer_than_any_stored_one_is_a_404(client, path):
    make_issue(make_newsletter())
    assert client.get(path.format(long="x" * 300)).status_code == 404


@pytest.mark.parametrize("choice", ["9" * 1000, str(2**63), "²", "-1", "1\x00"])
def test_preferences_with_an_impossible_newsletter_id_are_a_form_error(client, choice):
    from subscribers.models import Subscriber, Subscription

    newsletter = make_newsletter()
    subscriber = Subscriber.objects.create(email="reader@example.org", name="Ada")
    Subscription.objects.create(
        subscriber=subscriber, newsletter=newsletter, status="confirmed", source="form"
    )
    response = client.post(
        f"/preferences/{subscriber.token}/", {"name": "Bob", "newsletters": [choice]}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["newsletters"]
    subscriber.refresh_from_db()
    assert subscriber.name == "Ada"
