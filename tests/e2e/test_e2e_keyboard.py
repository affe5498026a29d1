"""The portal by keyboard alone: the skip link, the language switcher, and a whole form
from the first field to the confirmation, with Tab, typing, arrows, Space and Enter."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from e2e_support import Portal
from form_walk import answer_for

from app.formspec.model import FieldType, ServiceSpec

pytestmark = pytest.mark.e2e

#: A form without a required upload (a file chooser cannot be operated headless).
KEYBOARD_SERVICE = "kontakt"
MAX_TAB_STOPS = 120
FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return {
    tag: el.tagName.toLowerCase(), type: (el.type || '').toLowerCase(), name: el.name || '',
    value: el.value || '', checked: !!el.checked, text: (el.innerText || '').trim(),
    inForm: !!el.closest('main form'), id: el.id || '', className: el.className || '',
    outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
    shadow: style.boxShadow !== 'none',
  };
}"""


def focused(page: Any) -> dict[str, Any]:
    return page.evaluate(FOCUSED)


def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(page: Any, portal: Portal) -> None:
    page.goto(portal.href(portal.pages["commune home"], "de"))
    page.keyboard.press("Tab")
    first = focused(page)
    assert "skip-link" in first["className"], f"first tab stop is {first}"
    box = page.locator(".skip-link").bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0, "the focused skip link is off screen"
    assert first["outline"] or first["shadow"], "the skip link shows no focus"
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main"
    page.keyboard.press("Tab")
    in_main = page.evaluate("() => !!document.activeElement.closest('main')")
    assert in_main, "the first Tab after the skip link does not land in main"


def test_language_switcher_works_by_keyboard_and_is_remembered(page: Any, portal: Portal) -> None:
    page.goto(portal.href(portal.pages["commune home"], "de"))
    for _ in range(MAX_TAB_STOPS):
        page.keyboard.press("Tab")
        stop = focused(page)
        if stop["tag"] == "a" and stop["text"] == "Polski":
            break
    else:
        pytest.fail("the language switcher's Polski link cannot be reached with Tab")
    assert stop["outline"] or stop["shadow"], "the focused language link shows no focus"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("html").get_attribute("lang") == "pl"
    page.goto(portal.href(portal.pages["news list"]))
    assert page.locator("html").get_attribute("lang") == "pl", "the chosen language was not remembered"


def _answers(spec: ServiceSpec, step_name: str) -> dict[str, Any]:
    assert spec.form is not None
    step = spec.form.step(step_name)
    assert step is not None
    today = dt.date.today()
    return {f.name: answer_for(f, today) for f in step.fields() if f.required and f.takes_answer}


def _operate(page: Any, stop: dict[str, Any], answer: Any, part: str | None) -> None:
    """Gives the focused control its answer with the keys a keyboard user presses."""
    if stop["type"] == "radio":
        for _ in range(20):
            if focused(page)["value"] == answer:
                break
            page.keyboard.press("ArrowDown")
        page.keyboard.press("Space")
    elif stop["type"] == "checkbox":
        wanted = stop["value"] in answer if isinstance(answer, list) else bool(answer)
        if wanted and not stop["checked"]:
            page.keyboard.press("Space")
    elif stop["tag"] == "select":
        for _ in range(50):
            if focused(page)["value"] == answer:
                break
            page.keyboard.press("ArrowDown")
        assert focused(page)["value"] == answer, f"could not choose {answer!r} with the arrow keys"
    elif stop["type"] != "file":
        page.keyboard.type(answer[part] if isinstance(answer, dict) else str(answer))


def keyboard_step(page: Any, answers: dict[str, Any]) -> None:
    """Tabs through the form on the page, answering, until its main button; presses Enter there."""
    for _ in range(MAX_TAB_STOPS):
        page.keyboard.press("Tab")
        stop = focused(page)
        if not stop["inForm"]:
            continue
        if stop["tag"] == "button" and not stop["name"]:
            with page.expect_navigation():
                page.keyboard.press("Enter")
            return
        name, _, part = stop["name"].partition("-")
        if stop["name"] in answers:
            name, part = stop["name"], ""
        if name in answers:
            _operate(page, stop, answers[name], part or None)
    pytest.fail(f"no main button reached by Tab on {page.url}")


def test_a_form_can_be_filled_and_sent_with_the_keyboard_alone(
    page: Any, portal: Portal, offers: dict[str, tuple[str, ServiceSpec]]
) -> None:
    assert KEYBOARD_SERVICE in offers, f"no demo commune offers {KEYBOARD_SERVICE}"
    commune, spec = offers[KEYBOARD_SERVICE]
    assert spec.form is not None
    assert not any(f.type is FieldType.FILE and f.required for f in spec.form.fields())
    page.goto(portal.href(f"/{commune}/services/{KEYBOARD_SERVICE}/apply", "de"))
    for step in spec.form.steps:
        assert f"/apply/{step.name}" in page.url, f"expected step {step.name}, at {page.url}"
        keyboard_step(page, _answers(spec, step.name))
    assert page.url.split("?")[0].endswith("/check"), f"the keyboard walk ended at {page.url}"
    keyboard_step(page, {})
    assert "/confirmation" in page.url, f"sending with Enter led to {page.url}"
    assert page.locator(".panel-confirmation").is_visible()
