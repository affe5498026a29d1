"""A commune's branding: the colour behind white text, and the coat of arms.

The colour must keep white text readable (WCAG 2.x contrast of at least 4.5:1); when
it does not, :func:`darker_shade` finds the nearest darker shade of the same hue
that does. The coat of arms is accepted as PNG, JPEG or WebP (recognised by content,
never by name), checked by decoding it with Pillow and stored re-encoded as PNG, so
nothing but pixels reaches a browser. SVG is refused: it can carry scripts.
"""

from __future__ import annotations

import colorsys
import io
import re
from dataclasses import dataclass

import filetype
from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError

#: The minimum contrast between white text and the brand colour (WCAG 2.x, AA, normal text).
MIN_CONTRAST = 4.5
#: The largest coat of arms file accepted.
MAX_COAT_OF_ARMS_BYTES = 2 * 1024 * 1024
#: Larger images are scaled down to fit this box; the site header shows 40 × 48 pixels.
COAT_OF_ARMS_BOX = (400, 480)
#: A decoded image may not have more pixels than this (decompression bombs).
MAX_PIXELS = 25_000_000
ACCEPTED_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})
HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


class BrandingError(ValueError):
    """A colour or image was refused; the message says why, in German."""


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def relative_luminance(colour: str) -> float:
    """The WCAG relative luminance of a ``#rrggbb`` colour (0 black … 1 white)."""
    r, g, b = (_channel(v) for v in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_with_white(colour: str) -> float:
    """The WCAG contrast ratio of white text on ``colour`` (1 … 21)."""
    return 1.05 / (relative_luminance(colour) + 0.05)


def darker_shade(colour: str, minimum: float = MIN_CONTRAST) -> str:
    """The lightest shade of ``colour``'s hue (darkened in HLS) that white text reaches ``minimum`` on."""
    r, g, b = (v / 255 for v in _rgb(colour))
    hue, lightness, saturation = colorsys.rgb_to_hls(r, g, b)
    # Lightness steps of 0.5 % keep the suggestion as close to the wish as it can be.
    step = 0
    while True:
        candidate_lightness = max(0.0, lightness - step * 0.005)
        rr, gg, bb = colorsys.hls_to_rgb(hue, candidate_lightness, saturation)
        candidate = "#{:02x}{:02x}{:02x}".format(*(round(v * 255) for v in (rr, gg, bb)))
        if contrast_with_white(candidate) >= minimum or candidate_lightness == 0.0:
            return candidate
        step += 1


def check_brand_colour(colour: str) -> str:
    """The colour in canonical form (``#rrggbb``, lower case); :class:`BrandingError` if unusable."""
    colour = colour.strip()
    if not HEX_COLOUR.match(colour):
        raise BrandingError(_("Bitte geben Sie die Farbe als Hex-Wert an, z. B. #1d4f91."))
    colour = colour.lower()
    ratio = contrast_with_white(colour)
    if ratio < MIN_CONTRAST:
        suggestion = darker_shade(colour)
        raise BrandingError(
            _(
                "Weiße Schrift ist auf %(colour)s schlecht lesbar: der Kontrast beträgt nur "
                "%(ratio)s:1, nötig sind mindestens 4,5:1. Vorschlag: der dunklere Farbton "
                "%(suggestion)s (Kontrast %(suggested_ratio)s:1).",
                colour=colour,
                ratio=f"{ratio:.2f}".replace(".", ","),
                suggestion=suggestion,
                suggested_ratio=f"{contrast_with_white(suggestion):.2f}".replace(".", ","),
            )
        )
    return colour


@dataclass(frozen=True)
class CoatOfArms:
    """A checked coat of arms, ready to store: PNG bytes and their size in pixels."""

    png: bytes
    width: int
    height: int
    media_type: str = "image/png"


def process_coat_of_arms(data: bytes) -> CoatOfArms:
    """Check an uploaded coat of arms and re-encode it as PNG.

    Raises :class:`BrandingError` for files that are too large, not PNG/JPEG/WebP by
    content (SVG included), or that do not decode as an image.
    """
    if not data:
        raise BrandingError(_("Die Datei ist leer."))
    if len(data) > MAX_COAT_OF_ARMS_BYTES:
        raise BrandingError(_("Das Wappen darf höchstens 2 MB groß sein."))
    kind = filetype.guess(data)
    if kind is None or kind.mime not in ACCEPTED_IMAGE_TYPES:
        raise BrandingError(
            _(
                "Bitte laden Sie das Wappen als PNG-, JPEG- oder WebP-Bild hoch. "
                "SVG-Dateien werden nicht angenommen, weil sie Programmcode enthalten können."
            )
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise BrandingError(_("Das Bild hat zu viele Bildpunkte."))
            image.load()
            converted = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise BrandingError(_("Die Datei ist kein lesbares Bild.")) from exc
    converted.thumbnail(COAT_OF_ARMS_BOX)
    out = io.BytesIO()
    converted.save(out, format="PNG", optimize=True)
    return CoatOfArms(png=out.getvalue(), width=converted.width, height=converted.height)
