"""Every lint message names the file, the line and the key, in words a clerk understands.

Each case marks the line the error must point at with ``#!``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.formspec import (
    ConditionError,
    DuplicateNameError,
    FeeRuleError,
    InvalidValueError,
    MissingKeyError,
    PatternError,
    SpecError,
    UnknownKeyError,
    WrongTypeError,
    YamlSyntaxError,
    lint_paths,
    load_catalogue,
)

from .builders import SERVICE_HEAD, dedent, form_yaml

RADIO = """
- name: art
  type: radio
  label: Art
  options:
    - {value: a, label: A}
    - {value: b, label: B}
"""

CASES = [
    pytest.param(
        SERVICE_HEAD + "titel: Doppelt #!\nonline: false\n",
        UnknownKeyError,
        "titel",
        "unbekannter Schlüssel „titel“ – meinten Sie „title“?",
        id="unknown-service-key",
    ),
    pytest.param(
        form_yaml("- {name: vorname, type: text, lable: Vorname} #!"),
        UnknownKeyError,
        "lable",
        "meinten Sie „label“?",
        id="unknown-field-key-did-you-mean",
    ),
    pytest.param(
        form_yaml("- {name: vorname, type: text, label: Vorname, options: []} #!"),
        UnknownKeyError,
        "options",
        "„options“ gibt es bei Feldern vom Typ „text“ nicht",
        id="key-of-another-field-type",
    ),
    pytest.param(
        form_yaml("- {name: vorname, type: text, label: Vorname, max_length: zehn} #!"),
        WrongTypeError,
        "max_length",
        "muss eine ganze Zahl sein, gefunden wurde der Text „zehn“",
        id="wrong-type-integer",
    ),
    pytest.param(
        form_yaml("- {name: vorname, type: text, label: Vorname, required: 'ja'} #!"),
        WrongTypeError,
        "required",
        "muss true oder false sein",
        id="wrong-type-boolean",
    ),
    pytest.param(
        form_yaml(
            "- {name: vorname, type: text, label: Vorname}\n- {name: vorname, type: text, label: Nochmal} #!"
        ),
        DuplicateNameError,
        "name",
        "der Feldname kommt doppelt vor (zuerst in forms/catalogue/testdienst.yaml, Zeile 12)",
        id="duplicate-field-name",
    ),
    pytest.param(
        form_yaml(
            "- {name: a, type: text, label: A}",
            extra_steps="""
            - name: angaben #!
              title: Nochmal
              fieldsets:
                - name: zwei
                  fields:
                    - {name: b, type: text, label: B}
            """,
        ),
        DuplicateNameError,
        "name",
        "Schrittname „angaben“ kommt doppelt vor (zuerst in Zeile 7)",
        id="duplicate-step-name",
    ),
    pytest.param(
        SERVICE_HEAD + "online: false\ntopic: Doppelt #!\n",
        DuplicateNameError,
        "topic",
        "steht hier zum zweiten Mal (zuerst in Zeile 4)",
        id="duplicate-yaml-key",
    ),
    pytest.param(
        form_yaml(RADIO + "- {name: x, type: text, label: X, show_if: {field: arf, equals: a}} #!"),
        ConditionError,
        "show_if",
        "bezieht sich auf das Feld „arf“, das es in diesem Formular nicht gibt – meinten Sie „art“?",
        id="show-if-unknown-field",
    ),
    pytest.param(
        form_yaml("- {name: x, type: text, label: X, show_if: {field: art, equals: a}} #!" + RADIO),
        ConditionError,
        "show_if",
        "das erst später oder im selben Teil gefragt wird",
        id="show-if-later-field",
    ),
    pytest.param(
        form_yaml(
            RADIO,
            extra_steps="""
            - name: zwei
              title: Zwei
              show_if: {field: b2, is_true: true} #!
              fieldsets:
                - name: zwei
                  fields:
                    - {name: b2, type: checkbox, label: B}
            """,
        ),
        ConditionError,
        "show_if",
        "Schritt „zwei“: „show_if“ bezieht sich auf das Feld „b2“",
        id="step-show-if-on-its-own-field",
    ),
    pytest.param(
        form_yaml("- {name: plz, type: text, label: PLZ, pattern: '[0-9'} #!"),
        PatternError,
        "pattern",
        "der reguläre Ausdruck „[0-9“ ist ungültig",
        id="invalid-regex",
    ),
    pytest.param(
        form_yaml(
            RADIO,
            extra_steps="""
            - name: zwei
              title: Zwei
              show_if: {field: art, equals: c} #!
              fieldsets:
                - name: zwei
                  fields:
                    - {name: b2, type: text, label: B}
            """,
        ),
        ConditionError,
        "show_if",
        "wird nie angezeigt – das Feld „art“ hat keine Option „c“ (Optionen: a, b)",
        id="step-that-never-shows",
    ),
    pytest.param(
        form_yaml(RADIO + "- {name: x, type: text, label: X, show_if: {field: art, is_true: true}} #!"),
        ConditionError,
        "show_if",
        "„is_true“ passt nur zu Feldern vom Typ „checkbox“",
        id="is-true-on-choice-field",
    ),
    pytest.param(
        form_yaml(
            "- {name: x, type: checkbox, label: X}\n- {name: y, type: text, label: Y, show_if: {field: x}} #!"
        ),
        ConditionError,
        "show_if",
        "genau eine Prüfung angeben",
        id="condition-without-operator",
    ),
    pytest.param(
        form_yaml(
            "- {name: x, type: checkbox, label: X}\n"
            "- {name: y, type: text, label: Y, show_if: {field: x, is_true: false}} #!"
        ),
        ConditionError,
        "is_true",
        "„is_true“ wird als „is_true: true“ geschrieben",
        id="is-true-false",
    ),
    pytest.param(
        form_yaml(
            """
            - name: art
              type: select
              label: Art
              options:
                - {value: a, label: A}
                - {value: a, label: Auch A} #!
            """
        ),
        DuplicateNameError,
        "value",
        "der Optionswert „a“ kommt doppelt vor (zuerst in Zeile 16)",
        id="duplicate-option-value",
    ),
    pytest.param(
        form_yaml(
            "- {name: anzahl, type: integer, label: Anzahl}",
            head=SERVICE_HEAD + "fees:\n  rules:\n    - {label: Gebühr, amount: '5.00', per: anzal} #!\n",
        ),
        FeeRuleError,
        "per",
        "„per“ nennt das unbekannte Feld „anzal“ – meinten Sie „anzahl“?",
        id="fee-rule-unknown-field",
    ),
    pytest.param(
        form_yaml(
            "- {name: name, type: text, label: Name}",
            head=SERVICE_HEAD + "fees:\n  rules:\n    - {label: Gebühr, amount: '5.00', per: name} #!\n",
        ),
        FeeRuleError,
        "per",
        "„per“ braucht ein Feld, das eine Anzahl ergibt",
        id="fee-rule-per-needs-a-count",
    ),
    pytest.param(
        form_yaml(
            "- {name: name, type: text, label: Name}",
            head=SERVICE_HEAD
            + "fees:\n  rules:\n    - {label: G, amount: '5', when: {field: eil, is_true: true}} #!\n",
        ),
        ConditionError,
        "when",
        "„when“ bezieht sich auf das Feld „eil“, das es in diesem Formular nicht gibt",
        id="fee-rule-condition-on-unknown-field",
    ),
    pytest.param(
        form_yaml("- {name: x, type: dropdown, label: X} #!"),
        InvalidValueError,
        "type",
        "unbekannter Feldtyp „dropdown“",
        id="unknown-field-type",
    ),
    pytest.param(
        "title: T\nshort_text: S\noffice_kind: buergramt #!\ntopic: X\nonline: false\n",
        InvalidValueError,
        "office_kind",
        "unbekannte Amtsart „buergramt“ – meinten Sie „buergeramt“?",
        id="unknown-office-kind",
    ),
    pytest.param(
        SERVICE_HEAD
        + "form:\n  steps: #!\n    - name: a\n      title: A\n      fieldsets:\n        - name: a\n"
        + "          fields:\n            - {name: x, type: text, label: X}\n",
        MissingKeyError,
        "steps",
        "es fehlt ein Feld vom Typ „consent“",
        id="form-without-consent",
    ),
    pytest.param(
        SERVICE_HEAD + "online: true #!\n",
        MissingKeyError,
        "form",
        "ein Online-Dienst (online: true) braucht ein Formular",
        id="online-without-form",
    ),
    pytest.param(
        form_yaml("- {name: d, type: date, label: D, max: -18 Jahre} #!"),
        InvalidValueError,
        "max",
        "„max: -18 Jahre“ ist kein gültiges Datum",
        id="invalid-date-bound",
    ),
    pytest.param(
        form_yaml("- {name: t, type: text, label: T, min_length: 20, max_length: 10} #!"),
        InvalidValueError,
        "min_length",
        "ist größer als „max_length“",
        id="min-length-over-max-length",
    ),
    pytest.param(
        form_yaml("- {name: t, type: text, label: T, autocomplete: given_name} #!"),
        InvalidValueError,
        "autocomplete",
        "meinten Sie „given-name“?",
        id="invalid-autocomplete",
    ),
    pytest.param(
        form_yaml("- name: f\n  type: file\n  label: F\n  accept:\n    - application/word #!"),
        InvalidValueError,
        "accept",
        "„application/word“ ist kein Dateityp, den das Portal am Inhalt erkennt",
        id="unknown-media-type",
    ),
    pytest.param(
        form_yaml("- {name: f, type: file, label: F, max_files: 3} #!"),
        InvalidValueError,
        "max_files",
        "„max_files“ gilt nur zusammen mit „multiple: true“",
        id="max-files-without-multiple",
    ),
    pytest.param(
        form_yaml("- {name: ok, type: consent, label: OK, required: false} #!"),
        InvalidValueError,
        "required",
        "eine Einwilligung ist immer Pflicht",
        id="optional-consent",
    ),
    pytest.param(
        SERVICE_HEAD + "leika_key: '9910' #!\nonline: false\n",
        InvalidValueError,
        "leika_key",
        "ist kein LeiKa-Schlüssel (14 Ziffern)",
        id="invalid-leika-key",
    ),
    pytest.param(
        form_yaml("- {name: data, type: text, label: Daten} #!"),
        InvalidValueError,
        "name",
        "„data“ ist als Feldname reserviert",
        id="reserved-field-name",
    ),
    pytest.param(
        form_yaml("- {name: Vor-Name, type: text, label: Vorname} #!"),
        InvalidValueError,
        "name",
        "der Name „Vor-Name“ ist ungültig",
        id="invalid-field-name",
    ),
    pytest.param(
        "title: T\nshort_text: [offen #!\n",
        YamlSyntaxError,
        "",
        "kein gültiges YAML",
        id="yaml-syntax",
    ),
]


#: Cases whose error cannot sit on a marked line: YAML reports an unclosed list at the end.
LINE_AT_END = {"yaml-syntax": 3}


def _expected_line(text: str, request: pytest.FixtureRequest) -> int:
    case = request.node.callspec.id
    if case in LINE_AT_END:
        return LINE_AT_END[case]
    lines = text.splitlines()
    return next(index for index, line in enumerate(lines, start=1) if line.rstrip().endswith("#!"))


@pytest.mark.parametrize(("text", "kind", "key", "fragment"), CASES)
def test_lint_names_file_line_and_key(
    tmp_path: Path, request: pytest.FixtureRequest, text: str, kind: type[SpecError], key: str, fragment: str
) -> None:
    forms = tmp_path / "forms"
    (forms / "catalogue").mkdir(parents=True)
    (forms / "catalogue" / "testdienst.yaml").write_text(dedent(text), encoding="utf-8")
    errors = lint_paths([forms])
    matching = [error for error in errors if isinstance(error, kind) and fragment in error.message]
    assert matching, f"expected {kind.__name__} with {fragment!r}, got: {[str(e) for e in errors]}"
    error = matching[0]
    assert error.file == "forms/catalogue/testdienst.yaml"
    assert error.line == _expected_line(dedent(text), request)
    assert error.key == key
    assert str(error).startswith(f"forms/catalogue/testdienst.yaml:{error.line}: ")


def test_every_mistake_of_a_file_is_reported_not_just_the_first(tmp_path: Path) -> None:
    forms = tmp_path / "forms"
    (forms / "catalogue").mkdir(parents=True)
    text = form_yaml(
        "- {name: a, type: text, lable: A, max_length: x}\n- {name: b, type: dropdown, label: B}"
    )
    (forms / "catalogue" / "testdienst.yaml").write_text(text, encoding="utf-8")
    kinds = {type(error) for error in lint_paths([forms])}
    assert {UnknownKeyError, WrongTypeError, InvalidValueError} <= kinds


def test_a_broken_file_is_skipped_and_the_rest_load(tmp_path: Path) -> None:
    """load_catalogue never raises for a bad file: the service is skipped, its errors collected."""
    forms = tmp_path / "forms"
    (forms / "catalogue").mkdir(parents=True)
    (forms / "catalogue" / "gut.yaml").write_text(SERVICE_HEAD + "online: false\n", encoding="utf-8")
    (forms / "catalogue" / "kaputt.yaml").write_text("title: [\n", encoding="utf-8")
    (forms / "catalogue" / "leer.yaml").write_text("", encoding="utf-8")
    (forms / "catalogue" / "liste.yaml").write_text("- a\n- b\n", encoding="utf-8")
    (forms / "catalogue" / "binär.yaml").write_bytes(b"\xff\xfe\x00title")
    catalogue = load_catalogue(forms)
    assert list(catalogue.services) == ["gut"]
    assert {error.file for error in catalogue.errors} == {
        "forms/catalogue/kaputt.yaml",
        "forms/catalogue/leer.yaml",
        "forms/catalogue/liste.yaml",
        "forms/catalogue/binär.yaml",
    }


def test_lint_of_a_single_file_checks_it_within_its_forms_folder(tmp_path: Path) -> None:
    forms = tmp_path / "forms"
    (forms / "catalogue").mkdir(parents=True)
    (forms / "catalogue" / "gut.yaml").write_text(SERVICE_HEAD + "online: false\n", encoding="utf-8")
    (forms / "catalogue" / "schlecht.yaml").write_text(SERVICE_HEAD + "onlin: false\n", encoding="utf-8")
    assert lint_paths([forms / "catalogue" / "gut.yaml"]) == []
    errors = lint_paths([forms / "catalogue" / "schlecht.yaml"])
    assert [error.key for error in errors] == ["onlin"]


def test_lint_of_a_missing_path_is_an_error(tmp_path: Path) -> None:
    errors = lint_paths([tmp_path / "gibt-es-nicht.yaml"])
    assert len(errors) == 1 and "existiert nicht" in errors[0].message
