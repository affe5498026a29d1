"""No user-facing text bypasses gettext.

Templates: every text node and every attribute a person reads or hears (title, alt,
aria-label, placeholder, the value of an input button, …) that contains a letter
must come from ``{{ _("…") }}`` or a ``{% trans %}`` block; proper names, symbols
and data go on the small allowlist below, with the reason; code samples (``<code>``,
``<pre>``) are not language and are not checked.

Python modules under app/: flash(), abort() descriptions, ValidationError, WTForms
labels and validator messages must not be given a literal string. The PDF for the
office is German on purpose, but its strings still go through the injected gettext,
so app/documents is checked like every other package.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"
TEMPLATES = APP / "templates"
LETTER = re.compile(r"[^\W\d_]")
#: Stands for the output of a ``{{ … }}`` expression: no letter, and valid inside a tag
#: name (``<h{{ level }}>``) or an attribute, so the HTML around it parses as it renders.
EXPRESSION = "0"
#: A macro that writes attributes into its caller's tag (`` aria-describedby="…"``).
ATTRIBUTE_FRAGMENT = re.compile(r'^(?:\s*[\w:-]+="[^"]*")+\s*$')

#: (template, text) pairs that are not language: proper names, symbols, data.
TEMPLATE_ALLOWLIST: dict[tuple[str, str], str] = {
    ("base.html", "KP"): "the portal's monogram standing in for a coat of arms (aria-hidden)",
}

#: Templates or modules with a known finding, routed to their owner: path → reason.
KNOWN_TEMPLATE_FINDINGS: dict[str, str] = {}
KNOWN_MODULE_FINDINGS: dict[str, str] = {}

#: Attributes whose value is shown or read out to people.
READ_ATTRIBUTES = frozenset(
    {
        "title",
        "alt",
        "aria-label",
        "aria-description",
        "aria-roledescription",
        "aria-placeholder",
        "aria-valuetext",
        "placeholder",
        "label",
    }
)
BUTTON_INPUT_TYPES = frozenset({"submit", "button", "reset"})
#: Elements whose text is not language: scripts and styles, and code shown as code
#: (an HTTP header, a token prefix), which reads the same in every language.
SILENT_ELEMENTS = frozenset({"script", "style", "code", "pre", "kbd", "samp"})


def template_text(source: str, env: Environment) -> str:
    """The template's literal HTML with expressions blanked out and trans blocks removed."""
    parts: list[str] = []
    in_trans = 0
    in_variable = False
    block_words: list[str] | None = None
    for _lineno, token, value in env.lex(source):
        if token == "block_begin":
            block_words = []
        elif token == "block_end" and block_words is not None:
            tag = block_words[0] if block_words else ""
            if tag == "trans":
                in_trans += 1
            elif tag == "endtrans":
                in_trans -= 1
            block_words = None
        elif block_words is not None:
            if token == "name":
                block_words.append(value)
        elif token == "variable_begin":
            in_variable = True
            if not in_trans:
                parts.append(EXPRESSION)
        elif token == "variable_end":
            in_variable = False
        elif token == "data" and not in_trans and not in_variable:
            parts.append(value)
    return "".join(parts)


class _TextFinder(HTMLParser):
    """Collects the visible and audible literal text of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._silent = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in SILENT_ELEMENTS:
            self._silent += 1
        for name, value in attrs:
            if value is None:
                continue
            readable = name in READ_ATTRIBUTES or (
                name == "value" and tag == "input" and values.get("type") in BUTTON_INPUT_TYPES
            )
            if readable:
                self._check(value)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in SILENT_ELEMENTS:
            self._silent -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag in SILENT_ELEMENTS and self._silent:
            self._silent -= 1

    def handle_data(self, data: str) -> None:
        if not self._silent:
            self._check(data)

    def _check(self, text: str) -> None:
        text = " ".join(text.split())
        if LETTER.search(text) and not ATTRIBUTE_FRAGMENT.match(text):
            self.found.append(text)


def untranslated_template_text(path: Path, env: Environment) -> list[str]:
    source = path.read_text(encoding="utf-8")
    literal = template_text(source, env)
    if path.suffix == ".txt":
        found = [" ".join(line.split()) for line in literal.splitlines()]
        found = [line for line in found if LETTER.search(line)]
    else:
        finder = _TextFinder()
        finder.feed(literal)
        finder.close()
        found = finder.found
    name = path.relative_to(TEMPLATES).as_posix()
    return [text for text in found if (name, text) not in TEMPLATE_ALLOWLIST]


def _template_env() -> Environment:
    return Environment(extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)


def _templates() -> list[object]:
    params = []
    for path in sorted([*TEMPLATES.rglob("*.html"), *TEMPLATES.rglob("*.txt")]):
        name = path.relative_to(TEMPLATES).as_posix()
        marks = []
        if name in KNOWN_TEMPLATE_FINDINGS:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_TEMPLATE_FINDINGS[name]))
        params.append(pytest.param(path, id=name, marks=marks))
    return params


@pytest.mark.parametrize("path", _templates())
def test_template_text_goes_through_gettext(path: Path) -> None:
    found = untranslated_template_text(path, _template_env())
    assert not found, f"{path.relative_to(ROOT)} shows text outside gettext: {found}"


# --- Python modules ---------------------------------------------------------------

#: Calls whose first argument is text for people.
FIRST_ARGUMENT_IS_TEXT = frozenset(
    {"flash", "ValidationError", "StopValidation", "DataRequired", "InputRequired", "Email"}
)
#: Calls whose second argument is text for people (abort(code, description), Label(id, text)).
SECOND_ARGUMENT_IS_TEXT = frozenset({"abort", "Label"})
#: Keyword arguments that carry text for people, in any call.
TEXT_KEYWORDS = frozenset({"message", "label", "description", "flash_message"})
#: WTForms field classes take their label first; custom fields end in "Field" too.
FIELD_SUFFIX = "Field"


def _literal_text(node: ast.expr) -> str | None:
    """The letters-bearing literal text of an argument, or None if it is not literal text."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
    elif isinstance(node, ast.JoinedStr):
        text = "".join(
            part.value
            for part in node.values
            if isinstance(part, ast.Constant) and isinstance(part.value, str)
        )
    elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        return _literal_text(node.left) or _literal_text(node.right)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _literal_text(node.func.value)
    else:
        return None
    return text if LETTER.search(text) else None


