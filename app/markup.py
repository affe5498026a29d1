"""Markdown to safe HTML: markdown-it-py renders, nh3 (Ammonia) sanitizes."""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_ALLOWED_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "em", "h2", "h3", "h4", "h5", "h6", "hr",
    "img", "li", "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "hreflang"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"scope"},
    "td": set(),
}


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # "js-default" follows CommonMark safely: raw HTML is not passed through.
    return MarkdownIt("js-default").enable("table")


def _shift_headings(html: str) -> str:
    # A body never brings its own h1: the page title is the page's one h1.
    return html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")


def render_markdown(text: str | None) -> Markup:
    """Render Markdown from editors or form files to HTML that is safe to embed."""
    if not text:
        return Markup("")
    return _render_cached(text)


@lru_cache(maxsize=2048)
def _render_cached(text: str) -> Markup:
    # Pure function of the text; pages repeat the same bodies, contact blocks and
    # help texts on every request, and parsing plus sanitizing dominates their cost.
    html = _shift_headings(_parser().render(text))
    clean = nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer",
    )
    return Markup(clean)


def plain_text(text: str | None) -> str:
    """Markdown reduced to its words, for snippets, feeds and search."""
    if not text:
        return ""
    return " ".join(nh3.clean(_parser().render(text), tags=set()).split())
