"""Fees computed from answers: fixed, per chosen option, per count, Decimal to the cent."""

from __future__ import annotations

from decimal import Decimal

from app.formspec import FeeLine, ServiceSpec, compute_fees, load_catalogue

from .builders import FORMS_DIR, SERVICE_HEAD, service_with

FEES = (
    SERVICE_HEAD
    + """\
fees:
  text: Gebühren laut Satzung.
  rules:
    - {label: Grundgebühr, amount: "25.00"}
    - {label: je Ausfertigung, amount: "6.50", per: anzahl}
    - {label: Eilzuschlag, amount: "10", when: {field: eilig, is_true: true}}
    - {label: je Anlage, amount: "1.10", per: anlagen}
"""
)

FIELDS = """
- {name: anzahl, type: integer, label: Anzahl, min: 0, max: 10}
- {name: eilig, type: checkbox, label: Eilig}
- name: art
  type: select
  label: Art
  options:
    - {value: einfach, label: Einfache Urkunde, fee: "12.00"}
    - {value: international, label: Internationale Urkunde, fee: "15.5"}
- name: extras
  type: multicheckbox
  label: Extras
  required: false
  options:
    - {value: beglaubigung, label: Beglaubigung, fee: "3.00"}
    - {value: versand, label: Versand, fee: "2.00"}
    - {value: nichts, label: Nichts}
- {name: anlagen, type: file, label: Anlagen, multiple: true, required: false}
"""


def _service() -> ServiceSpec:
    return service_with(FIELDS, head=FEES)


def test_fees_add_up_fixed_count_condition_and_option_amounts() -> None:
    service = _service()
    answers = {"anzahl": 3, "eilig": True, "art": "international", "extras": ["beglaubigung", "versand"]}
    result = compute_fees(service, answers)
    assert result.lines == (
        FeeLine("Grundgebühr", Decimal("25.00")),
        FeeLine("je Ausfertigung", Decimal("19.50")),
        FeeLine("Eilzuschlag", Decimal("10.00")),
        FeeLine("Internationale Urkunde", Decimal("15.50")),
        FeeLine("Beglaubigung", Decimal("3.00")),
        FeeLine("Versand", Decimal("2.00")),
    )
    assert result.total == Decimal("75.00")
    assert all(isinstance(line.amount, Decimal) for line in result.lines)


def test_rules_that_do_not_apply_add_nothing() -> None:
    result = compute_fees(_service(), {"anzahl": 0, "eilig": False, "art": "einfach"})
    assert [line.label for line in result.lines] == ["Grundgebühr", "Einfache Urkunde"]
    assert result.total == Decimal("37.00")


def test_per_counts_uploaded_files() -> None:
    files = [{"filename": f"{index}.pdf"} for index in range(3)]
    result = compute_fees(_service(), {"anlagen": files})
    assert FeeLine("je Anlage", Decimal("3.30")) in result.lines


def test_hidden_answers_do_not_cost() -> None:
    service = service_with(
        """
        - {name: express, type: checkbox, label: Express}
        - name: zustellung
          type: radio
          label: Zustellung
          show_if: {field: express, is_true: true}
          options: [{value: kurier, label: Kurier, fee: "20.00"}]
        """
    )
    assert compute_fees(service, {"express": False, "zustellung": "kurier"}).total == Decimal("0.00")
    assert compute_fees(service, {"express": True, "zustellung": "kurier"}).total == Decimal("20.00")


def test_a_service_without_fees_costs_nothing() -> None:
    service = service_with("- {name: a, type: text, label: A}")
    result = compute_fees(service, {"a": "x"})
    assert result.lines == () and result.total == Decimal("0.00")


def test_shipped_dog_tax_differs_in_werneuchen() -> None:
    catalogue = load_catalogue(FORMS_DIR)
    answers = {"steuerklasse": "erster", "gefaehrlich": False}
    assert compute_fees(catalogue.get("hund-anmelden"), answers).total == Decimal("60.00")
    assert compute_fees(catalogue.get("hund-anmelden", "werneuchen"), answers).total == Decimal("48.00")