def _call_name(node: ast.Call) -> str:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return ""


def literal_user_text(source: str, filename: str = "<module>") -> Iterator[tuple[int, str, str]]:
    """(line, call, text) for every literal string handed to a user-facing call."""
    for node in ast.walk(ast.parse(source, filename=filename)):
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        candidates: list[ast.expr] = []
        if (name in FIRST_ARGUMENT_IS_TEXT or name.endswith(FIELD_SUFFIX)) and node.args:
            candidates.append(node.args[0])
        if name in SECOND_ARGUMENT_IS_TEXT and len(node.args) > 1:
            candidates.append(node.args[1])
        candidates.extend(kw.value for kw in node.keywords if kw.arg in TEXT_KEYWORDS)
        for candidate in candidates:
            text = _literal_text(candidate)
            if text is not None:
                yield node.lineno, name, text


#: Demo data is sample content, as a commune's editors would type it: content is not
#: translated through the catalogs, so the demo loaders are not user-interface code.
CONTENT_MODULES = "demo.py"


def _modules() -> list[object]:
    params = []
    for path in sorted(APP.rglob("*.py")):
        if path.name == CONTENT_MODULES:
            continue
        name = path.relative_to(ROOT).as_posix()
        marks = []
        if name in KNOWN_MODULE_FINDINGS:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_MODULE_FINDINGS[name]))
        params.append(pytest.param(path, id=name, marks=marks))
    return params


@pytest.mark.parametrize("path", _modules())
def test_module_passes_no_literal_text_to_people(path: Path) -> None:
    found = list(literal_user_text(path.read_text(encoding="utf-8"), str(path)))
    assert not found, f"{path.relative_to(ROOT)} hands literal text to people, not gettext: " + "; ".join(
        f"line {line}: {call}({text!r})" for line, call, text in found
    )


# --- the checks themselves --------------------------------------------------------


def test_template_check_finds_bare_text_and_attributes(tmp_path: Path) -> None:
    """The scanner flags text and read attributes, and passes gettext and trans blocks."""
    env = _template_env()
    source = (
        '<h1>{{ _("Willkommen") }}</h1>\n'
        "<p>Bitte warten</p>\n"
        '<img src="{{ url }}" alt="Wappen">\n'
        '<input type="submit" value="Senden"><input type="hidden" name="x" value="abc">\n'
        "{% trans n=3 %}Es gibt {{ n }} Einträge{% endtrans %}\n"
        '<a href="/x" title="{{ _("Hilfe") }}">{{ name }}</a> › {{ count }} ·\n'
        "<style>.x { color: red }</style>{# Ein Kommentar #}\n"
        "<p>{{ _('Senden Sie') }} <code>Authorization: Bearer {{ token }}</code></p>\n"
    )
    path = tmp_path / "sample.html"
    path.write_text(source, encoding="utf-8")
    finder = _TextFinder()
    finder.feed(template_text(source, env))
    assert finder.found == ["Bitte warten", "Wappen", "Senden"]


def test_module_check_finds_literal_messages() -> None:
    source = (
        "flash('Gespeichert.', 'success')\n"
        "flash(_('Gespeichert.'), 'success')\n"
        "abort(404, 'Nicht gefunden')\n"
        "abort(404)\n"
        "name = StringField('Name', validators=[DataRequired(message='Pflicht')])\n"
        "title = StringField(_l('Titel'), validators=[Length(max=5, message=_l('Zu lang'))])\n"
        "raise ValidationError(f'Zu groß: {size}')\n"
        "log.info('Nicht für Menschen')\n"
    )
    found = sorted(literal_user_text(source))
    assert found == [
        (1, "flash", "Gespeichert."),
        (3, "abort", "Nicht gefunden"),
        (5, "DataRequired", "Pflicht"),
        (5, "StringField", "Name"),
        (7, "ValidationError", "Zu groß: "),
    ]
