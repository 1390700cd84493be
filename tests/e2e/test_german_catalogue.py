"""Every user-facing string has a German translation, and the compiled catalogue is current.

Three ways a German reader could meet English: an entry in the catalogue left empty or
fuzzy, a string marked in code after the catalogue was last made, and a .po file edited
without compiling the .mo that Django actually reads.
"""

import shutil
import subprocess
import sys

import polib
import pytest

from tests.e2e.conftest import BASE_DIR

CATALOGUE = BASE_DIR / "locale" / "de" / "LC_MESSAGES" / "django.po"
COMPILED = CATALOGUE.with_suffix(".mo")
# What `make messages` reads (see MESSAGES_IGNORE in the Makefile).
SOURCES = ("config", "newsletter", "subscribers", "templates", "manage.py")

pytestmark = pytest.mark.skipif(
    not CATALOGUE.exists(), reason=f"{CATALOGUE.relative_to(BASE_DIR)} does not exist yet"
)


def untranslated(catalogue):
    """msgids of entries that would show English (or a guess) to a German reader."""
    problems = []
    for entry in catalogue:
        if entry.obsolete:
            continue
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {entry.msgid!r}")
        elif entry.msgid_plural:
            if not all(entry.msgstr_plural.get(index) for index in (0, 1)):
                problems.append(f"plural untranslated: {entry.msgid!r}")
        elif not entry.msgstr:
            problems.append(f"untranslated: {entry.msgid!r}")
    return problems


def test_the_german_catalogue_has_no_untranslated_or_fuzzy_entries():
    catalogue = polib.pofile(str(CATALOGUE))
    assert len(catalogue) > 100, "the catalogue looks truncated"
    assert untranslated(catalogue) == []


def test_every_string_marked_in_the_code_is_in_the_german_catalogue(tmp_path):
    # makemessages writes into the tree it runs in, so it runs on a copy; it merges the
    # strings it finds into the copied catalogue, and new ones arrive untranslated.
    for name in SOURCES:
        source = BASE_DIR / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, tmp_path / name)
    shutil.copytree(BASE_DIR / "locale", tmp_path / "locale")
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "de", "--no-obsolete"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"DJANGO_SETTINGS_MODULE": "config.test_settings", "PATH": "/usr/bin:/bin",
             "RUNDBRIEF_VAR_DIR": str(tmp_path / "var")},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    remade = polib.pofile(str(tmp_path / "locale" / "de" / "LC_MESSAGES" / "django.po"))
    committed = {entry.msgid for entry in polib.pofile(str(CATALOGUE))}
    missing = sorted(entry.msgid for entry in remade if entry.msgid not in committed)
    assert missing == [], "strings marked for translation but not in the catalogue"
    assert untranslated(remade) == []


def test_the_compiled_catalogue_matches_the_source_catalogue():
    assert COMPILED.exists(), "run `make messages` to compile the catalogue"
    source = {
        entry.msgid: entry.msgstr
        for entry in polib.pofile(str(CATALOGUE)).translated_entries()
        if not entry.msgid_plural
    }
    compiled = {entry.msgid: entry.msgstr for entry in polib.mofile(str(COMPILED))}
    stale = sorted(msgid for msgid, text in source.items() if compiled.get(msgid) != text)
    assert stale == [], "the .mo is older than the .po: run `make messages`"
