"""Every step of every shipped form, the check page, the confirmation and the status page
pass axe-core; a citizen walks from the portal home to the status page in German and Polish,
making a mistake on the way and correcting it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from e2e_support import LANGUAGES, Portal, check_accessible, check_reflows
from form_walk import press_continue, walk_form

from app.formspec import load_catalogue
from app.formspec.model import ServiceSpec

pytestmark = pytest.mark.e2e

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"
#: Every service of the catalogue that has an online form.
SHIPPED_FORMS = sorted(slug for slug, spec in load_catalogue(FORMS_DIR).services.items() if spec.form)
#: The service of the citizen's walk: several steps, a date, an address, choices.
WALK_SERVICE = "hund-anmelden"


def submit_and_follow(page: Any, portal: Portal, label: str) -> None:
    """Check page → submit → confirmation → status page, each checked by axe."""
    check_accessible(page, f"{label} check page")
    press_continue(page)
    assert "/confirmation" in page.url, f"{label}: submitting led to {page.url}"
    reference = page.locator(".panel-confirmation strong").inner_text().strip()
    assert reference, f"{label}: no reference number on the confirmation page"
    check_accessible(page, f"{label} confirmation")
    status_link = page.locator("main a[href*='/status/'][href*='token=']:not([download])").first
    with page.expect_navigation():
        status_link.click()
    assert reference in page.locator("main").inner_text()
    check_accessible(page, f"{label} status page")


@pytest.mark.parametrize("service", SHIPPED_FORMS)
def test_every_step_of_the_form_is_accessible(
    page: Any, portal: Portal, offers: dict[str, tuple[str, ServiceSpec]], service: str
) -> None:
    assert service in offers, f"no demo commune offers {service} online (app/catalogue/demo.py)"
    commune, spec = offers[service]
    response = page.goto(portal.href(f"/{commune}/services/{service}/apply", "de"))
    assert response is not None and response.ok, f"{service}: {response and response.status}"
    walk_form(page, spec, service, make_mistake=False)
    submit_and_follow(page, portal, service)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_citizen_walks_from_portal_home_to_status_page(
    page: Any, portal: Portal, offers: dict[str, tuple[str, ServiceSpec]], lang: str
) -> None:
    commune, spec = offers[WALK_SERVICE]
    page.goto(portal.href("/", lang))
    with page.expect_navigation():
        page.locator(f"main a[href='/{commune}/']").click()
    with page.expect_navigation():
        page.locator(f"a[href='/{commune}/services/']").first.click()
    with page.expect_navigation():
        page.locator(f"main a[href^='/{commune}/services/{WALK_SERVICE}']").first.click()
    with page.expect_navigation():
        page.locator(f"main a[href*='/services/{WALK_SERVICE}/apply']").first.click()
    assert page.locator("html").get_attribute("lang") == lang
    walk_form(page, spec, f"walk {WALK_SERVICE} ({lang})", make_mistake=True)
    submit_and_follow(page, portal, f"walk {WALK_SERVICE} ({lang})")
    assert page.locator("html").get_attribute("lang") == lang


def test_form_pages_reflow_at_400_percent_zoom(
    narrow_page: Any, portal: Portal, offers: dict[str, tuple[str, ServiceSpec]]
) -> None:
    """Every step (with its error state) and the check page need no sideways scrolling at 320 px."""
    commune, spec = offers[WALK_SERVICE]
    narrow_page.goto(portal.href(f"/{commune}/services/{WALK_SERVICE}/apply", "pl"))
    walk_form(narrow_page, spec, f"reflow {WALK_SERVICE}", make_mistake=True, check=check_reflows)
    check_reflows(narrow_page, f"reflow {WALK_SERVICE} check page")
