"""Guessing the columns of an uploaded CSV from English and German header names."""

import pytest

from subscribers.field_keys import custom_field_key
from subscribers.imports.importing import guess_mapping
from subscribers.imports.uploads import guess_email_column


@pytest.mark.parametrize(
    "header, email",
    [
        (["Name", "E-Mail"], "E-Mail"),
        (["email", "name"], "email"),
        (["Email Address", "First Name"], "Email Address"),
        (["E-Mail-Adresse", "Vorname"], "E-Mail-Adresse"),
        (["Mailadresse"], "Mailadresse"),
        (["  EMAIL  ", "x"], "  EMAIL  "),
        (["e_mail", "mail"], "e_mail"),
    ],
)
def test_it_finds_the_email_column_by_its_usual_names(header, email):
    assert guess_mapping(header).email == email


def test_a_name_column_wins_over_first_and_last_name():
    mapping = guess_mapping(["Vorname", "Name", "Nachname", "E-Mail"])
    assert (mapping.name, mapping.last_name) == ("Name", "")


@pytest.mark.parametrize(
    "header, name, last_name",
    [
        (["E-Mail", "Vorname", "Nachname"], "Vorname", "Nachname"),
        (["Email", "First name", "Last name"], "First name", "Last name"),
        (["email", "given_name", "surname"], "given_name", "surname"),
        (["Email", "Vollständiger Name"], "Vollständiger Name", ""),
    ],
)
def test_first_and_last_name_are_found_in_english_and_german(header, name, last_name):
    mapping = guess_mapping(header)
    assert (mapping.name, mapping.last_name) == (name, last_name)


def test_unknown_headers_guess_nothing():
    mapping = guess_mapping(["Spalte 1", "Spalte 2"])
    assert (mapping.email, mapping.name, mapping.last_name) == ("", "", "")


def test_without_a_known_header_the_column_holding_addresses_is_the_email():
    header = ["Kunde", "Kontakt", "Ort"]
    sample = [["Ada", "ada@example.org", "London"], ["Bob", "bob@example.org", "Paris"]]
    assert guess_email_column(header, sample) == "Kontakt"
    assert guess_email_column(header, [["Ada", "none", "London"]]) == ""


@pytest.mark.parametrize(
    "column, key",
    [
        ("City", "City"),
        ("Postal code", "Postal_code"),
        ("Straße", "Straße"),
        ("2. Wahl", "field_2_Wahl"),
        ("---", "field"),
    ],
)
def test_custom_field_keys_are_safe_placeholder_names(column, key):
    assert custom_field_key(column) == key
