import pytest
from django.utils import translation

from newsletter.models import Newsletter

pytestmark = pytest.mark.django_db


def make(language, **fields):
    return Newsletter.objects.create(
        name="Gartenbrief",
        slug=f"n-{language}",
        language=language,
        from_name="G",
        from_email="g@example.org",
        **fields,
    )


def test_the_default_consent_text_is_in_the_newsletters_language_not_the_admins():
    with translation.override("en"):
        german = make("de")
    with translation.override("de"):
        english = make("en")
    assert german.consent_text.startswith("Ich ")
    assert english.consent_text.startswith("I agree")


def test_an_authors_own_consent_text_is_kept_as_written():
    with translation.override("en"):
        newsletter = make("de", consent_text="Ja, schickt mir den Gartenbrief.")
    assert newsletter.consent_text == "Ja, schickt mir den Gartenbrief."


def test_new_consent_wording_is_a_new_version():
    newsletter = make("en")
    newsletter.consent_text = "Yes, send me the garden letter."
    newsletter.save()
    assert newsletter.consent_version == 2
