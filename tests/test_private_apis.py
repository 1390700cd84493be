"""The private parts of Django, Python, redis-py and anymail that Rundbrief relies on, each
pinned here, so that an upgrade that changes one fails in this module by name instead of
silently changing the mails, the cache or the archive.

Who relies on what:
- newsletter/sending/smtp/wire.py writes each mail's bytes itself and must match Django's
  mail internals byte for byte: forbid_multi_line_headers, RFC5322_EMAIL_LINE_LENGTH_LIMIT,
  SafeMIMEText's choice of transfer encoding and the compat32 policy of its messages;
- newsletter/sending/smtp/connection.py dot-stuffs with smtplib._quote_periods and keeps
  one connection per thread in threading.local's __dict__;
- newsletter/sending/smtp/mail_backend.py overrides Django's SMTP EmailBackend._send;
- newsletter/sending/providers/postmark.py reads anymail's settings and formats addresses
  with anymail.utils, as anymail's own Postmark backend does;
- config/redis_cache.py reuses one redis-py client per pool through RedisCacheClient's
  _get_connection_pool and _client, and RedisCache's _class and _cache;
- newsletter/archive/page_cache.py holds its on-commit callbacks only weakly and counts on
  Django letting go of each once its transaction (or savepoint) commits or rolls back.
"""

import contextlib
import inspect
import smtplib
import threading
import weakref
from email import policy

import pytest
import redis
from anymail.utils import get_anymail_setting, parse_address_list
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.core.mail import EmailMessage
from django.core.mail.backends.smtp import EmailBackend
from django.core.mail.message import (
    RFC5322_EMAIL_LINE_LENGTH_LIMIT,
    BadHeaderError,
    forbid_multi_line_headers,
    sanitize_address,
)
from django.db import transaction

from config import redis_cache
from newsletter.sending.smtp import wire

REDIS_URL = "redis://127.0.0.1:6379/15"  # never connected to: clients connect on first use


def django_bytes(**fields):
    message = EmailMessage(
        **{"body": "Hi", "from_email": "news@example.org", "to": ["a@example.com"], **fields}
    )
    return message.message().as_bytes(linesep="\r\n")


def django_body(text):
    """(payload, Content-Transfer-Encoding) of a one-part Django message with this body."""
    head, _, payload = django_bytes(body=text).partition(b"\r\n\r\n")
    (encoding,) = [
        line.split(b": ", 1)[1]
        for line in head.split(b"\r\n")
        if line.startswith(b"Content-Transfer-Encoding")
    ]
    return payload, encoding


# --- Django's mail internals, as wire.py rebuilds them ---------------------------------
def test_forbid_multi_line_headers_encodes_and_refuses_as_wire_expects():
    assert forbid_multi_line_headers("Subject", "Plain", "utf-8") == ("Subject", "Plain")
    name, value = forbid_multi_line_headers("Subject", "Grüße", "utf-8")
    assert (name, value) == ("Subject", "=?utf-8?b?R3LDvMOfZQ==?=")
    with pytest.raises(BadHeaderError):
        forbid_multi_line_headers("Subject", "two\nlines", "utf-8")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Subject", "This month at Benchmark Weekly"),
        ("Subject", "Grüße aus der Redaktion: was es Neues gibt"),
        ("Subject", " ".join(["A long subject that the email package must fold"] * 3)),
        ("Subject", "Ein langer Betreff mit Umlauten, äöü, der gefaltet werden muss " * 2),
        ("To", "Reader One <reader1@example.com>"),
        ("To", '"Müller, Anna" <anna@example.com>'),
    ],
)
def test_a_header_line_is_what_django_writes(name, value):
    fields = {"subject": value} if name == "Subject" else {"to": [value]}
    assert wire.header_bytes(name, value) in django_bytes(**fields)


@pytest.mark.parametrize(
    "text",
    [
        "Plain ASCII text\nover two lines\n",
        "Text with Umlauts: äöü\r\nand CRLF\r\n",
        "A bare\rcarriage return",
        "x" * RFC5322_EMAIL_LINE_LENGTH_LIMIT,
    ],
)
def test_a_body_is_what_django_writes(text):
    assert wire.body_bytes(text) == django_body(text)


