"""The fonts every document uses: DejaVu Sans shipped in this package, embedded as subsets.

DejaVu Sans covers German, Polish and Lower Sorbian (and far more). The TTF files live next to this
module with their licence, so rendering never depends on the fonts of the host. Registration with
reportlab is global to the process and done once; the TTF parsing it does is the costly part.
"""

from __future__ import annotations

import re
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
_undrawable: re.Pattern[str] = re.compile("(?!)")


def register_fonts() -> None:
    """Register the document fonts with reportlab (idempotent, thread-safe)."""
    global _registered, _undrawable
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
        _undrawable = _undrawable_pattern()
        _registered = True


def _undrawable_pattern() -> re.Pattern[str]:
    """A pattern matching each character that not both faces can draw (layout whitespace aside)."""
    regular, bold = (set(pdfmetrics.getFont(name).face.charToGlyph) for name in (REGULAR, BOLD))
    covered = sorted(regular & bold | {ord("\t"), ord("\n"), ord("\r")})
    ranges: list[tuple[int, int]] = []
    for code in covered:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return re.compile("[^" + "".join(f"\\U{start:08x}-\\U{end:08x}" for start, end in ranges) + "]")


def printable(text: str) -> str:
    """The text with every character the fonts cannot draw replaced by U+FFFD.

    A glyph missing from the font would be drawn as .notdef, which PDF/A forbids; the replacement
    character is in DejaVu Sans and shows the reader that something was there.
    """
    register_fonts()
    return _undrawable.sub("\ufffd", text)
