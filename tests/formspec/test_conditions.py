"""show_if on steps, fieldsets and fields: hidden parts are neither validated nor stored."""

from __future__ import annotations

import pytest

from app.formspec import (
    ServiceSpec,
    clean_answers,
    is_visible,
    missing_steps,
    step_answers,
    visible_fields,
    visible_steps,
)

from .builders import bound, errors_of, service_with

FORM = """
- name: art
  type: radio
  label: Art
  options: [{value: privat, label: Privat}, {value: firma, label: Firma}]
- {name: firma, type: text, label: Firma, show_if: {field: art, equals: firma}}
- {name: eilig, type: checkbox, label: Eilig}
- {name: grund, type: text, label: Grund der Eile, show_if: {field: eilig, is_true: true}}
- {name: ruhig, type: text, label: Ruhig, required: false, show_if: {field: eilig, is_false: true}}
- name: themen
  type: multicheckbox
  label: Themen
  required: false
  options: [{value: a, label: A}, {value: b, label: B}, {value: c, label: C}]
- {name: zu_a, type: text, label: Zu A, show_if: {field: themen, equals: a}}
- {name: zu_bc, type: text, label: Zu B oder C, show_if: {field: themen, one_of: [b, c]}}
"""

STEPS = """
- name: firmendaten
  title: Firmendaten
  show_if: {field: art, equals: firma}
  fieldsets:
    - name: register
      fields:
        - {name: register, type: text, label: Registernummer}
    - name: steuer
      legend: Steuer
      show_if: {field: eilig, is_true: true}
      fields:
        - {name: steuernummer, type: text, label: Steuernummer}
"""


@pytest.fixture(scope="module")
def service() -> ServiceSpec:
    return service_with(FORM, extra_steps=STEPS)


def test_a_hidden_field_is_neither_validated_nor_stored(service: ServiceSpec) -> None:
    form = bound(service, "angaben", {"art": "privat", "firma": "Eingeschmuggelt GmbH", "ruhig": "ja"})
    assert form.validate(), errors_of(form)
    answers = step_answers(service, "angaben", form, {})
    assert answers == {"art": "privat", "eilig": False, "ruhig": "ja"}


def test_a_shown_field_is_validated(service: ServiceSpec) -> None:
    form = bound(service, "angaben", {"art": "firma", "eilig": "y"})
    assert not form.validate()
    assert errors_of(form) == {
        "firma": ["Geben Sie „Firma“ an."],
        "grund": ["Geben Sie „Grund der Eile“ an."],
    }


def test_is_false_shows_when_the_checkbox_is_not_ticked(service: ServiceSpec) -> None:
    form = bound(service, "angaben", {"art": "privat", "eilig": "y", "grund": "Frist", "ruhig": "x"})
    assert form.validate()
    assert "ruhig" not in step_answers(service, "angaben", form, {})


def test_equals_and_one_of_on_a_multicheckbox(service: ServiceSpec) -> None:
    data = [("art", "privat"), ("themen", "a"), ("themen", "c")]
    from werkzeug.datastructures import MultiDict

    form = bound(service, "angaben", MultiDict(data))
    assert not form.validate()
    assert set(errors_of(form)) == {"zu_a", "zu_bc"}


def test_a_step_shows_only_when_its_condition_holds(service: ServiceSpec) -> None:
    assert [step.name for step in visible_steps(service.form, {"art": "privat"})] == ["angaben", "abschluss"]
    names = [step.name for step in visible_steps(service.form, {"art": "firma"})]
    assert names == ["angaben", "firmendaten", "abschluss"]


def test_a_fieldset_condition_hides_its_fields(service: ServiceSpec) -> None:
    visible = [field.name for field in visible_fields(service.form, {"art": "firma", "eilig": False})]
    assert "register" in visible and "steuernummer" not in visible
    form = bound(service, "firmendaten", {"register": "HRB 1"}, answers={"art": "firma", "eilig": False})
    assert form.validate()
    assert step_answers(service, "firmendaten", form, {"art": "firma", "eilig": False}) == {
        "register": "HRB 1"
    }
    form = bound(service, "firmendaten", {"register": "HRB 1"}, answers={"art": "firma", "eilig": True})
    assert not form.validate() and set(errors_of(form)) == {"steuernummer"}


def test_layout_omits_parts_hidden_by_earlier_steps_and_keeps_those_of_this_step(
    service: ServiceSpec,
) -> None:
    form = bound(service, "firmendaten", None, answers={"art": "firma", "eilig": False})
    assert [fieldset.name for fieldset, _ in form.layout()] == ["register"]
    form = bound(service, "angaben", None)
    names = [field.name for _, fields in form.layout() for field in fields]
    assert "firma" in names, "a field depending on this step is rendered; the script hides it"
    assert form.condition_of("firma").field == "art"
    assert form.condition_of("art") is None


def test_posting_to_a_hidden_step_stores_nothing(service: ServiceSpec) -> None:
    """A step reached by editing the URL although the answers hide it yields no answers."""
    answers = {"art": "privat", "eilig": False}
    form = bound(service, "firmendaten", {"register": "HRB 1"}, answers=answers)
    assert form.validate()
    assert step_answers(service, "firmendaten", form, answers) == {}


def test_clean_answers_drops_what_a_change_hid_and_unknown_keys(service: ServiceSpec) -> None:
    answers = {"art": "privat", "firma": "Alt GmbH", "eilig": False, "register": "HRB 1", "admin": True}
    assert clean_answers(service, answers) == {"art": "privat", "eilig": False}


def test_a_condition_on_a_hidden_field_hides_its_dependants(service: ServiceSpec) -> None:
    """steuernummer depends on eilig; with art=privat its whole step is hidden anyway."""
    answers = {"art": "privat", "eilig": True, "grund": "x", "register": "r", "steuernummer": "s"}
    assert clean_answers(service, answers) == {"art": "privat", "eilig": True, "grund": "x"}


def test_missing_steps_names_visible_steps_with_missing_required_answers(service: ServiceSpec) -> None:
    assert missing_steps(service, {}) == ["angaben", "abschluss"]
    answers = {"art": "firma", "firma": "F", "eilig": False}
    assert missing_steps(service, answers) == ["firmendaten", "abschluss"]
    answers |= {"register": "HRB 1", "datenschutz": True}
    assert missing_steps(service, answers) == []
    assert missing_steps(service, answers | {"eilig": True, "grund": "g"}) == ["firmendaten"]


def test_is_visible_checks_only_the_parts_own_condition(service: ServiceSpec) -> None:
    firma = service.form.field("firma")
    assert is_visible(firma, {"art": "firma"})
    assert not is_visible(firma, {"art": "privat"})
    assert not is_visible(firma, {})
