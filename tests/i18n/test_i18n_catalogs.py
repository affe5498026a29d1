"""The translation catalogs are complete, compile, and keep every placeholder.

German is the source language; translations/<locale>/LC_MESSAGES/messages.po holds
English, Polish and Lower Sorbian. These tests fail when a string in the code is not
in a catalog, when an entry is untranslated or fuzzy, when a translation drops or
invents a placeholder, or when a catalog does not compile.
"""

from __future__ import annotations

import gettext
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"
LOCALES = ("en", "pl", "dsb")
PLURAL_FORMS = {"en": 2, "pl": 3, "dsb": 4}

#: %(name)s, %s, %d, %.2f … as Python's %-formatting reads them; %% is a literal percent sign.
PLACEHOLDER = re.compile(
    r"%(?:\((?P<name>[^)]+)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?(?P<conv>[diouxXeEfFgGcrsa%])"
)


def load_catalog(locale: str) -> Catalog:
    path = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fileobj:
        return read_po(fileobj, locale=locale)


def messages(catalog: Catalog) -> list[Message]:
    """The catalog's entries without its header."""
    return [message for message in catalog if message.id]


def placeholders(text: str) -> list[str]:
    """The placeholders of a message, sorted; literal %% signs are not placeholders."""
    found = []
    for match in PLACEHOLDER.finditer(text):
        if match["conv"] == "%":
            continue
        found.append(f"{match['name'] or ''}:{match['conv']}")
    return sorted(found)


def msgstrs(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, (list, tuple)) else [message.string]


def msgids(message: Message) -> list[str]:
    return list(message.id) if isinstance(message.id, (list, tuple)) else [message.id]


def describe(message: Message) -> str:
    where = ", ".join(f"{path}:{line}" for path, line in message.locations[:2])
    return f"{msgids(message)[0]!r} ({where})" if where else repr(msgids(message)[0])


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The messages the code holds now, extracted exactly as scripts/i18n does."""
    output = tmp_path_factory.mktemp("extract") / "messages.pot"
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "i18n"), "extract", str(output)],
        cwd=ROOT,
        env={**os.environ, "VENV": sys.prefix},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"pybabel extract failed:\n{result.stderr[-3000:]}"
    with output.open("rb") as fileobj:
        return read_po(fileobj)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_string_in_the_code_is_in_the_catalog(locale: str, extracted: Catalog) -> None:
    """A string added to a template, a module or a form definition needs `scripts/i18n update`."""
    catalog = load_catalog(locale)
    missing = [describe(m) for m in messages(extracted) if m.id not in catalog]
    assert not missing, (
        f"{len(missing)} strings of the code are missing from the {locale} catalog "
        f"(run `scripts/i18n update` and translate them):\n" + "\n".join(missing[:40])
    )


#: A gettext call with a literal message (``_(variable)`` yields nothing to extract).
GETTEXT_IN_TEMPLATE = re.compile(r"\b(?:_|gettext|ngettext)\(\s*[\"']|\{%-?\s*trans\b")


def test_extraction_reads_every_template_that_translates(extracted: Catalog) -> None:
    """Babel skips folders starting with "_" by default; _components must still be read."""
    read = {path for message in extracted for path, _line in message.locations}
    templates = sorted((ROOT / "app" / "templates").rglob("*.*"))
    unread = [
        path.relative_to(ROOT).as_posix()
        for path in templates
        if path.suffix in {".html", ".txt"}
        and GETTEXT_IN_TEMPLATE.search(path.read_text(encoding="utf-8"))
        and path.relative_to(ROOT).as_posix() not in read
    ]
    assert not unread, f"templates with gettext calls that extraction does not read: {unread}"


@pytest.mark.parametrize("locale", LOCALES)
def test_no_entry_is_untranslated(locale: str) -> None:
    untranslated = [describe(m) for m in messages(load_catalog(locale)) if not all(msgstrs(m))]
    assert not untranslated, f"{len(untranslated)} untranslated entries in {locale}:\n" + "\n".join(
        untranslated[:40]
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_no_entry_is_fuzzy(locale: str) -> None:
    fuzzy = [describe(m) for m in messages(load_catalog(locale)) if m.fuzzy]
    assert not fuzzy, f"{len(fuzzy)} fuzzy entries in {locale}:\n" + "\n".join(fuzzy[:40])


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_every_placeholder(locale: str) -> None:
    """%(name)s in the German text must appear, unchanged, in each translation."""
    broken = []
    for message in messages(load_catalog(locale)):
        expected = placeholders(msgids(message)[-1])
        for form, text in enumerate(msgstrs(message)):
            if text and placeholders(text) != expected:
                broken.append(
                    f"{describe(message)} form {form}: expected {expected}, found {placeholders(text)}"
                )
    assert not broken, f"placeholders changed in {locale}:\n" + "\n".join(broken)


@pytest.mark.parametrize("locale", LOCALES)
def test_plural_entries_have_every_form_of_the_language(locale: str) -> None:
    catalog = load_catalog(locale)
    assert catalog.num_plurals == PLURAL_FORMS[locale]
    wrong = [
        describe(m) for m in messages(catalog) if m.pluralizable and len(msgstrs(m)) != catalog.num_plurals
    ]
    assert not wrong, f"plural entries without {catalog.num_plurals} forms in {locale}: {wrong}"


def test_lower_sorbian_chooses_its_four_plural_forms() -> None:
    """Babel's defaults would give dsb two forms; CLDR: 1, 2, 3–4 and other, by n mod 100."""
    catalog = load_catalog("dsb")
    translations = gettext.GNUTranslations(_compiled(catalog))
    chosen = {n: translations.plural(n) for n in (1, 2, 3, 4, 5, 11, 101, 102, 103, 105)}
    assert chosen == {1: 0, 2: 1, 3: 2, 4: 2, 5: 3, 11: 3, 101: 0, 102: 1, 103: 2, 105: 3}


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_compiles(locale: str) -> None:
    catalog = load_catalog(locale)
    problems = [f"{describe(message)}: {errors}" for message, errors in catalog.check() if errors]
    assert not problems, "\n".join(problems)
    translations = gettext.GNUTranslations(_compiled(catalog))
    assert translations.info()["language"] == locale


def test_placeholder_check_notices_a_changed_name() -> None:
    """The placeholder comparison itself: renamed, dropped and literal percent signs."""
    assert placeholders("Seite %(page)s von %(pages)s") == ["page:s", "pages:s"]
    assert placeholders("Page %(page)s of %(total)s") != placeholders("Seite %(page)s von %(pages)s")
    assert placeholders("100 %% sicher, %d Dateien") == [":d"]


def _compiled(catalog: Catalog) -> io.BytesIO:
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return buffer
