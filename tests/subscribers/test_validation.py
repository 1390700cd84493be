import random

import pytest
from django.core.exceptions import ValidationError
from email_validator import validate_email

from subscribers.validation import AddressCleaner, clean_address


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Ada@Example.ORG ", "ada@example.org"),
        ("leser@b\u00fccher.de", "leser@b\u00fccher.de"),
        ("leser@xn--bcher-kva.de", "leser@b\u00fccher.de"),  # punycode and Unicode agree
    ],
)
def test_valid_addresses_get_one_canonical_form(raw, expected):
    assert clean_address(raw, check_mx=False) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "invalid"),
        ("plainaddress", "invalid"),
        ("a@b", "invalid"),
        ("two@@example.org", "invalid"),
        ("zo\u00eb@example.org", "invalid"),  # non-ASCII local part needs SMTPUTF8: refused
        ("someone@example.test", "invalid"),  # reserved, never deliverable
        ("x" * 250 + "@example.org", "invalid"),
    ],
)
def test_invalid_addresses_are_refused_with_a_reason(raw, code):
    with pytest.raises(ValidationError) as exc:
        clean_address(raw, check_mx=False)
    assert exc.value.code == code
    assert exc.value.messages


TRICKY = [
    "Ada@Example.ORG",
    " ada@example.org ",
    "INFO@example.org",
    "a.b+tag@example.org",
    "o'neil@example.org",
    "a..b@example.org",
    ".a@example.org",
    "a.@example.org",
    "a@example..org",
    "a@-example.org",
    "a@example-.org",
    "a@example.org.",
    "a@.example.org",
    "a@localhost",
    "a@example.test",
    "a@example.invalid",
    "a@123.com",
    "a@example.c0m",
    "a@example.123",
    "a@xn--bcher-kva.de",
    "a@XN--BCHER-KVA.DE",
    "a@b\u00fccher.de",
    "a@xn--x.de",
    "a@ex_ample.org",
    "a\n@example.org",
    "a@example.org\nx",
    '"a"@example.org',
    '"a b"@example.org',
    "Ada <ada@example.org>",
    "a@[127.0.0.1]",
    "a@b@example.org",
    "@example.org",
    "a@",
    "zo\u00eb@example.org",
    "a@" + "b" * 64 + ".org",
    "x" * 64 + "@example.org",
    "x" * 65 + "@example.org",
    "x" * 242 + "@example.org",  # 254 characters
    "x" * 243 + "@example.org",  # 255
    "a@" + ".".join(["abcdefghi"] * 25) + ".org",
]


def outcome(clean, raw):
    try:
        return ("ok", clean(raw))
    except ValidationError as exc:
        return ("refused", exc.code, exc.messages)


@pytest.mark.parametrize("raw", TRICKY)
def test_the_import_cleaner_agrees_with_clean_address(raw):
    cleaner = AddressCleaner()
    expected = outcome(lambda value: clean_address(value, check_mx=False), raw)
    assert outcome(cleaner, raw) == expected
    assert outcome(cleaner, raw) == expected  # and again, with the domain remembered


def test_the_import_cleaner_agrees_on_random_addresses():
    # Letters, digits, dots, dashes and the odd special character: many near-misses.
    rng = random.Random(7)
    alphabet = "abcXYZ019.-_+'\"@ <>[]\u00fc"
    domains = ["example.org", "Example.ORG", "b\u00fccher.de", "xn--bcher-kva.de", "ex.test"]
    cleaner = AddressCleaner()
    for _ in range(3000):
        local = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        domain = rng.choice(
            [rng.choice(domains), "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))]
        )
        raw = f"{local}@{domain}" if rng.random() < 0.9 else local + domain
        expected = outcome(lambda value: clean_address(value, check_mx=False), raw)
        assert outcome(cleaner, raw) == expected, raw


def test_the_import_cleaner_asks_email_validator_once_per_plain_domain(monkeypatch):
    from subscribers import validation

    calls = []

    def counted(*args, **kwargs):
        calls.append(args[0])
        return validate_email(*args, **kwargs)

    monkeypatch.setattr(validation, "validate_email", counted)
    cleaner = AddressCleaner()
    cleaned = [cleaner(f"Reader{n}@example.org") for n in range(100)]
    assert cleaned[42] == "reader42@example.org"
    assert len(calls) == 1
    with pytest.raises(ValidationError):
        cleaner("zo\u00eb@example.org")  # not plain: email-validator judges it in full
    assert len(calls) == 2
