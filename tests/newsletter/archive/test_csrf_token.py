"""The cheap CSRF token of cached pages is Django's token: same alphabet, same masking,
same cookie, and CsrfViewMiddleware accepts it (the form tests in
test_archive_page_cache.py post it through the real middleware)."""

from collections import Counter

from django.middleware.csrf import CSRF_ALLOWED_CHARS, _unmask_cipher_token
from django.test import RequestFactory

from newsletter.archive.csrf_token import get_token, random_csrf_string


def test_the_masked_token_unmasks_to_the_cookie_secret():
    request = RequestFactory().get("/")

    token = get_token(request)

    secret = request.META["CSRF_COOKIE"]
    assert len(token) == 64 and len(secret) == 32
    assert _unmask_cipher_token(token) == secret
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True


def test_a_request_with_a_cookie_keeps_its_secret_under_a_fresh_mask():
    request = RequestFactory().get("/")
    request.META["CSRF_COOKIE"] = "a" * 32

    first, second = get_token(request), get_token(request)

    assert first != second
    assert _unmask_cipher_token(first) == _unmask_cipher_token(second) == "a" * 32


def test_random_strings_use_the_whole_alphabet_evenly():
    counts = Counter("".join(random_csrf_string() for _ in range(4000)))

    assert set(counts) == set(CSRF_ALLOWED_CHARS)
    expected = 4000 * 32 / len(CSRF_ALLOWED_CHARS)  # about 2,065 per character
    assert all(0.85 * expected < count < 1.15 * expected for count in counts.values())
