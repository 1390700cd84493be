"""The admin refuses a reader's name that would break every mail to them."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from subscribers.models import Subscriber, Subscription

pytestmark = pytest.mark.django_db


class FormValues(HTMLParser):
    """The values a browser would post for the page's form (inputs, selects, textareas)."""

    def __init__(self):
        super().__init__()
        self.values, self._textarea, self._select = {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "checkbox", "file"):
            self.values[name] = attrs.get("value") or ""
        elif tag == "input" and name and attrs.get("type") == "checkbox" and "checked" in attrs:
            self.values[name] = attrs.get("value") or "on"
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""
        elif tag == "select" and name:
            self._select = name
            self.values[name] = ""
        elif tag == "option" and self._select and "selected" in attrs:
            self.values[self._select] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data


def change_view_post(admin_client, subscriber, **changes):
    url = reverse("admin:subscribers_subscriber_change", args=[subscriber.pk])
    parser = FormValues()
    parser.feed(admin_client.get(url).content.decode())
    return admin_client.post(url, {**parser.values, **changes})


@pytest.mark.parametrize(
    "name", ["Ada\r\nBcc: x@example.org", "Ada\nL", "Ada\x1bL", "Ada\u2028L", "Ada\x00L"]
)
def test_the_subscriber_change_view_refuses_a_name_with_control_characters(
    admin_client, make_subscription, name
):
    subscriber = make_subscription(status=Subscription.Status.CONFIRMED).subscriber
    Subscriber.objects.filter(pk=subscriber.pk).update(name="Ada")
    response = change_view_post(admin_client, subscriber, name=name)
    assert response.status_code == 200
    assert response.context_data["adminform"].form.errors["name"]
    subscriber.refresh_from_db()
    assert subscriber.name == "Ada"


def test_the_subscriber_change_view_still_saves_a_good_name(admin_client, make_subscription):
    subscriber = make_subscription(status=Subscription.Status.CONFIRMED).subscriber
    response = change_view_post(admin_client, subscriber, name="Zoë Ørsted")
    assert response.status_code == 302
    subscriber.refresh_from_db()
    assert subscriber.name == "Zoë Ørsted"
