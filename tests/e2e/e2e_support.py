"""What the browser tests share: the running portal, its demo pages, and the checks.

axe-core (bundled by axe-playwright-python) runs against WCAG 2.1 A and AA; a failed
check writes a screenshot and its data as JSON to test-artifacts/e2e/ and names both
in the failure message, so the CI log says where to look.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from lxml import html

from app.formspec.model import ServiceSpec

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
#: 400 % zoom of a 1280 px wide window is 320 CSS pixels (WCAG 1.4.10 Reflow).
NARROW_VIEWPORT = {"width": 320, "height": 640}
#: The languages the browser walks are done in (German source, Polish translation).
LANGUAGES = ("de", "pl")


@dataclass
class Portal:
    """The running portal and the addresses of its demo pages."""

    url: str
    app: Flask
    pages: dict[str, str] = field(default_factory=dict)

    def href(self, path: str, lang: str | None = None) -> str:
        if lang is None:
            return f"{self.url}{path}"
        return f"{self.url}{path}{'&' if '?' in path else '?'}lang={lang}"


def links_on(app: Flask, path: str, pattern: str) -> list[str]:
    """The distinct links inside ``<main>`` of a page whose path matches ``pattern``."""
    response = app.test_client().get(path)
    assert response.status_code == 200, f"{path} answered {response.status_code}"
    tree = html.fromstring(response.get_data(as_text=True))
    found: list[str] = []
    for href in tree.xpath("//main//a/@href"):
        target = href.split("?")[0].split("#")[0]
        if re.fullmatch(pattern, target) and target not in found:
            found.append(target)
    return found


def discover_pages(app: Flask) -> dict[str, str]:
    """One address of every public page type, found by following the demo's links."""
    communes = links_on(app, "/", r"/[a-z0-9-]+/")
    assert communes, "the demo data has no commune on the portal home page"
    home = communes[0]
    news = links_on(app, f"{home}news/", rf"{home}news/(?!feed\.atom)[a-z0-9-]+")
    events = links_on(app, f"{home}events/", rf"{home}events/(?!archive)[a-z0-9-]+")
    assert news and events, "the demo data has no news item or no event"
    services = links_on(app, f"{home}services/", rf"{home}services/[a-z0-9-]+")
    assert services, f"the demo commune {home} offers no service"
    return {
        "portal home": "/",
        "portal search": "/search?q=Kita",
        "portal accessibility statement": "/barrierefreiheit",
        "portal easy language": "/leichte-sprache",
        "commune home": home,
        "news list": f"{home}news/",
        "news item": news[0],
        "events list": f"{home}events/",
        "event": events[0],
        "content page": f"{home}impressum",
        "accessibility statement": f"{home}barrierefreiheit",
        "easy language": f"{home}leichte-sprache",
        "contact": f"{home}contact",
        "commune search": f"{home}search?q=Abfall",
        "services list": f"{home}services/",
        "service": services[0],
        "not found": f"{home}diese-seite-gibt-es-nicht",
    }


def offered_forms(app: Flask) -> dict[str, tuple[str, ServiceSpec]]:
    """Each service with an online form → (a demo commune offering it, the form as it sees it)."""
    from app.catalogue.services import offered_services
    from app.tenancy.services import active_communes

    offers: dict[str, tuple[str, ServiceSpec]] = {}
    with app.app_context():
        for commune in active_communes():
            for offered in offered_services(commune):
                if offered.online and offered.slug not in offers:
                    offers[offered.slug] = (commune.slug, offered.priced_spec)
    return offers


def artifact_name(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def save_failure(page: Any, name: str, data: object) -> tuple[Path, Path]:
    """A full-page screenshot and the data of a failed check, under test-artifacts/e2e/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / f"{artifact_name(name)}.png"
    report = ARTIFACTS / f"{artifact_name(name)}.json"
    page.screenshot(path=str(screenshot), full_page=True)
    report.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    return screenshot, report


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A and AA violations on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    return Axe().run(page, options=options).response["violations"]


def summarise(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:5]]
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return "\n".join(lines)


def check_accessible(page: Any, name: str) -> None:
    """Fails, with the evidence saved, when axe finds a WCAG 2.1 A/AA violation."""
    violations = axe_violations(page)
    if violations:
        screenshot, report = save_failure(page, f"axe {name}", violations)
        pytest.fail(
            f"axe-core found {len(violations)} WCAG 2.1 A/AA violations on {name} ({page.url}):\n"
            f"{summarise(violations)}\nscreenshot: {screenshot}\nviolations: {report}",
            pytrace=False,
        )


#: Elements that stick out on the right, or whose own content (a long word) overflows them.
WIDER_THAN = """(limit) => Array.from(document.querySelectorAll('body *'))
  .filter(el => el.getBoundingClientRect().right > limit + 1
                || (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === 'visible'))
  .slice(0, 10)
  .map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
       + (typeof el.className === 'string' && el.className.trim()
          ? '.' + el.className.trim().split(/\\s+/).join('.') : ''))"""


def check_reflows(page: Any, name: str) -> None:
    """Fails when the page scrolls sideways at 320 CSS pixels (400 % zoom)."""
    width = page.evaluate("() => document.documentElement.scrollWidth")
    if width > NARROW_VIEWPORT["width"]:
        wider = page.evaluate(WIDER_THAN, NARROW_VIEWPORT["width"])
        screenshot, report = save_failure(page, f"reflow {name}", {"scrollWidth": width, "wider": wider})
        pytest.fail(
            f"{name} scrolls sideways at 320 px (scrollWidth {width}); wider elements: {wider}\n"
            f"screenshot: {screenshot}\ndetails: {report}",
            pytrace=False,
        )
