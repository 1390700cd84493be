"""Custom field keys stay as the author sees them, and placeholders match them whatever
the case; the import screen shows the exact key each column becomes."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from newsletter.rendering import Recipient
from newsletter.rendering.placeholders import Placeholder, custom_keys_in, reader_value
from subscribers.field_keys import custom_field_key


@pytest.mark.parametrize(
    "column, key",
    [("Stadt", "Stadt"), ("Postal code", "Postal_code"), ("2. Wahl", "field_2_Wahl")],
)
def test_a_column_keeps_its_case_as_key(column, key):
    assert custom_field_key(column) == key


@pytest.mark.parametrize("stored", ["Stadt", "stadt", "STADT"])
@pytest.mark.parametrize("written", ["custom.Stadt", "custom.stadt"])
def test_a_custom_placeholder_matches_whatever_the_case(stored, written):
    reader = Recipient(email="a@example.org", custom_fields={stored: "Berlin"})

    assert reader_value(Placeholder(written), reader) == "Berlin"


def test_the_exact_key_wins_over_another_case():
    reader = Recipient(email="a@example.org", custom_fields={"stadt": "x", "Stadt": "Berlin"})

    assert reader_value(Placeholder("custom.Stadt"), reader) == "Berlin"


def test_custom_keys_in_lists_the_custom_fields_used():
    text = 'Hi {{ name }}, {{ custom.Stadt }} {{ custom.zip | default: "-" }} {{ custom.Stadt }}'

    assert custom_keys_in(text) == ["Stadt", "zip"]


@pytest.mark.django_db
def test_the_column_picker_shows_the_exact_key_each_column_becomes(
    admin_client, settings, tmp_path
):
    settings.VAR_DIR = tmp_path / "var"
    csv = b"E-Mail,Stadt,Postal code\nada@example.org,Berlin,10115\n"
    url = "/admin/subscribers/subscription/import/"
    columns_url = admin_client.post(url, {"file": SimpleUploadedFile("p.csv", csv)})["Location"]

    page = admin_client.get(columns_url).content.decode()

    assert "{{ custom.Stadt }}" in page and "{{ custom.Postal_code }}" in page
