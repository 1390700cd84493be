"""The admin is branded as Rundbrief, and every page (admin and public) has a favicon."""

import pytest
from django.urls import reverse

from tests.factories import make_newsletter

pytestmark = pytest.mark.django_db


def test_the_admin_is_branded_as_rundbrief(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()

    assert "<title>Rundbrief | Rundbrief</title>" in page
    assert '<a href="/admin/">Rundbrief</a>' in page
    assert "Django administration" not in page and "Django site admin" not in page


def test_admin_and_public_pages_link_the_favicon(admin_client, client):
    newsletter = make_newsletter()
    for page in (
        admin_client.get(reverse("admin:index")),
        client.get(reverse("admin:login")),
        client.get(newsletter.get_absolute_url()),
    ):
        assert 'rel="icon" href="/static/img/favicon.svg"' in page.content.decode()


def test_favicon_ico_is_answered(client):
    response = client.get("/favicon.ico")

    assert response.status_code in (200, 301, 302)
    if response.status_code != 200:
        assert response["Location"].endswith("/static/img/favicon.svg")


def test_the_index_puts_recent_actions_under_the_app_list(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()

    assert 'class="rb-index"' in page
    assert page.index('id="content-main"') < page.index('id="content-related"')
