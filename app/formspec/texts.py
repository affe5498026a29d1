"""Translation hook and display formatting shared by the compiler and the summary.

The core never imports Flask: the web layer injects a ``gettext(msgid, **variables)``
callable (flask_babel's lazy_gettext). Without one, German source texts are used as they
are. Messages in this package are written as ``_("...")`` calls so pybabel extracts them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: The injected translation callable: gettext(msgid, **variables) -> str or lazy string.
Gettext = Callable[..., Any]

_MEDIA_TYPE_NAMES = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/webp": "WebP",
    "image/heic": "HEIC",
    "image/tiff": "TIFF",
    "text/plain": "Text",
    "text/csv": "CSV",
    "application/xml": "XML",
    "application/json": "JSON",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word (DOCX)",
    "application/vnd.oasis.opendocument.text": "OpenDocument-Text (ODT)",
}


def untranslated(message: str, **variables: Any) -> str:
    """The German source text with its %(name)s variables filled in (gettext's contract)."""
    return message % variables if variables else message


def media_type_name(media_type: str) -> str:
    """A short human name for a media type (PDF, JPEG, ...)."""
    if media_type in _MEDIA_TYPE_NAMES:
        return _MEDIA_TYPE_NAMES[media_type]
    if media_type.endswith("/*"):
        return media_type
    return media_type.rsplit("/", 1)[-1].upper()


def human_size(size: int) -> str:
    """A file size the way German users read it: 500 KB, 2,5 MB."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    megabytes = f"{size / (1024 * 1024):.1f}".replace(".", ",")
    return f"{megabytes.removesuffix(',0')} MB"
