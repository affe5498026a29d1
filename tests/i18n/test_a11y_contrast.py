"""Every text colour of static/css/portal.css meets WCAG 2.1 AA contrast on its background.

The pairs are read from the stylesheet itself (custom properties in ``:root`` and the
colours of the rules that draw text on a fill), so changing a colour in the CSS is
checked without touching this test. Text needs 4.5:1 (1.4.3); borders that show
where a form control is need 3:1 (1.4.11).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.tenancy.demo import DEMO_COMMUNES, DemoCommune

CSS = Path(__file__).resolve().parents[2] / "static" / "css" / "portal.css"
TEXT = 4.5
NON_TEXT = 3.0
RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
NAMED = {"#fff": "#ffffff", "#000": "#000000", "white": "#ffffff", "black": "#000000"}


def relative_luminance(colour: str) -> float:
    """WCAG 2.1's relative luminance of an sRGB colour written as #rgb or #rrggbb."""
    colour = NAMED.get(colour.lower(), colour)
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _rules() -> dict[str, dict[str, str]]:
    """Selector → declarations of every (innermost) rule; later rules add to earlier ones."""
    source = re.sub(r"/\*.*?\*/", "", CSS.read_text(encoding="utf-8"), flags=re.S)
    rules: dict[str, dict[str, str]] = {}
    for selectors, body in RULE.findall(source):
        declarations = {}
        for declaration in body.split(";"):
            if ":" in declaration:
                name, value = declaration.split(":", 1)
                declarations[name.strip()] = value.strip()
        for selector in selectors.split(","):
            rules.setdefault(" ".join(selector.split()), {}).update(declarations)
    return rules


RULES = _rules()
VARIABLES = {name: value for name, value in RULES[":root"].items() if name.startswith("--")}


def colour(selector: str, prop: str) -> str:
    """The colour a rule declares for ``prop``, with var(--x) resolved from :root."""
    value = RULES[selector][prop].split()[0] if prop != "background" else RULES[selector][prop]
    match = re.fullmatch(r"var\((--[\w-]+)\)", value)
    if match:
        value = VARIABLES[match.group(1)]
    assert HEX.match(NAMED.get(value.lower(), value)), f"{selector} {prop}: {value!r} is not a plain colour"
    return value


def var(name: str) -> str:
    return VARIABLES[name]


def text_on(selector: str) -> tuple[str, str]:
    """The (text colour, background) a rule paints."""
    return colour(selector, "color"), colour(selector, "background")


#: (what, foreground, background, minimum ratio)
PAIRS = [
    ("body text", var("--text"), var("--bg"), TEXT),
    ("muted text (hints, meta)", var("--muted"), var("--bg"), TEXT),
    ("links", var("--link"), var("--bg"), TEXT),
    ("visited links", var("--link-visited"), var("--bg"), TEXT),
    ("error messages", var("--error"), var("--bg"), TEXT),
    ("success text", var("--success"), var("--bg"), TEXT),
    ("footer text", var("--text"), colour(".site-footer", "background"), TEXT),
    ("footer links", var("--link"), colour(".site-footer", "background"), TEXT),
    ("footer visited links", var("--link-visited"), colour(".site-footer", "background"), TEXT),
    ("muted text in notices", var("--muted"), colour(".notice", "background"), TEXT),
    ("links in notices", var("--link"), colour(".notice", "background"), TEXT),
    ("header text on the default brand colour", "#ffffff", colour(".site-header", "background"), TEXT),
    ("primary button", *text_on(".button"), TEXT),
    ("secondary button", *text_on(".button--secondary"), TEXT),
    ("warning button", *text_on(".button--warning"), TEXT),
    ("skip link", *text_on(".skip-link"), TEXT),
    ("confirmation panel", *text_on(".panel-confirmation"), TEXT),
    ("highlighted search hits", var("--text"), colour("mark", "background"), TEXT),
    ("error summary links", var("--error"), var("--bg"), TEXT),
    ("form control borders", var("--text"), var("--bg"), NON_TEXT),
    ("card and list borders", var("--border"), var("--bg"), NON_TEXT),
    ("focus ring against the page", var("--text"), var("--bg"), NON_TEXT),
    ("focus ring on the header", var("--focus"), colour(".site-header", "background"), NON_TEXT),
]


@pytest.mark.parametrize(("what", "foreground", "background", "minimum"), PAIRS, ids=[p[0] for p in PAIRS])
def test_colour_pair_has_enough_contrast(what: str, foreground: str, background: str, minimum: float) -> None:
    ratio = contrast_ratio(foreground, background)
    assert ratio >= minimum, f"{what}: {foreground} on {background} is {ratio:.2f}:1, needs {minimum}:1"


def test_contrast_formula_matches_wcag_reference_values() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio("#777777", "#ffffff") < TEXT


@pytest.mark.parametrize("demo", DEMO_COMMUNES, ids=[d.slug for d in DEMO_COMMUNES])
def test_demo_brand_colours_carry_white_header_text(demo: DemoCommune) -> None:
    """The header's white text, links and the coat-of-arms initials sit on the commune's colour."""
    ratio = contrast_ratio("#ffffff", demo.brand_colour)
    assert ratio >= TEXT, f"{demo.slug}: white on {demo.brand_colour} is {ratio:.2f}:1"
