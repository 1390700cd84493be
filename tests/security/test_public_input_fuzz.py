"""Every public form and URL, fed arbitrary input by hypothesis.

Arbitrary Unicode, control characters, NUL, very long values, wrong methods, wrong
content types and odd headers: the answer is never a server error and never shows a
folder of the server; no existing reader changes, and nothing is left half-written (a
subscriber without a subscription, a subscription without its event).

The examples are few (FUZZ below) so that the module runs in about a minute; a failure
prints the smallest input hypothesis found, which then becomes a plain test in
tests/security/test_odd_input.py.
"""

import json
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from newsletter.models import Newsletter
from subscribers.models import Event, Subscriber, Subscription, Suppression
from subscribers.tokens import confirmation_token
from tests.factories import make_issue

pytestmark = pytest.mark.django_db

FUZZ = hypothesis_settings(
    max_examples=250,
    deadline=None,
    database=None,  # no example store in the working tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- what arbitrary input looks like ----------------------------------------------------
ODD_CHARACTERS = (
    "\x00\x01\x08\x0b\x1b\x1f\x7f\x85\u200b\u202e\u2028\ufeff\ufffd²١%./\\'\"<>&;:@#?+= \t\r\n"
)
unicode_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
odd_text = st.text(st.sampled_from(ODD_CHARACTERS), max_size=30)
long_text = st.builds(
    lambda piece, times: piece * times,
    st.sampled_from(["a", "\x00", "ü", "9", "%", "<b>", "a@b.de,"]),
    st.integers(1_000, 30_000),
)
digits = st.one_of(
    st.text(st.sampled_from("0123456789²³¹١٢۳߀-+. "), min_size=1, max_size=8),
    st.integers(4_000, 6_000).map(lambda length: "9" * length),  # int() stops at 4,300
)
plausible = st.sampled_from(["on", "One-Click", "garden", "kitchen", "1", "true", "de", "/"])
anything = st.one_of(unicode_text, odd_text, long_text, st.emails(), digits, plausible)
METHODS = ["GET", "POST", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND"]
CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    MULTIPART_CONTENT,
    "multipart/form-data",  # without a boundary
    "multipart/form-data; boundary=nothing-like-this",
    "application/json",
    "text/plain",
    "application/x-www-form-urlencoded; charset=no-such-charset",
    "application/x-www-form-urlencoded; charset=utf-16",
    "",
]
FIELD_NAMES = [
    "email", "name", "consent", "website", "started", "newsletter", "newsletters", "sure",
    "List-Unsubscribe", "csrfmiddlewaretoken", "language", "next",
]  # fmt: skip
form_data = st.dictionaries(
    st.one_of(st.sampled_from(FIELD_NAMES), unicode_text),
    st.one_of(anything, st.lists(anything, max_size=3)),
    max_size=6,
)


def encoded(data, content_type):
    """The request body for data in content_type (or something that only claims to be)."""
    if content_type == MULTIPART_CONTENT:
        return encode_multipart(BOUNDARY, {key: value for key, value in data.items() if key})
    if content_type == "application/json":
        return json.dumps(data)
    return urlencode(data, doseq=True)


# --- the site and its readers -----------------------------------------------------------
@pytest.fixture
def site(db):
    """Two newsletters with an archive, and a confirmed, a pending and an unsubscribed reader."""
    garden = Newsletter.objects.create(
        name="Garden Notes", slug="garden", from_name="Garden", from_email="garden@example.org"
    )
    Newsletter.objects.create(
        name="Kitchen", slug="kitchen", from_name="Kitchen", from_email="kitchen@example.org"
    )
    make_issue(garden, slug="first", subject="First issue")
    readers = {}
    for status in ("confirmed", "pending", "unsubscribed"):
        subscriber = Subscriber.objects.create(email=f"{status}@example.org", name=status)
        readers[status] = Subscription.objects.create(
            subscriber=subscriber, newsletter=garden, status=status, source="form"
        )
        Event.objects.create(subscriber=subscriber, newsletter=garden, kind="subscribed")
    Suppression.objects.create(email_hash="0" * 64, reason="bounced")
    return readers


MODELS = (Subscriber, Subscription, Event, Suppression)


def snapshot():
    """Every row of the readers' tables, as text (JSON fields are not hashable)."""
    return {model.__name__: {repr(row) for row in model.objects.values_list()} for model in MODELS}


def assert_readers_unchanged(before):
    after = snapshot()
    for name, rows in before.items():
        missing = rows - after[name]
        assert not missing, f"{name} rows changed or vanished: {sorted(missing)[:3]}"
    assert_nothing_half_written()


def assert_nothing_half_written():
    assert not Subscriber.objects.filter(subscriptions__isnull=True).exists()
    for subscription in Subscription.objects.all():
        assert Event.objects.filter(
            subscriber_id=subscription.subscriber_id, newsletter_id=subscription.newsletter_id
        ).exists(), "a subscription without its event"


def assert_answered(response):
    assert response.status_code < 500, response.status_code
    body = b"".join(response.streaming_content) if response.streaming else response.content
    for folder in (settings.BASE_DIR, settings.MEDIA_ROOT):
        assert str(folder).encode() not in body, "the answer names a folder of the server"


def fake_token(site, part):
    """Mostly arbitrary text; sometimes a real token with something added or cut."""
    reals = {token for s in site.values() for token in (s.token, s.subscriber.token)}
    fakes = {part}
    for real in reals:
        fakes |= {real + part, real[:-1] + part, part + real}
    return st.sampled_from(sorted(fakes - reals))


def as_wsgi(header_value):
    """A header as a WSGI server hands it over: its bytes read as Latin-1 (PEP 3333)."""
    return header_value.replace("\x00", "").encode().decode("latin-1")


def request(client, method, path, **extra):
    cache.clear()  # rate limits would otherwise answer 429 before the form is read
    return client.generic(method, path, **extra)


# --- URLs -------------------------------------------------------------------------------
PATHS = [
    "/{part}/", "/garden/{part}/", "/{part}/subscribe/", "/embed/{part}/subscribe/",
    "/confirm/{part}/", "/u/{part}/", "/preferences/{part}/",
    "/preferences/{part}/unsubscribe-all/", "/preferences/{part}/export/",
    "/preferences/{part}/erase/", "/{part}/feed/rss/", "/{part}/feed/atom/",
    "/garden/{part}/feed/", "/resend/{part}", "/sitemap.xml{part}", "/robots.txt{part}",
]  # fmt: skip


@FUZZ
@given(data=st.data(), template=st.sampled_from(PATHS), method=st.sampled_from(METHODS))
def test_any_text_in_any_part_of_a_url_is_answered_and_changes_nobody(
    client, site, data, template, method
):
    before = snapshot()
    part = data.draw(anything)
    if "{part}/" in template and data.draw(st.booleans()):
        part = data.draw(fake_token(site, part))
    response = request(client, method, template.format(part=quote(part, safe="")))
    assert_answered(response)
    assert_readers_unchanged(before)


QUERY_PATHS = [
    "/", "/garden/", "/garden/first/", "/garden/feed/rss/", "/garden/feed/atom/",
    "/sitemap.xml", "/robots.txt", "/resend/", "/garden/subscribe/", "/garden/subscribe/thanks/",
    "/preferences/erased/", "/healthz",
]  # fmt: skip
query = st.dictionaries(
    st.one_of(st.sampled_from(["page", "p", "newsletter", "saved", "next"]), unicode_text),
    st.one_of(anything, st.integers().map(str), st.just(str(10**100))),
    max_size=4,
)


@FUZZ
@given(path=st.sampled_from(QUERY_PATHS), params=query, method=st.sampled_from(METHODS))
def test_any_query_string_on_a_public_page_is_answered(client, site, path, params, method):
    before = snapshot()
    response = request(client, method, f"{path}?{urlencode(params)}")
    assert_answered(response)
    assert_readers_unchanged(before)


@FUZZ
@given(
    value=st.one_of(anything, digits, digits, st.integers().map(str)),
    path=st.sampled_from(["/garden/?page=", "/?page=", "/sitemap.xml?p="]),
)
def test_any_page_number_is_answered(client, site, value, path):
    assert_answered(request(client, "GET", path + quote(value, safe="")))


# --- forms ------------------------------------------------------------------------------
FORMS = [
    "/garden/subscribe/", "/embed/garden/subscribe/", "/resend/", "/i18n/setlang/",
    "/confirm/{fake}/", "/u/{fake}/", "/preferences/{fake}/", "/preferences/{fake}/erase/",
    "/preferences/{fake}/export/", "/preferences/{fake}/unsubscribe-all/",
]  # fmt: skip


@FUZZ
@given(
    data=st.data(),
    path=st.sampled_from(FORMS),
    fields=form_data,
    content_type=st.sampled_from(CONTENT_TYPES),
    method=st.sampled_from(["POST", "POST", "POST", "PUT", "PATCH", "DELETE"]),
)
def test_any_form_body_is_answered_and_changes_no_reader(
    client, site, data, path, fields, content_type, method
):
    before = snapshot()
    path = path.format(fake=quote(data.draw(fake_token(site, data.draw(anything))), safe=""))
    body = data.draw(st.one_of(st.just(encoded(fields, content_type)), st.binary(max_size=300)))
    response = request(client, method, path, data=body, content_type=content_type)
    assert_answered(response)
    assert_readers_unchanged(before)


@FUZZ
@given(fields=form_data, content_type=st.sampled_from(CONTENT_TYPES))
def test_a_signup_with_any_fields_is_answered_and_writes_whole_rows(
    client, site, fields, content_type
):
    """A valid address may become a new pending reader; nothing else may happen."""
    before = snapshot()
    for path in ("/garden/subscribe/", "/embed/garden/subscribe/"):
        response = request(
            client, "POST", path, data=encoded(fields, content_type), content_type=content_type
        )
        assert_answered(response)
    assert_readers_unchanged(before)


@FUZZ
@given(
    name=anything,
    newsletters=st.lists(st.one_of(anything, st.integers().map(str)), max_size=3),
    which=st.sampled_from(["confirmed", "pending", "unsubscribed"]),
)
def test_the_preferences_of_a_real_reader_take_any_input_without_harm(
    client, site, name, newsletters, which
):
    """Saving may change this reader's own name and choices; never anyone else's."""
    subscriber = site[which].subscriber
    others = {
        status: subscription.subscriber.name
        for status, subscription in site.items()
        if status != which
    }
    data = {"name": name, "newsletters": newsletters}
    response = request(
        client,
        "POST",
        f"/preferences/{subscriber.token}/",
        data=urlencode(data, doseq=True),
        content_type="application/x-www-form-urlencoded",
    )
    assert_answered(response)
    subscriber.refresh_from_db()
    assert "\x00" not in subscriber.name and len(subscriber.name) <= 200
    for status, old_name in others.items():
        assert Subscriber.objects.get(email=f"{status}@example.org").name == old_name
    assert_nothing_half_written()


@FUZZ
@given(
    which=st.sampled_from(["confirmed", "pending", "unsubscribed"]),
    page=st.sampled_from(["confirm", "unsubscribe", "preferences", "erase", "export"]),
    params=query,
    method=st.sampled_from(["GET", "HEAD", "OPTIONS"]),
)
def test_real_links_with_any_query_change_nothing_without_a_post(
    client, site, which, page, params, method
):
    """Link scanners fetch every URL in a mail: no GET of a real link changes a reader."""
    subscription = site[which]
    paths = {
        "confirm": f"/confirm/{confirmation_token(subscription)}/",
        "unsubscribe": f"/u/{subscription.token}/",
        "preferences": f"/preferences/{subscription.subscriber.token}/",
        "erase": f"/preferences/{subscription.subscriber.token}/erase/",
        "export": f"/preferences/{subscription.subscriber.token}/export/",
    }
    before = snapshot()
    response = request(client, method, f"{paths[page]}?{urlencode(params)}")
    assert_answered(response)
    assert_readers_unchanged(before)


@FUZZ
@given(
    which=st.sampled_from(["confirmed", "pending", "unsubscribed"]),
    fields=form_data,
    content_type=st.sampled_from(CONTENT_TYPES),
)
def test_a_real_export_link_takes_any_body_and_changes_nothing(
    client, site, which, fields, content_type
):
    before = snapshot()
    token = site[which].subscriber.token
    body = encoded(fields, content_type)
    response = request(
        client, "POST", f"/preferences/{token}/export/", data=body, content_type=content_type
    )
    assert_answered(response)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert_readers_unchanged(before)


@FUZZ
@given(
    headers=st.dictionaries(
        st.sampled_from(
            [
                "HTTP_X_FORWARDED_FOR",
                "HTTP_ACCEPT_LANGUAGE",
                "HTTP_IF_NONE_MATCH",
                "HTTP_IF_MODIFIED_SINCE",
                "HTTP_COOKIE",
                "HTTP_USER_AGENT",
                "HTTP_REFERER",
                "HTTP_HOST",
            ]
        ),  # fmt: skip
        st.one_of(unicode_text, odd_text, st.sampled_from(["1.2.3.4, ::1", "de;q=x", "*"])),
        max_size=4,
    ),
    path=st.sampled_from(["/", "/garden/", "/garden/first/", "/garden/subscribe/", "/resend/"]),
    method=st.sampled_from(["GET", "POST"]),
)
def test_odd_headers_behind_a_proxy_are_answered(client, site, headers, path, method):
    with override_settings(TRUSTED_PROXY_COUNT=1):
        before = snapshot()
        body = urlencode({"email": "new@example.org", "consent": "on", "newsletter": "garden"})
        response = request(
            client,
            method,
            path,
            data=body,
            content_type="application/x-www-form-urlencoded",
            **{key: as_wsgi(value) for key, value in headers.items()},
        )
        assert_answered(response)
        assert_readers_unchanged(before)


def test_the_real_confirmation_link_still_works_after_all_that(client, site):
    """The fixture is not so broken that nothing could ever change."""
    pending = site["pending"]
    response = client.post(f"/confirm/{confirmation_token(pending)}/")
    assert response.status_code == 200
    pending.refresh_from_db()
    assert pending.status == Subscription.Status.CONFIRMED
