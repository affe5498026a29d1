"""Checking uploads: news images (re-encoded with Pillow) and document files (type by content).

Limits come from the configuration: ``CONTENT_MAX_IMAGE_BYTES`` and
``CONTENT_MAX_DOCUMENT_BYTES`` (defaults in :mod:`app.content.editing.setup`).
"""

from __future__ import annotations

import io
import re
from pathlib import PurePath

import filetype
from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps

from app.content.services import ContentError, sanitize_filename

NEWS_IMAGE_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}
#: The longest edge of a stored news image, in pixels.
MAX_IMAGE_EDGE = 1600
#: Larger images are refused before decoding (a "decompression bomb" guard).
MAX_IMAGE_PIXELS = 50_000_000


def prepare_news_image(data: bytes) -> bytes:
    """The uploaded image re-encoded: at most :data:`MAX_IMAGE_EDGE` pixels on its longer edge,
    turned upright, without EXIF or other metadata; PNG, JPEG and WebP stay in their format."""
    limit = int(current_app.config["CONTENT_MAX_IMAGE_BYTES"])
    if len(data) > limit:
        raise ContentError(
            _l("Das Bild ist zu groß. Erlaubt sind höchstens %(size)s MB.", size=limit // (1024 * 1024))
        )
    kind = filetype.guess(data)
    if kind is None or kind.mime not in NEWS_IMAGE_TYPES:
        raise ContentError(_l("Das Bild muss eine PNG-, JPEG- oder WebP-Datei sein."))
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.width * opened.height > MAX_IMAGE_PIXELS:
                raise ContentError(_l("Das Bild hat zu viele Bildpunkte. Bitte verkleinern Sie es vorher."))
            opened.load()
            image = ImageOps.exif_transpose(opened)
            image.thumbnail((MAX_IMAGE_EDGE, MAX_IMAGE_EDGE), Image.Resampling.LANCZOS)
            fmt = NEWS_IMAGE_TYPES[kind.mime]
            if fmt == "JPEG" and image.mode not in ("RGB", "L"):
                image = image.convert("RGB")
            out = io.BytesIO()
            # Saved without exif=, pnginfo= or xmp=: no camera, place or author data is kept.
            options = {"optimize": True} if fmt == "PNG" else {"quality": 85, "optimize": True}
            image.save(out, format=fmt, **options)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ContentError(_l("Die Bilddatei ist beschädigt oder lässt sich nicht lesen.")) from exc
    return out.getvalue()


#: What a commune may publish as a document: media type → the file name endings it comes with.
DOCUMENT_TYPES: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "application/vnd.oasis.opendocument.text": (".odt",),
    "application/vnd.oasis.opendocument.spreadsheet": (".ods",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (".xlsx",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "text/plain": (".txt",),
    "text/csv": (".csv",),
}
#: Types filetype recognises that are programs or installers: named as such in the refusal.
_EXECUTABLE_TYPES = frozenset(
    {
        "application/x-msdownload",
        "application/x-executable",
        "application/x-elf",
        "application/wasm",
        "application/x-google-chrome-extension",
        "application/x-deb",
        "application/x-rpm",
        "application/vnd.ms-cab-compressed",
        "application/x-shockwave-flash",
    }
)
_EXECUTABLE_SIGNATURES = (b"MZ", b"\x7fELF", b"#!", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")
_TEXT_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")
ALLOWED_DOCUMENT_NAMES = "PDF, ODT, ODS, DOCX, XLSX, PNG, JPEG, TXT, CSV"


def check_document_file(data: bytes, filename: str) -> str:
    """The media type of an uploaded document, judged by its content; refuses anything else.

    Programs are refused whatever their name; text files (TXT, CSV) must be text.
    """
    limit = int(current_app.config["CONTENT_MAX_DOCUMENT_BYTES"])
    if not data:
        raise ContentError(_l("Die Datei ist leer."))
    if len(data) > limit:
        raise ContentError(
            _l("Die Datei ist zu groß. Erlaubt sind höchstens %(size)s MB.", size=limit // (1024 * 1024))
        )
    kind = filetype.guess(data)
    if (kind is not None and kind.mime in _EXECUTABLE_TYPES) or data.startswith(_EXECUTABLE_SIGNATURES):
        raise ContentError(_l("Programme und ausführbare Dateien werden nicht angenommen."))
    suffix = PurePath(filename.lower()).suffix
    if kind is None:
        if suffix in (".txt", ".csv") and not _TEXT_CONTROL.search(data[:65536]):
            return "text/csv" if suffix == ".csv" else "text/plain"
    elif kind.mime in DOCUMENT_TYPES:
        return kind.mime
    raise ContentError(
        _l("Dieser Dateityp wird nicht angenommen. Erlaubt sind: %(types)s.", types=ALLOWED_DOCUMENT_NAMES)
    )


def document_name(filename: str, media_type: str) -> str:
    """The download name: the upload's name, with an ending that matches its real type."""
    name = sanitize_filename(filename, fallback="dokument")
    endings = DOCUMENT_TYPES[media_type]
    if PurePath(name.lower()).suffix not in endings:
        name = f"{PurePath(name).stem or 'dokument'}{endings[0]}"
    return name
