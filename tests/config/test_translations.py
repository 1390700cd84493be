"""The German catalogue: complete, nothing fuzzy, placeholders kept, compiled file current.

Translations are written by people; these checks catch what people slip on: a string
added to the code but never translated, a msgmerge guess left fuzzy, a placeholder or
HTML tag lost in translation, and a .po edited without recompiling the committed .mo
(a fresh machine has no gettext, so it shows exactly what the .mo holds).
"""

import re
import shutil
from pathlib import Path

import polib
import pytest
from django.core.management import call_command

BASE_DIR = Path(__file__).resolve().parents[2]
CATALOGUE = BASE_DIR / "locale" / "de" / "LC_MESSAGES" / "django.po"
COMPILED = CATALOGUE.with_suffix(".mo")
# The same folders `make messages` leaves out.
IGNORED = [".venv", "node_modules", "var", "benchmarks", "tests", "test-artifacts"]

PYTHON_FORMAT = re.compile(r"%(?:\([^)]+\))?[#0 +-]?\d*(?:\.\d+)?[sdifr%]")
BRACES = re.compile(r"\{\{.*?\}\}")
TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>")


def entries(po):
    return [entry for entry in po if not entry.obsolete]


def describe(entry):
    where = ", ".join(sorted({path for path, _line in entry.occurrences}))
    return f"{entry.msgid!r} ({where})"


def translations(entry):
    """(source, translation) pairs: one for a plain entry, one per form for a plural."""
    if not entry.msgid_plural:
        return [(entry.msgid, entry.msgstr)]
    forms = dict(sorted(entry.msgstr_plural.items()))
    return [(entry.msgid if n == 0 else entry.msgid_plural, text) for n, text in forms.items()]


def untranslated(po):
    return [
        describe(entry)
        for entry in entries(po)
        if not all(text.strip() for _source, text in translations(entry))
    ]


@pytest.fixture(scope="module")
def catalogue():
    return polib.pofile(str(CATALOGUE))


def test_the_catalogue_declares_german_with_two_plural_forms(catalogue):
    assert catalogue.metadata["Language"] == "de"
    assert catalogue.metadata["Plural-Forms"].startswith("nplurals=2; plural=(n != 1);")
    assert "charset=UTF-8" in catalogue.metadata["Content-Type"]
    assert not catalogue.metadata_is_fuzzy, "a fuzzy header makes msgfmt drop the charset"


def test_every_entry_is_translated(catalogue):
    assert len(entries(catalogue)) > 100  # the whole project, not one app
    assert untranslated(catalogue) == []


def test_no_entry_is_fuzzy(catalogue):
    fuzzy = [describe(entry) for entry in entries(catalogue) if entry.fuzzy]
    assert fuzzy == []


@pytest.mark.parametrize(
    ("name", "pattern"),
    [("format placeholders", PYTHON_FORMAT), ("{{ }} placeholders", BRACES), ("tags", TAG)],
)
def test_translations_keep_placeholders_and_tags(catalogue, name, pattern):
    lost = []
    for entry in entries(catalogue):
        for source, text in translations(entry):
            if sorted(pattern.findall(source)) != sorted(pattern.findall(text)):
                lost.append(f"{describe(entry)} -> {text!r}")
    assert lost == [], f"{name} differ between English and German"


def test_translations_keep_leading_and_trailing_whitespace(catalogue):
    # "[Test] " and line breaks in text mails: a lost space or newline shows in the mail.
    def edges(text):
        return (text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :])

    differing = [
        describe(entry)
        for entry in entries(catalogue)
        for source, text in translations(entry)
        if edges(source) != edges(text)
    ]
    assert differing == []


def text_of(entry):
    """What a .po or .mo entry translates to: a string, or {form: string} for plurals."""
    if entry.msgid_plural:
        return {int(n): text for n, text in entry.msgstr_plural.items()}
    return entry.msgstr


def test_the_committed_compiled_catalogue_matches_the_po_file(catalogue):
    compiled = {(e.msgctxt, e.msgid): text_of(e) for e in polib.mofile(str(COMPILED)) if e.msgid}
    stale = [
        describe(entry)
        for entry in entries(catalogue)
        if compiled.get((entry.msgctxt, entry.msgid)) != text_of(entry)
    ]
    assert stale == [], "run `make messages` (or compilemessages) and commit django.mo"


@pytest.mark.skipif(
    not (shutil.which("xgettext") and shutil.which("msgmerge")),
    reason="needs GNU gettext (apt-get install gettext) to extract strings from the code",
)
def test_every_string_marked_in_the_code_has_a_german_translation(tmp_path, monkeypatch):
    """Extract the strings as `make messages` does, in a copy of the code, and look for gaps.

    A copy, because makemessages writes into the locale/ folder it finds under the
    current directory, and the test must not change the committed catalogue.
    """
    copy = tmp_path / "rundbrief"
    shutil.copytree(
        BASE_DIR, copy, ignore=shutil.ignore_patterns(*IGNORED, ".*", "__pycache__", "*.mo")
    )
    monkeypatch.chdir(copy)
    call_command(
        "makemessages", locale=["de"], no_obsolete=True, ignore_patterns=IGNORED, verbosity=0
    )
    extracted = polib.pofile(str(copy / CATALOGUE.relative_to(BASE_DIR)))
    missing = untranslated(extracted) + [describe(e) for e in entries(extracted) if e.fuzzy]
    assert len(entries(extracted)) > 100
    assert missing == [], "new or changed strings: run `make messages` and translate them"
