"""The fonts every document uses: DejaVu Sans shipped in this package, embedded as subsets.

DejaVu Sans covers German, Polish and Lower Sorbian (and far more). The TTF files live next to this
module with their licence, so rendering never depends on the fonts of the host. Registration with
reportlab is global to the process and done once; the TTF parsing it does is the costly part.
"""

from __future__ import annotations

import threading
from importlib.resources import as_file, files

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"

_FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf"}
_lock = threading.Lock()
_registered = False


def register_fonts() -> None:
    """Register the document fonts with reportlab (idempotent, thread-safe)."""
    global _registered
    if _registered:
        return
    with _lock:
        if _registered:
            return
        directory = files(__package__).joinpath("fonts")
        for name, filename in _FILES.items():
            with as_file(directory.joinpath(filename)) as path:
                pdfmetrics.registerFont(TTFont(name, str(path)))
        # So that <b> in a paragraph of the regular face picks the embedded bold face.
        addMapping(REGULAR, 0, 0, REGULAR)
        addMapping(REGULAR, 1, 0, BOLD)
        addMapping(REGULAR, 0, 1, REGULAR)
        addMapping(REGULAR, 1, 1, BOLD)
        _registered = True


def printable(text: str) -> str:
    """The text with every character the fonts cannot draw replaced by U+FFFD.

    A glyph missing from the font would be drawn as .notdef, which PDF/A forbids; the replacement
    character is in DejaVu Sans and shows the reader that something was there.
    """
    register_fonts()
    covered = pdfmetrics.getFont(REGULAR).face.charToGlyph
    if all(ord(char) in covered or char in "\n\r\t" for char in text):
        return text
    return "".join(char if ord(char) in covered or char in "\n\r\t" else "\ufffd" for char in text)
