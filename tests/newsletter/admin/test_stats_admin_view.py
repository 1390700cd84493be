"""The statistics page in the admin: who may see it, what it shows, what it costs."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from subscribers.models import Event
from tests.factories import event, make_newsletter, make_reader, make_send, populate

pytestmark = pytest.mark.django_db


def stats_url(newsletter):
    return reverse("admin:newsletter_newsletter_statistics", args=[newsletter.pk])


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def author():
    return get_user_model().objects.create_superuser("author", "author@example.org", "pw-123456")


@pytest.fixture
def author_client(author):
    return client_for(author)


def staff(name, *permissions):
    user = get_user_model().objects.create_user(name, f"{name}@example.org", "pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=permissions))
    return user


def test_anonymous_visitors_are_sent_to_the_admin_login(client):
    response = client.get(stats_url(make_newsletter()))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_a_logged_in_reader_who_is_not_staff_is_sent_to_the_login(client):
    user = get_user_model().objects.create_user("reader", "reader@example.org", "pw")

    response = client_for(user).get(stats_url(make_newsletter()))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_without_permission_to_view_newsletters_is_refused():
    response = client_for(staff("intern")).get(stats_url(make_newsletter()))

    assert response.status_code == 403


def test_staff_who_may_view_newsletters_sees_the_page():
    response = client_for(staff("editor", "view_newsletter")).get(stats_url(make_newsletter()))

    assert response.status_code == 200


def test_an_unknown_newsletter_is_a_404(author_client):
    url = reverse("admin:newsletter_newsletter_statistics", args=[999999])

    assert author_client.get(url).status_code == 404


def test_an_empty_newsletter_shows_a_friendly_empty_state(author_client):
    newsletter = make_newsletter()

    response = author_client.get(stats_url(newsletter))
    page = response.content.decode()

    assert response.status_code == 200
    assert "Nothing to show yet" in page
    assert 'href="/weekly/subscribe/"' in page  # the way to find readers
    assert "rb-chart" not in page
    assert "rb-empty" in page


def test_the_page_shows_the_numbers_and_a_bar_per_active_week(author_client):
    newsletter = make_newsletter()
    now = timezone.now()
    for index in range(3):
        make_reader(f"c{index}@example.org", newsletter)
    make_reader("p@example.org", newsletter, status="pending")
    event(newsletter, Event.Kind.CONFIRMED, now - timedelta(weeks=3))
    event(newsletter, Event.Kind.CONFIRMED, now - timedelta(weeks=3))
    event(newsletter, Event.Kind.CONFIRMED, now)
    event(newsletter, Event.Kind.UNSUBSCRIBED, now, reason=Event.Reason.ONE_CLICK)

    response = author_client.get(stats_url(newsletter))
    page = response.content.decode()

    assert response.status_code == 200
    cards = dict(re.findall(r"<dt>(.*?)</dt><dd[^>]*>(.*?)</dd>", page))
    assert cards["Confirmed readers"] == "3"
    assert cards["Gained in 26 weeks"] == "+3"
    assert cards["Lost in 26 weeks"] == "−1"
    assert cards["Waiting for confirmation"] == "1"
    assert page.count('class="rb-bar rb-bar-gained"') == 2  # two weeks with readers gained
    assert page.count('class="rb-bar rb-bar-lost"') == 1 + 1  # one week; one reason bar
    assert "One-click unsubscribe" in page
    assert "Nothing to show yet" not in page


def test_the_page_lists_each_send_with_a_link_to_the_issue(author_client):
    newsletter = make_newsletter()
    ann = make_reader("ann@example.org", newsletter)
    at = timezone.now() - timedelta(days=3)
    issue = make_send(newsletter, "Spring news", at, [(ann, "sent", at)])

    page = author_client.get(stats_url(newsletter)).content.decode()

    assert reverse("admin:newsletter_issue_change", args=[issue.pk]) in page
    assert "Spring news" in page
    assert page.count('class="rb-seg-sent"') == 1


def test_the_page_uses_no_inline_style_and_loads_its_stylesheet(author_client):
    newsletter = make_newsletter()
    populate(newsletter, readers=10, issues=2, start=timezone.now() - timedelta(weeks=10))

    response = author_client.get(stats_url(newsletter))
    content = response.content.decode().split('id="content-main"')[1]

    assert "style=" not in content
    assert "<style" not in content
    assert "/static/css/stats.css" in response.content.decode()
    assert "style-src 'self'" in response["Content-Security-Policy"]


def test_the_change_page_has_a_statistics_button(author_client):
    newsletter = make_newsletter()

    page = author_client.get(reverse("admin:newsletter_newsletter_change", args=[newsletter.pk]))

    assert f'href="{stats_url(newsletter)}"' in page.content.decode()


def test_the_list_of_newsletters_links_each_to_its_statistics(author_client):
    first, second = make_newsletter(), make_newsletter(slug="second", name="Second")

    page = author_client.get(reverse("admin:newsletter_newsletter_changelist")).content.decode()

    assert f'href="{stats_url(first)}"' in page
    assert f'href="{stats_url(second)}"' in page


def queries_for_page(client, newsletter):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(stats_url(newsletter)).status_code == 200
    return len(queries)


def test_the_page_costs_the_same_queries_for_a_small_and_a_large_newsletter(
    author_client, django_assert_max_num_queries
):
    small, large = make_newsletter(slug="small"), make_newsletter(slug="large", name="Large")
    start = timezone.now() - timedelta(weeks=20)
    populate(small, readers=2, issues=1, start=start)
    populate(large, readers=150, issues=12, start=start)
    queries_for_page(author_client, small)  # warm up the session and content types

    with django_assert_max_num_queries(12):
        author_client.get(stats_url(small))
    with django_assert_max_num_queries(12):
        author_client.get(stats_url(large))
    assert queries_for_page(author_client, small) == queries_for_page(author_client, large)
