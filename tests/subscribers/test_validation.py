import pytest
from django.core.exceptions import ValidationError

from subscribers.validation import clean_address


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
