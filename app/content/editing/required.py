"""The pages every commune must have: Impressum, privacy notice, accessibility statement
(with its feedback contact) and a page in Leichte Sprache.

They sit at the top of the tree under fixed slugs (the footer links them), and can
be edited but never deleted, moved, renamed or retracted (see
:mod:`app.content.editing.services`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.content import services as content
from app.content.editing.versions import record_version
from app.content.models import ContentItem, Page, PublicationState
from app.content.services import ContentError
from app.extensions import db
from app.staff.models import User
from app.tenancy.models import Commune


@dataclass(frozen=True)
class RequiredPage:
    """A page every commune must have: at the top of the tree, under a fixed slug."""

    slug: str
    title: str
    description: str


#: The legal pages the footer of every commune page links to.
REQUIRED_PAGES = (
    RequiredPage("impressum", "Impressum", "Wer diese Seiten herausgibt."),
    RequiredPage("datenschutz", "Datenschutzerklärung", "Wie wir mit Ihren Daten umgehen."),
    RequiredPage(
        "barrierefreiheit",
        "Erklärung zur Barrierefreiheit",
        "Wie barrierefrei dieses Angebot ist und wo Sie Barrieren melden können.",
    ),
    RequiredPage(
        "leichte-sprache", "Leichte Sprache", "Informationen über dieses Portal in Leichter Sprache."
    ),
)
REQUIRED_SLUGS = frozenset(p.slug for p in REQUIRED_PAGES)
_EMAIL = re.compile(r"[^\s@<>()\[\]]+@[^\s@<>()\[\]]+\.[a-z]{2,}", re.IGNORECASE)


def is_required_page(item: ContentItem) -> bool:
    """Whether the item is one of the commune's required pages (never deleted, moved or renamed)."""
    return isinstance(item, Page) and item.parent_id is None and item.slug in REQUIRED_SLUGS


def _required_body(slug: str, commune: Commune) -> str:
    where = ", ".join(commune.address_lines)
    contact = commune.email or "–"
    phone = f" oder rufen Sie uns an: {commune.phone}" if commune.phone else ""
    mail_link = f"[{commune.email}](mailto:{commune.email})" if commune.email else "die Verwaltung"
    bodies = {
        "impressum": (
            f"## Herausgeber\n\n{commune.official_name}  \n{where}  \n"
            f"Telefon: {commune.phone or '–'}  \nE-Mail: {contact}\n\n"
            f"{commune.official_name} ist eine Körperschaft des öffentlichen Rechts."
        ),
        "datenschutz": (
            f"## Verantwortliche Stelle\n\n{commune.official_name}, {where}, E-Mail: {contact}\n\n"
            "## Was wir speichern\n\nGespeichert wird nur, was für den Betrieb dieser Seiten und die "
            "Bearbeitung Ihrer Anträge nötig ist; Ihre Sprachwahl merkt sich ein Cookie.\n\n"
            "## Ihre Rechte\n\nSie haben das Recht auf Auskunft, Berichtigung, Löschung und Einschränkung "
            "der Verarbeitung sowie das Recht, sich bei der Datenschutz-Aufsichtsbehörde zu beschweren."
        ),
        "barrierefreiheit": (
            f"{commune.official_name} ist bemüht, diesen Internetauftritt barrierefrei zugänglich "
            "zu machen.\n\n"
            "## Barrieren melden: Feedback\n\nSind Ihnen Mängel aufgefallen? Schreiben Sie uns an "
            f"{mail_link}{phone}."
        ),
        "leichte-sprache": (
            f"## Das ist die Internet-Seite von {commune.name}.\n\n"
            "Hier finden Sie Nachrichten aus Ihrem Ort.\n\n"
            "Hier können Sie Anträge stellen.\n\n"
            "## Sie haben Fragen?\n\nSchreiben Sie uns eine E-Mail.\n\n"
            f"Die Adresse ist: {contact}"
        ),
    }
    return bodies[slug]


def ensure_required_pages(commune: Commune, actor: User | None = None) -> list[Page]:
    """Create the required pages the commune does not have yet (published, out of the main
    navigation, with a first text from the commune's profile); returns the new pages.

    Call it when a commune is created; it may run any number of times.
    """
    existing = set(
        db.session.scalars(select(Page.slug).where(Page.commune_id == commune.id, Page.parent_id.is_(None)))
    )
    created: list[Page] = []
    for required in REQUIRED_PAGES:
        if required.slug in existing:
            continue
        page = content.create_page(
            commune,
            required.title,
            slug=required.slug,
            description=required.description,
            body=_required_body(required.slug, commune),
            in_navigation=False,
            state=PublicationState.PUBLISHED,
            created_by_id=actor.id if actor is not None else None,
        )
        record_version(page, actor, _l("Angelegt"))
        created.append(page)
    return created


def check_required_text(page: Page) -> None:
    """Refuse an accessibility statement that no longer names a feedback e-mail address."""
    if page.slug == "barrierefreiheit" and page.parent_id is None and not _EMAIL.search(page.body):
        raise ContentError(
            _l(
                "Die Erklärung zur Barrierefreiheit muss eine Kontaktmöglichkeit für Rückmeldungen nennen: "
                "bitte geben Sie eine E-Mail-Adresse an."
            )
        )
