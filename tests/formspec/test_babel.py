"""The Babel extractor finds every text a citizen reads in a definition."""

from __future__ import annotations

import io

from app.formspec.babel import extract_formspec

from .builders import FORMS_DIR, dedent

DEFINITION = dedent(
    """
    title: Hund anmelden
    short_text: Kurz.
    description: Lang.
    audience: Halter.
    required_documents:
      - Nachweis
    fees:
      text: 10 Euro.
      rules:
        - {label: Steuer, amount: "10.00"}
    legal_basis: ["§ 1 Satzung"]
    processing_time: 2 Wochen
    office_kind: kaemmerei
    topic: Steuern
    form:
      steps:
        - name: schritt
          title: Schritt
          intro: Einleitung.
          fieldsets:
            - name: gruppe
              legend: Gruppe
              fields:
                - name: art
                  type: radio
                  label: Art
                  hint: Hinweis.
                  options:
                    - {value: a, label: Option A}
                - {name: chip, type: text, label: Chip, pattern: '\\d+', pattern_message: Nur Ziffern.}
                - {name: info, type: help, text: Hilfetext.}
    """
)


def _extract(text: str) -> list[tuple[int, str | None, str, list[str]]]:
    return list(extract_formspec(io.BytesIO(text.encode("utf-8")), [], [], {}))


def test_extracts_every_translatable_text_with_its_line() -> None:
    found = {message: lineno for lineno, _, message, _ in _extract(DEFINITION)}
    assert found == {
        "Hund anmelden": 1,
        "Kurz.": 2,
        "Lang.": 3,
        "Halter.": 4,
        "Nachweis": 6,
        "10 Euro.": 8,
        "Steuer": 10,
        "2 Wochen": 12,
        "Steuern": 14,
        "Schritt": 18,
        "Einleitung.": 19,
        "Gruppe": 22,
        "Art": 26,
        "Hinweis.": 27,
        "Option A": 29,
        "Chip": 30,
        "Nur Ziffern.": 30,
        "Hilfetext.": 31,
    }


def test_legal_citations_names_and_values_are_not_extracted() -> None:
    messages = {message for _, _, message, _ in _extract(DEFINITION)}
    assert not messages & {"§ 1 Satzung", "kaemmerei", "schritt", "gruppe", "a", "art", "10.00"}


def test_comments_tell_translators_what_the_text_is() -> None:
    comments = {message: comment for _, _, message, comment in _extract(DEFINITION)}
    assert comments["Art"] == ["label (art)"]
    assert comments["Option A"] == ["label (a)"]


def test_broken_yaml_yields_nothing() -> None:
    assert _extract("title: [offen\n") == []


def test_every_label_the_compiler_translates_is_extracted() -> None:
    """What step_form_class passes to gettext must be in the catalog, or it stays German."""
    from app.formspec import load_catalogue

    extracted: set[str] = set()
    for path in FORMS_DIR.rglob("*.yaml"):
        with path.open("rb") as handle:
            extracted |= {message for _, _, message, _ in extract_formspec(handle, [], [], {})}
    catalogue = load_catalogue(FORMS_DIR)
    for service in catalogue.services.values():
        assert service.title in extracted
        for field in service.form.fields() if service.form else ():
            assert not field.label or field.label in extracted
            assert all(option.label in extracted for option in field.options)
