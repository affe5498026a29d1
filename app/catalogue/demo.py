"""Demo data: each demo commune switches on its own choice of the catalogue.

Idempotent: an existing choice is left as the commune (or an earlier run) set it;
only missing ones are added. Runs after the tenancy demo, which creates the
communes and their offices.
"""

from __future__ import annotations

from sqlalchemy import select

from app.catalogue.models import CommuneService
from app.catalogue.services import get_catalogue
from app.extensions import db
from app.tenancy.models import Commune, Office

#: The services each demo commune offers, in the order its catalogue page lists them;
#: the first three are featured on its home page.
DEMO_CHOICES: dict[str, tuple[str, ...]] = {
    # Werneuchen has an office of every kind and offers the whole catalogue.
    "werneuchen": (
        "hund-anmelden",
        "maengelmelder",
        "meldebescheinigung",
        "hund-abmelden",
        "gewerbeanmeldung",
        "gewerbeabmeldung",
        "sondernutzungserlaubnis",
        "akteneinsicht",
        "personenstandsurkunde",
        "veranstaltungsanzeige",
        "kita-anmeldung",
        "fundsache-verlustanzeige",
        "baumfaellgenehmigung",
        "briefwahl",
        "kontakt",
        "e-rechnung",
    ),
    "panketal": (
        "gewerbeanmeldung",
        "kita-anmeldung",
        "maengelmelder",
        "gewerbeabmeldung",
        "hund-anmelden",
        "hund-abmelden",
        "baumfaellgenehmigung",
        "briefwahl",
        "meldebescheinigung",
        "e-rechnung",
    ),
    "fuerstenberg-havel": (
        "veranstaltungsanzeige",
        "sondernutzungserlaubnis",
        "fundsache-verlustanzeige",
        "meldebescheinigung",
        "personenstandsurkunde",
        "maengelmelder",
        "kontakt",
        "akteneinsicht",
        "e-rechnung",
    ),
    "amt-niemegk": (
        "briefwahl",
        "personenstandsurkunde",
        "akteneinsicht",
        "meldebescheinigung",
        "hund-anmelden",
        "hund-abmelden",
        "kontakt",
        "baumfaellgenehmigung",
    ),
    "maerkische-heide": (
        "maengelmelder",
        "baumfaellgenehmigung",
        "kita-anmeldung",
        "gewerbeanmeldung",
        "gewerbeabmeldung",
        "fundsache-verlustanzeige",
        "sondernutzungserlaubnis",
        "e-rechnung",
    ),
}
#: How many services each demo commune features.
FEATURED_PER_COMMUNE = 3
#: Werneuchen delivers by e-mail only, to an address of its own.
WERNEUCHEN_EMAIL = "antraege@werneuchen.example"


def _office_for(commune: Commune, office_kind: str) -> Office | None:
    offices = list(
        db.session.scalars(
            select(Office).where(Office.commune_id == commune.id, Office.active).order_by(Office.id)
        )
    )
    for office in offices:
        if office.kind == office_kind:
            return office
    return None


def load_demo() -> list[str]:
    """Switch on each demo commune's services, routed to the office of the matching kind."""
    catalogue = get_catalogue()
    messages: list[str] = []
    for commune_slug, slugs in DEMO_CHOICES.items():
        commune = db.session.scalar(select(Commune).where(Commune.slug == commune_slug))
        if commune is None:
            messages.append(f"commune {commune_slug} missing, no services switched on")
            continue
        added = 0
        for position, slug in enumerate(slugs):
            spec = catalogue.get(slug, commune_slug)
            if spec is None:
                messages.append(f"service {slug} not in forms/, skipped for {commune_slug}")
                continue
            exists = db.session.scalar(
                select(CommuneService.id).where(
                    CommuneService.commune_id == commune.id, CommuneService.service_slug == slug
                )
            )
            if exists is not None:
                continue
            office = _office_for(commune, spec.office_kind)
            if office is None:
                messages.append(f"{commune_slug} has no office of kind {spec.office_kind!r} for {slug}")
            choice = CommuneService(
                commune_id=commune.id,
                service_slug=slug,
                enabled=True,
                office_id=office.id if office is not None else None,
                featured=position < FEATURED_PER_COMMUNE,
                position=position,
            )
            if commune_slug == "werneuchen":
                choice.deliver_by_email = True
                choice.email_to = WERNEUCHEN_EMAIL
            db.session.add(choice)
            added += 1
        messages.append(f"{commune_slug} offers {added} more services")
    db.session.commit()
    return messages