def test_a_line_over_the_limit_makes_django_use_quoted_printable():
    assert wire.LINE_LIMIT == RFC5322_EMAIL_LINE_LENGTH_LIMIT == 998
    long_text = "ä" * 600  # 1,200 octets on one line
    assert django_body(long_text)[1] == b"quoted-printable"
    with pytest.raises(wire.NeedsSlowPath):
        wire.body_bytes(long_text)


def test_django_messages_use_the_compat32_policy():
    message = EmailMessage("Subject", "Hi", "news@example.org", ["a@example.com"]).message()
    assert message.policy is policy.compat32
    assert wire.WIRE_POLICY.max_line_length == policy.compat32.max_line_length


# --- smtplib and threading ------------------------------------------------------------
def test_smtplib_quote_periods_stuffs_leading_dots():
    assert smtplib._quote_periods(b".a\r\nb\r\n.c\r\n") == b"..a\r\nb\r\n..c\r\n"
    assert smtplib._quote_periods(b"no dots\r\n") == b"no dots\r\n"


def test_a_threading_local_dict_belongs_to_one_thread():
    local = threading.local()
    local.__dict__.setdefault("pool", {})["key"] = "this thread"
    seen = []
    thread = threading.Thread(target=lambda: seen.append(dict(local.__dict__)))
    thread.start()
    thread.join()
    assert seen == [{}]
    assert local.__dict__ == {"pool": {"key": "this thread"}}


# --- Django's SMTP backend, as mail_backend.py overrides it ----------------------------
def test_the_smtp_backend_sends_each_message_through_its_private_send():
    assert list(inspect.signature(EmailBackend._send).parameters) == ["self", "email_message"]
    sent = []

    class Probe(EmailBackend):
        def open(self):
            self.connection = object()
            return True

        def close(self):
            self.connection = None

        def _send(self, email_message):
            sent.append(email_message)
            return True

    message = EmailMessage("Subject", "Hi", "news@example.org", ["a@example.com"])
    assert Probe().send_messages([message]) == 1
    assert sent == [message]
    assert sanitize_address(("Anna", "anna@example.com"), "utf-8") == "Anna <anna@example.com>"


# --- anymail's utilities, as postmark.py uses them ------------------------------------
def test_anymail_reads_the_postmark_token_and_formats_addresses(settings):
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "token-1"}
    token = get_anymail_setting("server_token", esp_name="Postmark", allow_bare=True)
    assert token == "token-1"
    assert parse_address_list(["Anna <anna@example.com>"])[0].address == ("Anna <anna@example.com>")


# --- Django's Redis cache, as config/redis_cache.py reuses its clients -----------------
def test_the_redis_cache_client_builds_clients_from_its_pools():
    client = RedisCacheClient([REDIS_URL])
    assert client._client is redis.Redis
    pool = client._get_connection_pool(False)
    assert isinstance(pool, redis.ConnectionPool)
    assert client._get_connection_pool(False) is pool
    parameters = inspect.signature(RedisCacheClient.get_client).parameters
    assert parameters["write"].kind is inspect.Parameter.KEYWORD_ONLY


def test_the_redis_cache_makes_its_client_from_its_class():
    assert RedisCache(REDIS_URL, {})._class is RedisCacheClient
    cache = redis_cache.RedisCache(REDIS_URL, {})
    assert isinstance(cache._cache, redis_cache.ReusedClientRedisCacheClient)
    assert cache._cache is cache._cache  # built once per cache
    assert cache._cache.get_client() is cache._cache.get_client()


# --- on-commit callbacks are let go of, as page_cache.py counts on -----------------------
class Callback:
    def __call__(self):
        pass


@pytest.mark.django_db(transaction=True)
def test_django_lets_go_of_an_on_commit_callback_once_it_ran_or_was_rolled_back():
    kept = weakref.WeakSet()
    with transaction.atomic():
        ran = Callback()
        kept.add(ran)
        transaction.on_commit(ran)
        del ran
        with contextlib.suppress(RuntimeError), transaction.atomic():
            rolled_back = Callback()
            kept.add(rolled_back)
            transaction.on_commit(rolled_back)
            del rolled_back
            assert len(kept) == 2  # both still pending
            raise RuntimeError
        assert len(kept) == 1  # the savepoint's callback is gone
    assert len(kept) == 0  # the committed one ran and was dropped
