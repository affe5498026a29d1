"""A citizen reads the date and time limits of a step's error messages in the page's language."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from submission_builders import Site, make_site, serving, write_forms

from app.formspec import Catalogue

SLUG = "terminanfrage"
FORM_YAML = """\
title: Terminanfrage
short_text: Ein Antrag mit Datums- und Zeitgrenzen.
office_kind: ordnungsamt
topic: Test
form:
  steps:
    - name: termin
      title: Wunschtermin
      fieldsets:
        - name: termin
          fields:
            - name: tag
              type: date
              label: Wunschtag
              min: "2026-01-01"
              max: "2026-12-31"
            - name: beginn
              type: time
              label: Beginn
              min: "08:00"
              max: "18:00"
    - name: abschluss
      title: Datenschutz
      fieldsets:
        - name: datenschutz
          fields:
            - name: datenschutz
              type: consent
              label: Ich habe die Datenschutzhinweise zur Kenntnis genommen.
"""
TOO_EARLY = {"tag-day": "31", "tag-month": "12", "tag-year": "2025", "beginn": "7:30"}
TOO_LATE = {"tag-day": "1", "tag-month": "1", "tag-year": "2027", "beginn": "18:30"}


@pytest.fixture
def catalogue(app: Flask, tmp_path: Path) -> Iterator[Catalogue]:
    with serving(app, write_forms(tmp_path / "forms", {f"catalogue/{SLUG}.yaml": FORM_YAML})) as served:
        yield served


@pytest.fixture
def site(catalogue: Catalogue) -> Site:
    return make_site(catalogue, services=(SLUG,))


@pytest.mark.parametrize(
    ("lang", "data", "expected"),
    [
        (
            "de",
            TOO_EARLY,
            ("darf nicht vor dem 01.01.2026 liegen.", "muss zwischen 08:00 und 18:00 Uhr liegen."),
        ),
        (
            "en",
            TOO_EARLY,
            ("may not be before Jan 1, 2026.", "must be between 8:00\u202fAM and 6:00\u202fPM."),
        ),
        (
            "en",
            TOO_LATE,
            ("may not be after Dec 31, 2026.", "must be between 8:00\u202fAM and 6:00\u202fPM."),
        ),
        (
            "pl",
            TOO_EARLY,
            ("nie może być wcześniejsza niż 1 sty 2026.", "musi być między 08:00 a 18:00."),
        ),
        (
            "pl",
            TOO_LATE,
            ("nie może być późniejsza niż 31 gru 2026.", "musi być między 08:00 a 18:00."),
        ),
        ("dsb", TOO_LATE, ("njesmějo pó 31.12.2026 byś.", "musy mjazy 8:00 a 18:00 góź. byś.")),
    ],
)
def test_date_and_time_limits_in_errors_follow_the_language(
    client: FlaskClient, site: Site, lang: str, data: dict[str, str], expected: tuple[str, str]
) -> None:
    response = client.post(f"{site.base}/{SLUG}/apply/termin?lang={lang}", data=data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for message in expected:
        # Once in the error summary, once at the field.
        assert page.count(message) == 2, message
