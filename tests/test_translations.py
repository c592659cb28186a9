"""The French catalogue is complete: no untranslated or fuzzy entry, placeholders kept, and
(where GNU gettext is installed) no string marked for translation in the code or the templates
missing from it. The first check needs nothing but polib and always runs."""

import os
import re
import shutil
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.test.utils import override_settings

ROOT = Path(__file__).resolve().parent.parent
FRENCH = ROOT / "locale" / "fr" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sdif]|%[sdif]|\{[a-z_]+\}")
# What makemessages must not read: tools and tests are not shown to users; the vendored
# JavaScript and the virtual environment are someone else's.
NOT_SCANNED = (".*", "var", "node_modules", "locale", "tests", "bench", "static", "__pycache__")


def _catalogue() -> polib.POFile:
    return polib.pofile(str(FRENCH))


def _key(entry: polib.POEntry) -> tuple:
    return (entry.msgctxt, entry.msgid, bool(entry.msgid_plural))


def _label(entry: polib.POEntry) -> str:
    where = ", ".join(f"{path}:{line}" for path, line in entry.occurrences[:2])
    context = f" [{entry.msgctxt}]" if entry.msgctxt else ""
    return f"{entry.msgid!r}{context} ({where})"


def test_the_french_catalogue_has_no_untranslated_or_fuzzy_entry():
    catalogue = _catalogue()
    untranslated = [_label(entry) for entry in catalogue.untranslated_entries()]
    fuzzy = [_label(entry) for entry in catalogue.fuzzy_entries()]
    assert not untranslated, "untranslated in French:\n" + "\n".join(untranslated)
    assert not fuzzy, "fuzzy (to check, then drop the flag):\n" + "\n".join(fuzzy)


def test_every_plural_has_its_french_forms_and_every_translation_its_placeholders():
    catalogue = _catalogue()
    assert "nplurals=2; plural=(n > 1)" in catalogue.metadata["Plural-Forms"]
    problems = []
    for entry in catalogue.translated_entries():
        if entry.msgid_plural:
            forms = [entry.msgstr_plural.get(index, "") for index in (0, 1)]
            if not all(forms):
                problems.append(f"{_label(entry)}: a plural form is empty")
            sources = (entry.msgid, entry.msgid_plural)
        else:
            forms, sources = [entry.msgstr], (entry.msgid,)
        expected = set(PLACEHOLDER.findall(" ".join(sources)))
        for form in forms:
            # A singular may leave the count out ("une clé"), never add or rename one.
            found = set(PLACEHOLDER.findall(form))
            if found - expected or (not entry.msgid_plural and found != expected):
                problems.append(f"{_label(entry)}: placeholders {found} ≠ {expected}")
    assert not problems, "\n".join(problems)


def test_the_catalogue_has_no_duplicate_entry():
    seen, duplicates = set(), []
    for entry in _catalogue():
        key = (entry.msgctxt, entry.msgid)
        if key in seen:
            duplicates.append(_label(entry))
        seen.add(key)
    assert not duplicates, "duplicate msgids (msgfmt refuses them):\n" + "\n".join(duplicates)


GETTEXT_TOOLS = ("xgettext", "msguniq", "msgmerge", "msgattrib")


@pytest.mark.skipif(
    not all(shutil.which(tool) for tool in GETTEXT_TOOLS),
    reason="GNU gettext (xgettext, msguniq, msgmerge, msgattrib) is not installed: Django's "
    "makemessages cannot extract the strings to compare (the catalogue checks above still ran)",
)
def test_every_string_marked_for_translation_is_in_the_french_catalogue(tmp_path):
    """makemessages on a copy of the sources, into an empty locale directory: every extracted
    msgid must be translated in the committed catalogue."""
    sources = tmp_path / "src"
    shutil.copytree(ROOT, sources, ignore=shutil.ignore_patterns(*NOT_SCANNED, "*.mo", "*.po"))
    locale = sources / "locale"
    locale.mkdir()
    previous = Path.cwd()
    os.chdir(sources)
    try:
        # The copy's only locale directory is the empty one: nothing is written to the project.
        with override_settings(LOCALE_PATHS=[str(locale)]):
            call_command("makemessages", locale=["fr"], no_obsolete=True, verbosity=0)
    finally:
        os.chdir(previous)
    extracted = polib.pofile(str(locale / "fr" / "LC_MESSAGES" / "django.po"))
    translated = {_key(entry) for entry in _catalogue().translated_entries()}
    missing = [_label(entry) for entry in extracted if _key(entry) not in translated]
    assert not missing, (
        "marked for translation but not translated in locale/fr/LC_MESSAGES/django.po "
        "(append a French entry at the end):\n" + "\n".join(missing)
    )
