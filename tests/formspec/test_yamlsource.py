"""Reading YAML with locations: values as YAML 1.1 reads them, locations per key and item."""

from __future__ import annotations

from pathlib import Path

from app.formspec import load_catalogue
from app.formspec.yamlsource import LocatedDict, LocatedList, read_yaml

from .builders import SERVICE_HEAD, dedent


def test_plain_and_quoted_texts_keep_their_types_whatever_was_read_before() -> None:
    # The resolver remembers the tag of each plain text; quoted text is always a string.
    first, _ = read_yaml("a: 123\nb: yes\nc: ~\nd: 1.5\ne: text\n", "eins.yaml")
    second, _ = read_yaml("a: '123'\nb: 'yes'\nc: '~'\nd: '1.5'\ne: 'text'\n", "zwei.yaml")
    third, _ = read_yaml("a: 123\nb: yes\nc: ~\nd: 1.5\ne: text\n", "drei.yaml")
    assert first == third == {"a": 123, "b": True, "c": None, "d": 1.5, "e": "text"}
    assert second == {"a": "123", "b": "yes", "c": "~", "d": "1.5", "e": "text"}


def test_times_and_dates_stay_text() -> None:
    data, errors = read_yaml("ab: 18:30\nam: 2026-05-01\nzahl: 1_000\n", "x.yaml")
    assert errors == []
    assert data == {"ab": "18:30", "am": "2026-05-01", "zahl": 1000}


def test_every_key_and_item_knows_its_file_and_line() -> None:
    data, _ = read_yaml(
        dedent(
            """\
            title: Test
            fields:
              - {name: a, type: text}
              - name: b
                type: date
            """
        ),
        "forms/catalogue/test.yaml",
    )
    assert isinstance(data, LocatedDict)
    assert (data.where("fields").file, data.where("fields").line) == ("forms/catalogue/test.yaml", 2)
    fields = data["fields"]
    assert isinstance(fields, LocatedList)
    assert [fields.where(0).line, fields.where(1).line] == [3, 4]
    assert fields[0].where("type").line == 3 and fields[1].where("type").line == 5
    assert data.where("missing") == data.location


def test_merge_keys_are_resolved_and_duplicates_reported() -> None:
    data, errors = read_yaml(
        dedent(
            """\
            basis: &basis {type: text, label: Name}
            feld:
              <<: *basis
              name: vorname
            doppelt: 1
            doppelt: 2
            """
        ),
        "x.yaml",
    )
    assert data["feld"] == {"type": "text", "label": "Name", "name": "vorname"}
    assert [(error.line, error.key) for error in errors] == [(6, "doppelt")]
    assert "zuerst in Zeile 5" in errors[0].message


def test_a_binary_value_stays_text_so_that_the_file_is_reported_not_fatal(tmp_path: Path) -> None:
    data, errors = read_yaml("legal_basis: !!binary aGVsbG8=\nzahl: !!int '7'\n", "x.yaml")
    assert errors == [] and data == {"legal_basis": "aGVsbG8=", "zahl": 7}
    forms = tmp_path / "forms"
    (forms / "catalogue").mkdir(parents=True)
    (forms / "catalogue" / "binaer.yaml").write_text(
        SERVICE_HEAD + "online: false\nlegal_basis: !!binary aGVsbG8=\n", encoding="utf-8"
    )
    catalogue = load_catalogue(forms)
    assert [(error.file, error.line, error.key) for error in catalogue.errors] == [
        ("forms/catalogue/binaer.yaml", 6, "legal_basis")
    ]
