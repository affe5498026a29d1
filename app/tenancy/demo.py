"""Demo data: the association "Digitale Kommunen Brandenburg", five member communes, their offices.

Sample data only ("Beispielinhalt"): addresses and phone numbers are modelled on
real town halls, e-mail addresses use the reserved ``.example`` domain so that
nothing is ever delivered to a real inbox. :func:`load_demo` creates what is
missing and leaves everything that exists alone, so it can run any number of times.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from stdnum.iso7064 import mod_97_10

from app.extensions import db
from app.tenancy.models import Association, Commune, Office

SAMPLE_NOTE = "Beispielinhalt"

#: Office kinds that every demo commune has, so every service of the catalogue can be routed.
REQUIRED_OFFICE_KINDS = ("buergeramt", "ordnungsamt", "gewerbeamt", "bauamt", "kaemmerei", "standesamt")

OFFICE_NAMES = {
    "buergeramt": "Bürgeramt",
    "ordnungsamt": "Ordnungsamt",
    "gewerbeamt": "Gewerbeamt",
    "bauamt": "Bauamt",
    "kaemmerei": "Kämmerei",
    "standesamt": "Standesamt",
    "kita": "Kita-Verwaltung",
    "wahlamt": "Wahlamt",
    "hauptamt": "Hauptamt",
}

TOWN_HALL_HOURS = (
    "- Montag: geschlossen\n"
    "- Dienstag: 9:00–12:00 und 13:00–18:00 Uhr\n"
    "- Mittwoch: geschlossen\n"
    "- Donnerstag: 9:00–12:00 und 13:00–16:00 Uhr\n"
    "- Freitag: 9:00–12:00 Uhr\n\n"
    "Termine außerhalb der Sprechzeiten nach Vereinbarung."
)
OFFICE_HOURS = {
    "buergeramt": (
        "- Dienstag: 9:00–12:00 und 13:00–18:00 Uhr\n"
        "- Donnerstag: 9:00–12:00 und 13:00–16:00 Uhr\n"
        "- Freitag: 9:00–12:00 Uhr\n\n"
        "Bitte vereinbaren Sie online oder telefonisch einen Termin."
    ),
    "standesamt": (
        "- Dienstag: 9:00–12:00 und 13:00–17:00 Uhr\n"
        "- Donnerstag: 9:00–12:00 Uhr\n\n"
        "Eheschließungen auch samstags nach Vereinbarung."
    ),
}
DEFAULT_OFFICE_HOURS = (
    "- Dienstag: 9:00–12:00 und 13:00–18:00 Uhr\n"
    "- Donnerstag: 9:00–12:00 und 13:00–16:00 Uhr"
)


@dataclass(frozen=True)
class DemoCommune:
    """What the demo knows about one member commune."""

    slug: str
    name: str
    official_name: str
    short_code: str
    street: str
    postal_code: str
    town: str
    phone: str
    mail_domain: str
    brand_colour: str
    #: The Amtlicher Gemeindeschlüssel (or the Amt's key); the Leitweg-ID's Grobadressierung.
    official_key: str
    extra_office_kinds: tuple[str, ...]


DEMO_COMMUNES = (
    DemoCommune(
        slug="werneuchen",
        name="Werneuchen",
        official_name="Stadt Werneuchen",
        short_code="WER",
        street="Am Markt 5",
        postal_code="16356",
        town="Werneuchen",
        phone="033398 8160",
        mail_domain="werneuchen.example",
        brand_colour="#1d4f91",
        official_key="12060269",
        extra_office_kinds=("kita", "wahlamt", "hauptamt"),
    ),
    DemoCommune(
        slug="panketal",
        name="Panketal",
        official_name="Gemeinde Panketal",
        short_code="PAN",
        street="Schönower Straße 105",
        postal_code="16341",
        town="Panketal",
        phone="030 94511 0",
        mail_domain="panketal.example",
        brand_colour="#2a6130",
        official_key="12060198",
        extra_office_kinds=("kita", "wahlamt"),
    ),
    DemoCommune(
        slug="fuerstenberg-havel",
        name="Fürstenberg/Havel",
        official_name="Stadt Fürstenberg/Havel",
        short_code="FBG",
        street="Markt 1",
        postal_code="16798",
        town="Fürstenberg/Havel",
        phone="033093 346 0",
        mail_domain="fuerstenberg-havel.example",
        brand_colour="#8a1c2b",
        official_key="12065096",
        extra_office_kinds=("hauptamt",),
    ),
    DemoCommune(
        slug="amt-niemegk",
        name="Amt Niemegk",
        official_name="Amt Niemegk",
        short_code="NIE",
        street="Großstraße 6",
        postal_code="14823",
        town="Niemegk",
        phone="033843 627 0",
        mail_domain="amt-niemegk.example",
        brand_colour="#5a3d8a",
        official_key="120695",
        extra_office_kinds=("wahlamt", "hauptamt"),
    ),
    DemoCommune(
        slug="maerkische-heide",
        name="Märkische Heide",
        official_name="Gemeinde Märkische Heide",
        short_code="MHD",
        street="Schulstraße 9",
        postal_code="15913",
        town="Märkische Heide",
        phone="035471 851 0",
        mail_domain="maerkische-heide.example",
        brand_colour="#0e5c63",
        official_key="12061316",
        extra_office_kinds=("kita",),
    ),
)


def leitweg_id(official_key: str, fine: str) -> str:
    """A Leitweg-ID (Grobadressierung-Feinadressierung-Prüfziffer) with its ISO 7064 check digits."""
    return f"{official_key}-{fine}-{mod_97_10.calc_check_digits(official_key + fine)}"


def _ensure_association(lines: list[str]) -> None:
    if db.session.scalar(select(Association).limit(1)) is not None:
        lines.append("Zweckverband: vorhanden")
        return
    db.session.add(
        Association(
            name="Digitale Kommunen Brandenburg",
            short_name="DKB",
            description=(
                "Der Zweckverband **Digitale Kommunen Brandenburg** betreibt dieses Portal für seine "
                "Mitgliedskommunen: Jede Kommune veröffentlicht hier ihre Nachrichten, Termine und "
                "Dokumente und bietet die Online-Dienste an, die sie aus dem gemeinsamen Katalog "
                "auswählt.\n\n"
                f"*{SAMPLE_NOTE}: Der Zweckverband und alle Angaben in diesem Portal sind Beispieldaten.*"
            ),
            street="Friedrich-Ebert-Straße 79",
            postal_code="14469",
            town="Potsdam",
            email="kontakt@digitale-kommunen-brandenburg.example",
            phone="0331 2000 100",
        )
    )
    lines.append("Zweckverband: angelegt")


def _ensure_offices(commune: Commune, demo: DemoCommune) -> int:
    existing = {o.slug for o in db.session.scalars(select(Office).where(Office.commune_id == commune.id))}
    created = 0
    for room, kind in enumerate((*REQUIRED_OFFICE_KINDS, *demo.extra_office_kinds), start=1):
        if kind in existing:
            continue
        db.session.add(
            Office(
                commune_id=commune.id,
                slug=kind,
                name=OFFICE_NAMES[kind],
                kind=kind,
                email=f"{kind}@{demo.mail_domain}",
                phone=f"{demo.phone.rsplit(' ', 1)[0]} {100 + room}",
                room=f"Rathaus, Zimmer {100 + room}",
                opening_hours=OFFICE_HOURS.get(kind, DEFAULT_OFFICE_HOURS),
            )
        )
        created += 1
    return created


def load_demo() -> list[str]:
    """Create the association, the five demo communes and their offices where missing."""
    lines: list[str] = []
    _ensure_association(lines)
    for demo in DEMO_COMMUNES:
        commune = db.session.scalar(select(Commune).where(Commune.slug == demo.slug))
        status = "vorhanden"
        if commune is None:
            commune = Commune(
                slug=demo.slug,
                name=demo.name,
                official_name=demo.official_name,
                short_code=demo.short_code,
                street=demo.street,
                postal_code=demo.postal_code,
                town=demo.town,
                phone=demo.phone,
                email=f"info@{demo.mail_domain}",
                website=f"https://www.{demo.mail_domain}",
                opening_hours=TOWN_HALL_HOURS,
                brand_colour=demo.brand_colour,
                leitweg_ids=[leitweg_id(demo.official_key, "0001")],
            )
            db.session.add(commune)
            db.session.flush()
            status = "angelegt"
        offices = _ensure_offices(commune, demo)
        lines.append(f"Kommune {demo.name} ({demo.short_code}): {status}, {offices} Ämter neu")
    db.session.commit()
    return lines
