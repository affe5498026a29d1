"""Issue 6, done when: from a fresh demo, a commune admin switches on a new service and routes
it to an office, an editor writes a news item and submits it for review, the admin publishes
it, and it appears on the public site — all through the browser.

Each person works in their own browser tab (own cookies). The editors' screens are checked
with axe-core on the way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from e2e_support import Portal, check_accessible

from app.staff.demo import DEMO_PASSWORD
from app.tenancy.demo import DEMO_COMMUNES

pytestmark = pytest.mark.e2e

#: A demo commune that does not offer every service of the catalogue yet.
COMMUNE = next(demo for demo in DEMO_COMMUNES if demo.slug == "panketal")
ADMIN_EMAIL = f"admin@{COMMUNE.mail_domain}"
EDITOR_EMAIL = f"redaktion@{COMMUNE.mail_domain}"

#: The first service of the catalogue the commune does not offer yet and that has an online form.
FIRST_SERVICE_SWITCHED_OFF = """() => {
  for (const row of document.querySelectorAll("main table tbody tr")) {
    const offered = row.querySelector("td");
    if (!offered || offered.textContent.trim() !== "nein") continue;
    if (row.textContent.includes("Nur Information")) continue;
    const link = row.querySelector("th a");
    if (link) return {href: link.getAttribute("href"), title: link.textContent.trim()};
  }
  return null;
}"""


def _sign_in(page: Any, portal: Portal, email: str) -> None:
    page.goto(portal.href("/staff/login", "de"))
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    assert "/staff/login" not in page.url, f"signing in as {email} failed: {page.url}"


def _new_tab(browser: Any) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE")
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    return tab


def test_admin_routes_a_service_editor_writes_admin_publishes(
    page: Any, browser: Any, portal: Portal
) -> None:
    # The commune admin switches on a service and routes it to an office.
    _sign_in(page, portal, ADMIN_EMAIL)
    page.goto(portal.href(f"/staff/{COMMUNE.slug}/services"))
    service = page.evaluate(FIRST_SERVICE_SWITCHED_OFF)
    assert service is not None, "every online service of the demo commune is already switched on"
    page.goto(portal.href(service["href"]))
    page.get_by_label("Dienst einschalten").check()
    office = page.locator("select[name=office]")
    choices = office.locator("option").evaluate_all("options => options.map(o => o.value)")
    office.select_option(next(value for value in choices if value not in ("", "0")))
    with page.expect_navigation():
        page.locator("main form button[type=submit]", has_text="Speichern").click()
    assert "gespeichert" in page.locator("main").inner_text()
    slug = service["href"].rstrip("/").rsplit("/", 1)[-1]
    public_services = page.goto(portal.href(f"/{COMMUNE.slug}/services/"))
    assert public_services is not None and public_services.ok
    assert page.locator(f"main a[href$='/services/{slug}']").count() >= 1

    # The editor writes a news item, previews it and submits it for review.
    editor = _new_tab(browser)
    try:
        title = f"Neuer Online-Dienst ab {datetime.now():%d.%m.%Y}"
        _sign_in(editor, portal, EDITOR_EMAIL)
        editor.goto(portal.href(f"/staff/{COMMUNE.slug}/content/"))
        check_accessible(editor, "content overview")
        editor.get_by_role("link", name="Neue Nachricht").click()
        editor.get_by_label("Titel").first.fill(title)
        editor.get_by_label("Datum der Nachricht").fill(datetime.now().strftime("%Y-%m-%d"))
        editor.get_by_label("Vorspann").fill("Anträge gehen jetzt auch online.")
        editor.locator("textarea[name=body]").fill(f"## {service['title']}\n\nJetzt **online** beantragen.")
        # The live preview (static/js/markdown-preview.js) follows the text.
        preview = editor.locator("[data-markdown-preview]")
        preview.locator("strong", has_text="online").wait_for()
        check_accessible(editor, "news editor")
        with editor.expect_navigation():
            editor.locator("main form button[value=save]").click()
        assert "gespeichert" in editor.locator("main").inner_text()
        with editor.expect_navigation():
            editor.get_by_role("button", name="Zur Prüfung einreichen").click()
        assert "wartet jetzt auf Prüfung" in editor.locator("main").inner_text()
        assert editor.get_by_role("button", name="Veröffentlichen").count() == 0
    finally:
        editor.context.close()

    # Not public yet.
    visitor = _new_tab(browser)
    try:
        visitor.goto(portal.href(f"/{COMMUNE.slug}/news/"))
        assert title not in visitor.locator("main").inner_text()

        # The admin finds it waiting for review and publishes it.
        page.goto(portal.href(f"/staff/{COMMUNE.slug}/content/review"))
        check_accessible(page, "waiting for review")
        page.get_by_role("link", name=title).click()
        with page.expect_navigation():
            page.get_by_role("button", name="Veröffentlichen").click()
        assert "ist veröffentlicht" in page.locator("main").inner_text()

        # Visitors see it.
        visitor.goto(portal.href(f"/{COMMUNE.slug}/news/"))
        visitor.get_by_role("link", name=title).click()
        assert visitor.locator("h1").inner_text() == title
        assert visitor.locator("main strong", has_text="online").count() == 1
    finally:
        visitor.context.close()


def test_versions_compare_and_restore_a_required_page(page: Any, portal: Portal) -> None:
    """The admin edits the Impressum (checking it with the "Vorschau" button, which renders on
    the server), compares the two versions and restores the first; the history screens pass axe."""
    _sign_in(page, portal, ADMIN_EMAIL)
    page.goto(portal.href(f"/staff/{COMMUNE.slug}/content/"))
    page.get_by_role("link", name="Impressum", exact=True).click()
    body = page.locator("textarea[name=body]")
    original = body.input_value()
    body.fill(original + "\n\n## Redaktion\n\nVerantwortlich: *die Pressestelle*.")
    with page.expect_navigation():
        page.get_by_role("button", name="Vorschau").click()
    assert page.locator("[data-markdown-preview] em", has_text="die Pressestelle").count() == 1
    with page.expect_navigation():
        page.locator("main form button[value=save]").click()
    assert "gespeichert" in page.locator("main").inner_text()

    page.get_by_role("link", name="Versionen ansehen und vergleichen").click()
    check_accessible(page, "versions")
    with page.expect_navigation():
        page.get_by_role("button", name="Gewählte Versionen vergleichen").click()
    assert page.locator("main ins", has_text="Verantwortlich").count() == 1
    check_accessible(page, "version comparison")

    page.get_by_role("link", name="Zu den Versionen").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Version 1 wiederherstellen").click()
    assert "ist wiederhergestellt" in page.locator("main").inner_text()
    assert page.locator("textarea[name=body]").input_value() == original
    public = page.goto(portal.href(f"/{COMMUNE.slug}/impressum"))
    assert public is not None and public.ok
    assert "Pressestelle" not in page.locator("main").inner_text()
