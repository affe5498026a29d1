"""Every public page type, in German and Polish: it loads, axe-core finds no WCAG 2.1
A/AA violation, and at 320 CSS pixels (400 % zoom) nothing scrolls sideways."""

from __future__ import annotations

from typing import Any

import pytest
from e2e_support import LANGUAGES, Portal, check_accessible, check_reflows

pytestmark = pytest.mark.e2e

PAGE_TYPES = (
    "portal home",
    "portal search",
    "portal accessibility statement",
    "portal easy language",
    "commune home",
    "news list",
    "news item",
    "events list",
    "event",
    "content page",
    "accessibility statement",
    "easy language",
    "contact",
    "commune search",
    "services list",
    "service",
    "not found",
)
EXPECTED_STATUS = {"not found": 404}


def _open(page: Any, portal: Portal, page_type: str, lang: str) -> None:
    response = page.goto(portal.href(portal.pages[page_type], lang))
    assert response is not None
    assert response.status == EXPECTED_STATUS.get(page_type, 200), f"{page_type}: {response.status}"
    assert page.locator("html").get_attribute("lang") == lang


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("page_type", PAGE_TYPES)
def test_public_page_has_no_accessibility_violations(
    page: Any, portal: Portal, page_type: str, lang: str
) -> None:
    _open(page, portal, page_type, lang)
    check_accessible(page, f"{page_type} ({lang})")


@pytest.mark.parametrize("page_type", PAGE_TYPES)
def test_public_page_reflows_at_400_percent_zoom(narrow_page: Any, portal: Portal, page_type: str) -> None:
    """WCAG 1.4.10: at 320 CSS pixels no page needs horizontal scrolling (Polish: long words)."""
    _open(narrow_page, portal, page_type, "pl")
    check_reflows(narrow_page, page_type)
