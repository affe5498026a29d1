"""The staff workspace's way in: the login page and, once signed in, the start page, the
inbox and a submission pass axe-core (WCAG 2.1 A and AA)."""

from __future__ import annotations

from typing import Any

import pytest
from e2e_support import LANGUAGES, Portal, check_accessible
from form_walk import press_continue, walk_form

from app.formspec.model import ServiceSpec
from app.staff.demo import ASSOCIATION_ADMIN_EMAIL, DEMO_PASSWORD

pytestmark = pytest.mark.e2e


def _sign_in(page: Any, portal: Portal, email: str) -> None:
    page.goto(portal.href("/staff/login", "de"))
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    assert "/staff/login" not in page.url, f"signing in as {email} failed: {page.url}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_staff_login_page_is_accessible(page: Any, portal: Portal, lang: str) -> None:
    response = page.goto(portal.href("/staff/login", lang))
    assert response is not None and response.ok
    assert page.locator("html").get_attribute("lang") == lang
    check_accessible(page, f"staff login ({lang})")


def test_staff_login_errors_are_accessible(page: Any, portal: Portal) -> None:
    page.goto(portal.href("/staff/login", "de"))
    page.locator("input[name=email]").fill(ASSOCIATION_ADMIN_EMAIL)
    page.locator("input[name=password]").fill("falsches-Passwort-1")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    assert "/staff/login" in page.url
    check_accessible(page, "staff login with an error")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_failed_staff_login_moves_the_focus_to_the_error_summary(
    page: Any, portal: Portal, lang: str
) -> None:
    """WCAG 3.3.1 with the GOV.UK pattern: a screen reader starts at the list of problems."""
    page.goto(portal.href("/staff/login", lang))
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    summary = page.locator("[data-error-summary]")
    summary.wait_for()
    page.wait_for_function("document.activeElement && document.activeElement.matches('[data-error-summary]')")
    assert summary.evaluate("element => element === document.activeElement")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#email"


def test_staff_start_page_is_accessible(page: Any, portal: Portal) -> None:
    _sign_in(page, portal, ASSOCIATION_ADMIN_EMAIL)
    check_accessible(page, "staff start page")


def _not_checked(page: Any, name: str) -> None:
    """The citizen's side is checked elsewhere (test_e2e_forms); here it only makes data."""


def test_staff_inbox_and_submission_are_accessible(
    page: Any, portal: Portal, offers: dict[str, tuple[str, ServiceSpec]]
) -> None:
    commune, spec = offers["kontakt"]
    page.goto(portal.href(f"/{commune}/services/kontakt/apply", "de"))
    walk_form(page, spec, "kontakt for the inbox", make_mistake=False, check=_not_checked)
    press_continue(page)
    assert "/confirmation" in page.url, f"submitting led to {page.url}"
    reference = page.locator(".panel-confirmation strong").inner_text().strip()
    _sign_in(page, portal, ASSOCIATION_ADMIN_EMAIL)
    response = page.goto(portal.href(f"/staff/{commune}/inbox", "de"))
    assert response is not None and response.ok, f"inbox: {response and response.status}"
    assert reference in page.locator("main").inner_text()
    check_accessible(page, "staff inbox")
    response = page.goto(portal.href(f"/staff/{commune}/submissions/{reference}", "de"))
    assert response is not None and response.ok, f"submission page: {response and response.status}"
    check_accessible(page, "staff submission")
