"""What the association's accessibility statement states beyond its own contact data.

The statement covers the portal-wide pages (home, search, the staff workspace); each
commune publishes its own statement for its pages (app/content/editing/required.py).
The date changes when the statement is reviewed, which happens with the release that
changes what it says, so it lives with the code. The enforcement body is the one of
the Land Brandenburg under § 9 BbgBGG with the BbgBITV.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

#: When the statement was last reviewed (BITV 2.0 § 7: at least once a year).
STATEMENT_DATE = date(2026, 12, 7)


@dataclass(frozen=True)
class PublicBody:
    """A public authority named in the statement, in its own (German) name."""

    name: str
    part_of: tuple[str, ...]
    address_lines: tuple[str, ...]
    email: str
    website: str


#: Where a reader turns when the association does not answer or the answer does not help.
ENFORCEMENT_BODY = PublicBody(
    name="Durchsetzungsstelle für digitale Barrierefreiheit",
    part_of=(
        "Die Landesbeauftragte für die Belange der Menschen mit Behinderungen",
        "Ministerium für Soziales, Gesundheit, Integration und Verbraucherschutz des Landes Brandenburg",
    ),
    address_lines=("Henning-von-Tresckow-Straße 2–13", "14467 Potsdam"),
    email="durchsetzung.BIT@msgiv.brandenburg.de",
    website="https://msgiv.brandenburg.de/msgiv/de/beauftragte/landesbehindertenbeauftragte/durchsetzungsstelle",
)

#: The body that monitors public websites in Brandenburg (named for completeness).
MONITORING_BODY_NAME = (
    "Überwachungsstelle des Landes Brandenburg für Barrierefreiheit von Informationstechnik "
    "beim Landesamt für Soziales und Versorgung"
)
