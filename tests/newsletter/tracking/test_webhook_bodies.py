"""Malformed webhook bodies answer 4xx, never 500, and change nothing (also property-based)."""

import json

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from newsletter.models import Delivery
from subscribers.models import Subscription, Suppression
from subscribers.suppression import email_hash
from tests.newsletter.tracking.webhook_helpers import (
    SECRET,
    basic_auth,
    payload,
    post,
    snapshot,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:django-anymail has dropped official support"),
]

# The providers whose webhooks take JSON, and whether their top level is an object.
PROVIDERS = {
    "postmark": "object",
    "brevo": "object",
    "resend": "object",
    "amazon_ses": "object",
    "mailjet": "either",
    "sendgrid": "list",
    "sparkpost": "list",
}
MALFORMED = [b"", b"not json", b"{", b'"a string"', b"42", b"null", b"true", b"\x00\xff\xfe"]
WRONG_SHAPES = [b"[1, 2]", b'["a"]', b"[[]]", b"[null]", b'{"a": 1}', b"{}"]


@pytest.fixture
def provider(settings, delivery, request):
    name = request.param
    settings.EMAIL_PROVIDER = name
    settings.EMAIL_BACKEND = f"anymail.backends.{name}.EmailBackend"
    return name


def post_raw(client, esp, body, content_type="application/json", auth=SECRET, method="post"):
    headers = {"HTTP_AUTHORIZATION": basic_auth(auth)} if auth else {}
    url = f"/webhooks/anymail/{esp}/tracking/"
    return client.generic(method.upper(), url, body, content_type=content_type, **headers)


@pytest.mark.parametrize("provider", sorted(PROVIDERS), indirect=True)
@pytest.mark.parametrize("body", MALFORMED)
def test_a_body_that_is_not_a_json_document_answers_400(client, provider, body):
    before = snapshot()
    response = post_raw(client, provider, body)
    assert 400 <= response.status_code < 500, response.content
    assert snapshot() == before


@pytest.mark.parametrize("provider", sorted(PROVIDERS), indirect=True)
@pytest.mark.parametrize("body", WRONG_SHAPES)
def test_json_of_the_wrong_shape_never_answers_500(client, provider, body):
    before = snapshot()
    response = post_raw(client, provider, body)
    assert response.status_code < 500, response.content
    if PROVIDERS[provider] == "object" and body.startswith(b"["):
        assert 400 <= response.status_code < 500
    assert snapshot() == before


@pytest.mark.parametrize("provider", ["postmark"], indirect=True)
@pytest.mark.parametrize(
    "field, value",
    [
        ("Metadata", "a string"),
        ("Metadata", ["a", "list"]),
        ("Metadata", {"delivery": ["x"]}),
        ("Metadata", {"delivery": 5}),
        ("MessageID", {"an": "object"}),
        ("MessageID", None),
        ("RecordType", 7),
        ("Type", ["HardBounce"]),
        ("BouncedAt", "yesterday"),
        ("ID", "\x00"),
        ("Email", None),
    ],
)
def test_a_postmark_event_with_odd_field_types_never_answers_500(
    client, provider, delivery, field, value
):
    data = payload("postmark-bounce.json", delivery, message_id="not-this-delivery")
    data[field] = value
    before = snapshot()
    response = post(client, data)
    assert response.status_code < 500, response.content
    assert snapshot() == before


def test_a_form_encoded_body_answers_400(client, delivery):
    before = snapshot()
    response = post_raw(
        client, "postmark", "a=1&b=2", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert snapshot() == before


# --- Property-based: whatever arrives, never a 500 and never a changed reader -------------

ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=300) | st.just("\x00" * 5)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=12,
)
POSTMARK_FIELDS = ["RecordType", "Type", "ID", "MessageID", "Metadata", "Email", "Details"]
FUZZ = hypothesis_settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(
    body=st.binary(max_size=2000) | JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    content_type=st.sampled_from(
        ["application/json", "text/plain", "application/x-www-form-urlencoded", "", "a/b; x=\x01"]
    ),
    method=st.sampled_from(["post", "post", "put", "get", "delete", "options", "head"]),
    auth=st.sampled_from([SECRET, None, "hook:wrong"]),
)
def test_arbitrary_requests_never_answer_500_or_change_anything(
    client, delivery, body, content_type, method, auth
):
    before = snapshot()
    response = post_raw(client, "postmark", body, content_type, auth=auth, method=method)
    assert response.status_code < 500, response.content
    assert snapshot() == before


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(POSTMARK_FIELDS), JSON_VALUES, max_size=4))
def test_a_postmark_event_with_arbitrary_values_is_applied_whole_or_not_at_all(
    client, delivery, changes
):
    data = payload("postmark-bounce.json", delivery)
    data.update(changes)
    with transaction.atomic():
        before = snapshot()
        response = post(client, data)
        assert response.status_code < 500, response.content
        assert_whole_or_nothing(before, delivery)
        transaction.set_rollback(True)


def assert_whole_or_nothing(before, delivery):
    """Either the delivery's own reader bounced completely, or nothing changed at all."""
    if snapshot() == before:
        event("nothing changed")
        return
    event("applied")
    bystander = Subscription.objects.get(subscriber__email="bystander@example.com")
    assert bystander.status == Subscription.Status.CONFIRMED
    reader = Subscription.objects.get(subscriber=delivery.subscriber)
    assert reader.status in (Subscription.Status.BOUNCED, Subscription.Status.COMPLAINED)
    assert Suppression.objects.filter(email_hash=email_hash(delivery.subscriber.email)).exists()
    assert Suppression.objects.count() == 1
    if reader.status == Subscription.Status.BOUNCED:
        assert Delivery.objects.get(pk=delivery.pk).status == "failed"
