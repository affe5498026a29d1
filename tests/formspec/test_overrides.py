"""A commune's overrides (extends) and own services."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from app.formspec import ExtendsError, FieldType, load_catalogue

from .builders import FORMS_DIR, SERVICE_HEAD, dedent, form_yaml

BASE = form_yaml(
    """
    - {name: vorname, type: text, label: Vorname}
    - {name: nachname, type: text, label: Nachname}
    - {name: telefon, type: phone, label: Telefon, required: false}
    """,
    head=SERVICE_HEAD + "fees:\n  text: 10 Euro.\n  rules:\n    - {label: Gebühr, amount: '10.00'}\n",
)


def _forms(tmp_path: Path, override: str, *, commune: str = "werneuchen", name: str = "testdienst") -> Path:
    forms = tmp_path / "forms"
    (forms / "catalogue").mkdir(parents=True)
    (forms / commune).mkdir()
    (forms / "catalogue" / "testdienst.yaml").write_text(BASE, encoding="utf-8")
    (forms / commune / f"{name}.yaml").write_text(dedent(override), encoding="utf-8")
    return forms


def test_override_changes_fees_texts_office_and_adds_and_drops_fields(tmp_path: Path) -> None:
    forms = _forms(
        tmp_path,
        """
        extends: testdienst
        title: Testdienst in Werneuchen
        office_kind: hauptamt
        fees:
          text: 12 Euro.
          rules:
            - {label: Gebühr, amount: "12.00"}
        drop_fields: [telefon]
        change_fields:
          nachname: {label: Familienname, hint: Wie im Ausweis.}
        add_fields:
          - step: angaben
            fieldset: angaben
            after: vorname
            fields:
              - {name: rufname, type: text, label: Rufname, required: false}
          - step: angaben
            fieldset: angaben
            fields:
              - {name: geburtstag, type: date, label: Geburtstag}
        """,
    )
    catalogue = load_catalogue(forms)
    assert catalogue.errors == []
    base = catalogue.get("testdienst")
    local = catalogue.get("testdienst", "werneuchen")
    assert base.title == "Testdienst" and local.title == "Testdienst in Werneuchen"
    assert local.office_kind == "hauptamt" and local.commune == "werneuchen" and local.extends == "testdienst"
    assert local.fees.rules[0].amount == Decimal("12.00")
    names = [field.name for field in local.form.step("angaben").fields()]
    assert names == ["vorname", "rufname", "nachname", "geburtstag"]
    assert local.form.field("nachname").label == "Familienname"
    assert local.form.field("nachname").hint == "Wie im Ausweis."
    assert local.form.field("geburtstag").type is FieldType.DATE
    assert local.version != base.version
    assert catalogue.for_commune("werneuchen")["testdienst"] is local
    assert catalogue.for_commune("bernau")["testdienst"] is base


def test_a_commune_may_add_a_service_of_its_own(tmp_path: Path) -> None:
    own = SERVICE_HEAD.replace("title: Testdienst", "title: Nur hier") + "online: false\n"
    forms = _forms(tmp_path, own, name="eigener-dienst")
    catalogue = load_catalogue(forms)
    assert catalogue.errors == []
    assert "eigener-dienst" not in catalogue.services
    assert catalogue.get("eigener-dienst", "werneuchen").title == "Nur hier"


def test_extends_of_a_missing_service_names_the_line(tmp_path: Path) -> None:
    forms = _forms(tmp_path, "# Anpassung\nextends: testdiensd\n")
    catalogue = load_catalogue(forms)
    assert catalogue.get("testdiensd", "werneuchen") is None
    [error] = catalogue.errors
    assert isinstance(error, ExtendsError)
    assert (error.file, error.line, error.key) == ("forms/werneuchen/testdienst.yaml", 2, "extends")
    assert "meinten Sie „testdienst“?" in error.message


@pytest.mark.parametrize(
    ("override", "line", "key", "fragment"),
    [
        (
            "extends: testdienst\ndrop_fields: [vornme]\n",
            2,
            "drop_fields",
            "kein Feld „vornme“ – meinten Sie „vorname“?",
        ),
        (
            "extends: testdienst\nadd_fields:\n  - step: angabe\n    fieldset: angaben\n"
            "    fields: [{name: x, type: text, label: X}]\n",
            3,
            "step",
            "keinen Schritt „angabe“ – meinten Sie „angaben“?",
        ),
        (
            "extends: testdienst\nadd_fields:\n  - step: angaben\n    fieldset: angaben\n    after: vorame\n"
            "    fields: [{name: x, type: text, label: X}]\n",
            5,
            "after",
            "kein Feld „vorame“",
        ),
        (
            "extends: testdienst\nadd_fields:\n  - step: angaben\n    fieldset: angaben\n"
            "    fields:\n      - {name: vorname, type: text, label: Doppelt}\n",
            6,
            "name",
            "der Feldname kommt doppelt vor",
        ),
        (
            "extends: testdienst\nadd_fields:\n  - step: angaben\n    fieldset: angaben\n"
            "    fields:\n      - {name: x, type: txt, label: X}\n",
            6,
            "type",
            "unbekannter Feldtyp „txt“",
        ),
        ("extends: testdienst\ntitel: X\n", 2, "titel", "meinten Sie „title“?"),
    ],
)
def test_mistakes_in_an_override_point_into_the_override_file(
    tmp_path: Path, override: str, line: int, key: str, fragment: str
) -> None:
    catalogue = load_catalogue(_forms(tmp_path, override))
    assert catalogue.get("testdienst", "werneuchen") is catalogue.get("testdienst"), (
        "the broken override is skipped"
    )
    matching = [error for error in catalogue.errors if fragment in error.message]
    assert matching, [str(error) for error in catalogue.errors]
    assert (matching[0].file, matching[0].line, matching[0].key) == (
        "forms/werneuchen/testdienst.yaml",
        line,
        key,
    )


def test_dropping_a_field_others_depend_on_is_refused(tmp_path: Path) -> None:
    forms = tmp_path / "forms"
    (forms / "catalogue").mkdir(parents=True)
    (forms / "w").mkdir()
    (forms / "catalogue" / "basis.yaml").write_text(
        form_yaml(
            """
            - {name: eilig, type: checkbox, label: Eilig}
            - {name: grund, type: text, label: Grund, show_if: {field: eilig, is_true: true}}
            """
        ),
        encoding="utf-8",
    )
    (forms / "w" / "basis.yaml").write_text("extends: basis\ndrop_fields: [eilig]\n", encoding="utf-8")
    [error] = load_catalogue(forms).errors
    assert (error.file, error.line) == ("forms/w/basis.yaml", 2)
    assert "„eilig“ kann nicht entfallen, weil Feld „grund“ davon abhängt" in error.message


def test_shipped_werneuchen_override_adds_one_field_and_changes_the_fee() -> None:
    catalogue = load_catalogue(FORMS_DIR)
    base, local = catalogue.get("hund-anmelden"), catalogue.get("hund-anmelden", "werneuchen")
    base_names = [field.name for field in base.form.fields()]
    local_names = [field.name for field in local.form.fields()]
    assert set(local_names) - set(base_names) == {"haftpflicht"}
    assert local_names.index("haftpflicht") == local_names.index("gefaehrlich") + 1
    assert local.fees != base.fees
