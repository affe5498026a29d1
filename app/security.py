"""HTTP security headers, with a strict Content-Security-Policy that a page cache can keep.

The only inline code of the portal is the commune's brand colour, one ``<style>`` in the
layout. The policy allows it by the SHA-256 of its exact text (:func:`brand_style`), not
by a per-response nonce, so a page's HTML is the same for every reader and can be served
from the page cache (:mod:`app.pagecache`); the cache keeps the hashes a page allowed and
allows them again when it serves the page. ``csp_nonce()`` remains for a template that
would need an inline script: it adds a nonce to this response's policy, and a response with
a nonce is never cached.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterable
from functools import lru_cache

from flask import Flask, Response, has_request_context, request
from markupsafe import Markup

from app.tenancy.models import Commune

#: The colour a brand colour that is not a plain hex colour falls back to (never in the CSS).
DEFAULT_BRAND_COLOUR = "#1d4f91"
_HEX_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_NONCE_KEY = "kommunalportal.security.nonce"
_STYLE_HASHES_KEY = "kommunalportal.security.style_hashes"
_BASE_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


@lru_cache(maxsize=256)
def _style_text_and_hash(colour: str) -> tuple[str, str]:
    if not _HEX_COLOUR.match(colour):
        colour = DEFAULT_BRAND_COLOUR
    text = f":root {{ --brand: {colour}; }}"
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return text, f"'sha256-{digest}'"


def brand_style_source(commune: Commune) -> tuple[str, str]:
    """The text of the commune's brand ``<style>`` and its CSP source (``'sha256-…'``).

    Both are a pure function of the brand colour and computed once per colour. A colour
    that is not ``#rgb`` or ``#rrggbb`` (the admin form allows no other) becomes the default,
    so the text never needs escaping and the hash is of exactly what the browser reads.
    """
    return _style_text_and_hash(commune.brand_colour or DEFAULT_BRAND_COLOUR)


def allow_style_hashes(sources: Iterable[str]) -> None:
    """Allow inline styles with these CSP hash sources in the current response."""
    allowed: list[str] = request.environ.setdefault(_STYLE_HASHES_KEY, [])
    allowed.extend(source for source in sources if source not in allowed)


def allowed_style_hashes() -> tuple[str, ...]:
    """The hash sources the current response allows (what the page cache keeps)."""
    return tuple(request.environ.get(_STYLE_HASHES_KEY, ()))


def brand_style(commune: Commune) -> Markup:
    """The brand ``<style>`` element for the layout; its hash goes into the response's policy."""
    text, source = brand_style_source(commune)
    allow_style_hashes((source,))
    return Markup(f"<style>{text}</style>")


def csp_nonce() -> str:
    """A nonce for an inline element of this response; the response is then never cached."""
    nonce = request.environ.get(_NONCE_KEY)
    if nonce is None:
        nonce = request.environ[_NONCE_KEY] = secrets.token_urlsafe(16)
    return nonce


def uses_nonce() -> bool:
    """Whether the current response's HTML carries a nonce (and so is unique to it)."""
    return has_request_context() and _NONCE_KEY in request.environ


def content_security_policy() -> str:
    """The policy of the current response: ``'self'`` plus the inline styles it allowed."""
    styles = ["'self'", *allowed_style_hashes()]
    scripts = ["'self'"]
    nonce = request.environ.get(_NONCE_KEY)
    if nonce is not None:
        styles.append(f"'nonce-{nonce}'")
        scripts.append(f"'nonce-{nonce}'")
    return f"{_BASE_POLICY}; style-src {' '.join(styles)}; script-src {' '.join(scripts)}"


def _set_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", content_security_policy())
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    return response


def init_app(app: Flask) -> None:
    app.after_request(_set_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.globals["brand_style"] = brand_style
