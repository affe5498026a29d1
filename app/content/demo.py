"""Demo content for the five demo communes: pages, news, events and documents.

Everything is sample text ("Beispielinhalt") and says so. Dates are relative to
the day the demo is loaded. Items are found by their slug (pages by their path)
and only created when missing, so :func:`load_demo` can run any number of times.
Each commune also gets one private draft and one expired news item, so the
publication workflow can be seen at work.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer
from sqlalchemy import select

from app.content.models import Document, Event, NewsItem, Page, PublicationState
from app.content.services import create_document, create_event, create_news_item, create_page
from app.extensions import db
from app.tenancy.models import Commune
from app.timeutil import BERLIN, utcnow

PUBLISHED = PublicationState.PUBLISHED
#: Pages the footer links on every page; they stay out of the main navigation.
FOOTER_PAGES = frozenset({"impressum", "datenschutz", "barrierefreiheit", "leichte-sprache"})
SAMPLE = "> **Beispielinhalt:** Dieser Text zeigt, wie eine Kommune das Portal nutzen kann."


@dataclass(frozen=True)
class Profile:
    """How a commune names its bodies and what makes it distinct, for the sample texts."""

    kind: str  # "Stadt", "Gemeinde" or "Amt"
    council: str
    head: str
    feast: str
    feast_location: str
    landmark: str
    districts: str

    @property
    def of_kind(self) -> str:
        """The commune's kind in the genitive: "der Stadt", "der Gemeinde", "des Amtes"."""
        return "des Amtes" if self.kind == "Amt" else f"der {self.kind}"


PROFILES = {
    "werneuchen": Profile(
        kind="Stadt",
        council="Stadtverordnetenversammlung",
        head="Bürgermeister",
        feast="Werneuchener Stadtfest",
        feast_location="Marktplatz Werneuchen",
        landmark="die Stadtkirche am Markt",
        districts="Hirschfelde, Krummensee, Schönfeld, Seefeld, Tiefensee, Weesow und Werftpfuhl",
    ),
    "panketal": Profile(
        kind="Gemeinde",
        council="Gemeindevertretung",
        head="Bürgermeister",
        feast="Panketaler Herbstfest",
        feast_location="Festwiese am Rathaus Panketal",
        landmark="der Landschaftspark an der Panke",
        districts="Schwanebeck und Zepernick",
    ),
    "fuerstenberg-havel": Profile(
        kind="Stadt",
        council="Stadtverordnetenversammlung",
        head="Bürgermeister",
        feast="Fürstenberger Wasserfest",
        feast_location="Uferpromenade am Schwedtsee",
        landmark="die Seen rund um die Wasserstadt",
        districts="Altthymen, Blumenow, Bredereiche, Himmelpfort, Steinförde, Tornow und Zootzen",
    ),
    "amt-niemegk": Profile(
        kind="Amt",
        council="Amtsausschuss",
        head="Amtsdirektor",
        feast="Niemegker Heimatfest",
        feast_location="Marktplatz Niemegk",
        landmark="der Hohe Fläming mit seinen Rummeln",
        districts="Mühlenfließ, Niemegk, Planetal und Rabenstein/Fläming",
    ),
    "maerkische-heide": Profile(
        kind="Gemeinde",
        council="Gemeindevertretung",
        head="Bürgermeister",
        feast="Heidefest in Groß Leuthen",
        feast_location="Schlosspark Groß Leuthen",
        landmark="der Groß Leuthener See im Spreewald-Vorland",
        districts="Alt Schadow, Biebersdorf, Dollgen, Groß Leuthen, Krugau, Leibchel und weitere",
    ),
}


def _berlin(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), BERLIN).astimezone(UTC)


def _existing_slugs(model: type[NewsItem | Event | Document], commune: Commune) -> set[str]:
    return set(db.session.scalars(select(model.slug).where(model.commune_id == commune.id)))


# -- pages ------------------------------------------------------------------------------------


def _page_specs(commune: Commune, p: Profile) -> list[tuple[str, str | None, str, str, str]]:
    """(slug, parent slug, title, description, body) in tree order."""
    where = f"{commune.street}, {commune.postal_code} {commune.town}"
    of = p.of_kind
    return [
        (
            "rathaus",
            None,
            "Rathaus und Verwaltung",
            f"Wer in der Verwaltung {of} {commune.name} wofür zuständig ist.",
            f"{SAMPLE}\n\nDie Verwaltung {of} {commune.name} ist für Sie da: im Rathaus, am Telefon "
            "und mit ihren Online-Diensten in diesem Portal.\n\n"
            f"## Anschrift\n\n{commune.official_name}  \n{where}\n\n"
            "Die Sprechzeiten der einzelnen Ämter finden Sie auf der Seite *Kontakt*.",
        ),
        (
            "verwaltungsspitze",
            "rathaus",
            f"{p.head} und {p.council}",
            f"Die gewählten Gremien {of} {commune.name}.",
            f"{SAMPLE}\n\nDer {p.head} leitet die Verwaltung. Die {p.council} berät und beschließt "
            "in öffentlicher Sitzung über alle wichtigen Angelegenheiten.\n\n"
            "Die Sitzungstermine stehen unter *Veranstaltungen*, die Beschlüsse im Amtsblatt.",
        ),
        (
            "ortsrecht",
            "rathaus",
            "Ortsrecht und Satzungen",
            "Hauptsatzung, Gebührensatzungen und weitere Satzungen.",
            f"{SAMPLE}\n\nSatzungen und Verordnungen werden im Amtsblatt bekannt gemacht. "
            "Die gültigen Fassungen stehen unter *Dokumente* zum Herunterladen bereit.",
        ),
        (
            "leben",
            None,
            f"Leben in {commune.name}",
            "Familie, Bildung, Vereine und Freizeit.",
            f"{SAMPLE}\n\n{commune.name} mit den Ortsteilen {p.districts} ist ein guter Ort zum Leben. "
            f"Sehenswert ist {p.landmark}.",
        ),
        (
            "kitas-und-schulen",
            "leben",
            "Kitas und Schulen",
            "Betreuungsplätze, Anmeldung und Schulwege.",
            f"{SAMPLE}\n\nFür einen Platz in einer Kindertagesstätte melden Sie Ihr Kind bitte "
            "mindestens sechs Monate vor dem gewünschten Beginn an.\n\n"
            "- Krippe: ab dem ersten Lebensjahr\n- Kindergarten: ab drei Jahren\n"
            "- Hort: für Grundschulkinder",
        ),
        (
            "vereine",
            "leben",
            "Vereine und Ehrenamt",
            "Sport, Kultur, Feuerwehr: wer mitmachen möchte, ist willkommen.",
            f"{SAMPLE}\n\nÜber vierzig Vereine prägen das Leben vor Ort. Die Freiwillige Feuerwehr "
            "sucht immer Verstärkung – melden Sie sich beim Ordnungsamt.",
        ),
        (
            "wirtschaft",
            None,
            "Wirtschaft und Bauen",
            "Gewerbe anmelden, bauen, Flächen finden.",
            f"{SAMPLE}\n\nUnternehmen finden in {commune.name} Gewerbeflächen mit guter Anbindung. "
            "Gewerbeanmeldungen und Bauanträge stellen Sie online in diesem Portal.",
        ),
        (
            "bauleitplanung",
            "wirtschaft",
            "Bauleitplanung",
            "Flächennutzungsplan und Bebauungspläne.",
            f"{SAMPLE}\n\nDer Flächennutzungsplan und die rechtskräftigen Bebauungspläne können im "
            "Bauamt eingesehen werden. Während öffentlicher Auslegungen können Sie Stellungnahmen abgeben.",
        ),
        (
            "impressum",
            None,
            "Impressum",
            "Wer diese Seiten herausgibt.",
            f"{SAMPLE}\n\n## Herausgeber\n\n{commune.official_name}  \n{where}  \n"
            f"Telefon: {commune.phone}  \nE-Mail: {commune.email}\n\n"
            f"Vertreten durch den {p.head}.\n\n"
            f"{commune.official_name} ist eine Körperschaft des öffentlichen Rechts.\n\n"
            "## Technischer Betrieb\n\nZweckverband Digitale Kommunen Brandenburg (Beispiel), Potsdam.",
        ),
        (
            "datenschutz",
            None,
            "Datenschutzerklärung",
            "Wie wir mit Ihren Daten umgehen.",
            f"{SAMPLE}\n\n## Verantwortliche Stelle\n\n{commune.official_name}, {where}, "
            f"E-Mail: {commune.email}\n\n"
            "## Was wir speichern\n\nBeim Besuch dieser Seiten werden keine Cookies zu Werbe- oder "
            "Analysezwecken gesetzt. Gespeichert wird nur, was für den Betrieb nötig ist; Ihre Sprachwahl "
            "merkt sich ein Cookie.\n\n"
            "Wenn Sie einen Antrag stellen, verarbeiten wir Ihre Angaben nur zur Bearbeitung dieses "
            "Antrags und löschen sie nach Ablauf der gesetzlichen Aufbewahrungsfristen.\n\n"
            "## Ihre Rechte\n\nSie haben das Recht auf Auskunft, Berichtigung, Löschung und "
            "Einschränkung der Verarbeitung sowie das Recht, sich bei der Aufsichtsbehörde zu beschweren: "
            "der Landesbeauftragten für den Datenschutz und für das Recht auf Akteneinsicht Brandenburg, "
            "Stahnsdorfer Damm 77, 14532 Kleinmachnow.",
        ),
        (
            "barrierefreiheit",
            None,
            "Erklärung zur Barrierefreiheit",
            "Wie barrierefrei dieses Angebot ist und wo Sie Barrieren melden können.",
            f"{SAMPLE}\n\n{commune.official_name} ist bemüht, ihren Internetauftritt im Einklang mit dem "
            "Brandenburgischen Behindertengleichstellungsgesetz (BbgBGG) und der Brandenburgischen "
            "Barrierefreie-Informationstechnik-Verordnung (BbgBITV) barrierefrei zugänglich zu machen.\n\n"
            "## Stand der Vereinbarkeit\n\nDiese Website ist weitgehend mit den Anforderungen vereinbar. "
            "Ältere PDF-Dokumente, etwa frühere Ausgaben des Amtsblatts, sind noch nicht vollständig "
            "barrierefrei.\n\n"
            "## Barrieren melden: Feedback\n\nSind Ihnen Mängel aufgefallen? Schreiben Sie uns an "
            f"[{commune.email}](mailto:{commune.email}) oder rufen Sie uns an: {commune.phone}. "
            "Wir antworten innerhalb von zwei Wochen.\n\n"
            "## Durchsetzungsverfahren\n\nWenn Sie auf Ihre Rückmeldung keine zufriedenstellende Antwort "
            "erhalten, können Sie sich an die Durchsetzungsstelle wenden: die Landesbeauftragte für die "
            "Belange der Menschen mit Behinderungen des Landes Brandenburg, Henning-von-Tresckow-Straße "
            "2–13, 14467 Potsdam.\n\n"
            "Diese Erklärung wurde zuletzt beim Laden der Beispieldaten erstellt.",
        ),
        (
            "leichte-sprache",
            None,
            "Leichte Sprache",
            "Informationen über dieses Portal in Leichter Sprache.",
            f"{SAMPLE}\n\n## Das ist die Internet-Seite von {commune.name}.\n\n"
            "Hier finden Sie Nachrichten aus Ihrem Ort.\n\n"
            "Hier finden Sie Termine.\n\n"
            "Sie können hier auch Anträge stellen.\n\n"
            "Ein Antrag ist ein Brief an die Verwaltung.\n\n"
            "Sie schreiben den Antrag am Computer.\n\n"
            "Oder am Handy.\n\n"
            "## Sie haben Fragen?\n\n"
            "Rufen Sie uns an.\n\n"
            f"Die Telefon-Nummer ist: {commune.phone}\n\n"
            "Oder kommen Sie in das Rathaus.",
        ),
    ]


def _ensure_pages(commune: Commune, p: Profile) -> int:
    existing = list(db.session.scalars(select(Page).where(Page.commune_id == commune.id)))
    by_id = {page.id: page for page in existing}
    by_path = {}
    for page in existing:
        parent = by_id.get(page.parent_id) if page.parent_id else None
        by_path[f"{parent.slug}/{page.slug}" if parent else page.slug] = page
    created = 0
    for slug, parent_slug, title, description, body in _page_specs(commune, p):
        path = f"{parent_slug}/{slug}" if parent_slug else slug
        if path in by_path:
            continue
        parent = by_path[parent_slug] if parent_slug else None
        by_path[path] = create_page(
            commune,
            title,
            slug=slug,
            parent=parent,
            description=description,
            body=body,
            state=PUBLISHED,
            in_navigation=slug not in FOOTER_PAGES,
        )
        created += 1
    if "wirtschaft/neues-baugebiet" not in by_path:
        # A draft that only staff can see: the workflow's private state.
        create_page(
            commune,
            "Neues Baugebiet am Ortsrand (Entwurf)",
            slug="neues-baugebiet",
            parent=by_path["wirtschaft"],
            description="Noch nicht veröffentlicht.",
            body=f"{SAMPLE}\n\nEntwurf: Informationen zum geplanten Baugebiet folgen nach dem Beschluss.",
        )
        created += 1
    return created


# -- news -------------------------------------------------------------------------------------


def _news_image(commune: Commune) -> bytes:
    """A simple banner in the commune's colour, generated so the demo needs no image files."""
    image = Image.new("RGB", (960, 400), commune.brand_colour)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=64)
    small = ImageFont.load_default(size=32)
    draw.rectangle((40, 40, 920, 360), outline="white", width=6)
    draw.text((80, 120), "Online-Dienste", fill="white", font=font)
    draw.text((80, 220), f"{commune.name} · Beispielbild", fill="white", font=small)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _ensure_news(commune: Commune, p: Profile, today: date) -> int:
    existing = _existing_slugs(NewsItem, commune)
    now = utcnow()
    specs = [
        (
            "online-antraege",
            2,
            "Anträge jetzt auch online stellen",
            f"{commune.official_name} bietet ab sofort viele Anträge digital an.",
            f"{SAMPLE}\n\nOb Gewerbeanmeldung, Meldebescheinigung oder Hundesteuer: viele Anliegen "
            "erledigen Sie jetzt rund um die Uhr in diesem Portal. Sie erhalten sofort eine "
            "Eingangsbestätigung mit Aktenzeichen.",
            True,
        ),
        (
            "neue-sprechzeiten-buergeramt",
            5,
            "Neue Sprechzeiten im Bürgeramt",
            "Dienstags ist das Bürgeramt künftig bis 18 Uhr geöffnet.",
            f"{SAMPLE}\n\nUm Berufstätigen entgegenzukommen, verlängert das Bürgeramt die Sprechzeit "
            "am Dienstag bis 18:00 Uhr. Bitte buchen Sie einen Termin.",
            False,
        ),
        (
            "breitbandausbau",
            9,
            "Breitbandausbau kommt voran",
            f"In weiteren Ortsteilen von {commune.name} werden Glasfaseranschlüsse verlegt.",
            f"{SAMPLE}\n\nDie Tiefbauarbeiten für das Glasfasernetz gehen in die nächste Runde. "
            "Während der Arbeiten kann es zu kurzen Sperrungen kommen.",
            False,
        ),
        (
            "ferienangebote",
            14,
            "Ferienangebote für Kinder und Jugendliche",
            "Das Sommerferienprogramm ist erschienen: Anmeldungen sind ab sofort möglich.",
            f"{SAMPLE}\n\nVon Kanutouren bis zur Theaterwerkstatt: Vereine und Jugendclub haben ein "
            "buntes Programm zusammengestellt.",
            False,
        ),
        (
            "wahlhelfer-gesucht",
            21,
            "Wahlhelferinnen und Wahlhelfer gesucht",
            "Für die nächste Wahl werden noch ehrenamtliche Helferinnen und Helfer gesucht.",
            f"{SAMPLE}\n\nAls Mitglied eines Wahlvorstands erhalten Sie ein Erfrischungsgeld. "
            "Melden Sie sich beim Wahlamt.",
            False,
        ),
        (
            "sitzung-haushalt",
            30,
            f"{p.council} beschließt den Haushalt",
            f"Die {p.council} hat den Haushalt für das kommende Jahr beschlossen.",
            f"{SAMPLE}\n\nSchwerpunkte sind Kitas, Schulen und der Straßenbau. Der Haushaltsplan liegt "
            "zur Einsicht in der Kämmerei aus.",
            False,
        ),
    ]
    created = 0
    for slug, days_ago, title, lead, body, with_image in specs:
        if slug in existing:
            continue
        create_news_item(
            commune,
            title,
            slug=slug,
            news_date=today - timedelta(days=days_ago),
            lead=lead,
            body=body,
            image=_news_image(commune) if with_image else None,
            image_alt=f"Schriftzug „Online-Dienste“ auf einer Fläche in der Farbe von {commune.name}"
            if with_image
            else "",
            state=PUBLISHED,
        )
        created += 1
    if "vollsperrung-dorfstrasse" not in existing:
        # Expired yesterday: gone from every listing, feed and search.
        create_news_item(
            commune,
            "Vollsperrung der Dorfstraße",
            slug="vollsperrung-dorfstrasse",
            news_date=today - timedelta(days=12),
            lead="Wegen Kanalarbeiten war die Dorfstraße gesperrt.",
            body=f"{SAMPLE}\n\nDie Sperrung ist aufgehoben.",
            state=PUBLISHED,
            expires_at=now - timedelta(days=1),
        )
        created += 1
    if "entwurf-buergerhaushalt" not in existing:
        create_news_item(
            commune,
            "Bürgerhaushalt: Ihre Ideen sind gefragt (Entwurf)",
            slug="entwurf-buergerhaushalt",
            news_date=today,
            lead="Entwurf, wartet auf Freigabe.",
            body=f"{SAMPLE}\n\nDieser Text wartet auf die Freigabe durch die Redaktion.",
            state=PublicationState.PENDING,
        )
        created += 1
    return created


# -- events -----------------------------------------------------------------------------------


def _ensure_events(commune: Commune, p: Profile, today: date) -> int:
    existing = _existing_slugs(Event, commune)
    town_hall = f"Rathaus, Sitzungssaal, {commune.street}, {commune.postal_code} {commune.town}"
    specs: list[tuple[str, str, datetime, datetime | None, bool, str, str]] = [
        (
            "oeffentliche-sitzung",
            f"Öffentliche Sitzung der {p.council}",
            _berlin(today + timedelta(days=6), 19),
            _berlin(today + timedelta(days=6), 21),
            False,
            town_hall,
            f"{SAMPLE}\n\nDie Tagesordnung wird eine Woche vorher im Amtsblatt bekannt gemacht. "
            "Zu Beginn gibt es eine Einwohnerfragestunde.",
        ),
        (
            "sprechstunde-verwaltungsspitze",
            f"Sprechstunde des {p.head}s",
            _berlin(today + timedelta(days=13), 15),
            _berlin(today + timedelta(days=13), 17),
            False,
            f"Rathaus, {commune.street}",
            f"{SAMPLE}\n\nOhne Anmeldung: Bringen Sie Ihre Fragen und Anregungen mit.",
        ),
        (
            "fest",
            p.feast,
            _berlin(today + timedelta(days=24), 0),
            _berlin(today + timedelta(days=25), 0),
            True,
            p.feast_location,
            f"{SAMPLE}\n\nZwei Tage Musik, Markt und Mitmachangebote für die ganze Familie. "
            "Der Eintritt ist frei.",
        ),
        (
            "seniorennachmittag",
            "Seniorennachmittag mit Kaffee und Kuchen",
            _berlin(today + timedelta(days=34), 14, 30),
            _berlin(today + timedelta(days=34), 17),
            False,
            "Bürgerhaus",
            f"{SAMPLE}\n\nDer Seniorenbeirat lädt herzlich ein.",
        ),
        (
            "buergerversammlung",
            "Einwohnerversammlung zur Ortsentwicklung",
            _berlin(today - timedelta(days=10), 18),
            _berlin(today - timedelta(days=10), 20),
            False,
            town_hall,
            f"{SAMPLE}\n\nVorgestellt wurden die Ergebnisse der Bürgerbefragung.",
        ),
        (
            "blutspende",
            "Blutspende im Gemeindezentrum",
            _berlin(today - timedelta(days=27), 15),
            _berlin(today - timedelta(days=27), 19),
            False,
            "Gemeindezentrum",
            f"{SAMPLE}\n\nVielen Dank an alle, die gespendet haben.",
        ),
    ]
    created = 0
    for slug, title, starts_at, ends_at, all_day, location, body in specs:
        if slug in existing:
            continue
        create_event(
            commune,
            title,
            slug=slug,
            starts_at=starts_at,
            ends_at=ends_at,
            all_day=all_day,
            location=location,
            body=body,
            state=PUBLISHED,
        )
        created += 1
    return created


# -- documents --------------------------------------------------------------------------------


def sample_pdf(title: str, paragraphs: list[str]) -> bytes:
    """A small real PDF with a heading and paragraphs; identical input gives identical bytes."""
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        title=title,
        author="Kommunalportal (Beispiel)",
        invariant=1,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=25 * mm,
        bottomMargin=25 * mm,
    )
    styles = getSampleStyleSheet()
    story = [Paragraph(title, styles["Title"]), Spacer(1, 6 * mm)]
    for text in paragraphs:
        story.extend([Paragraph(text, styles["BodyText"]), Spacer(1, 3 * mm)])
    doc.build(story)
    return out.getvalue()


def _ensure_documents(commune: Commune, p: Profile, today: date) -> int:
    existing = _existing_slugs(Document, commune)
    issue = f"{today.month:02d}/{today.year}"
    specs = [
        (
            "amtsblatt-aktuell",
            f"Amtsblatt {issue}",
            f"amtsblatt-{commune.slug}-{today.year}-{today.month:02d}.pdf",
            f"Amtliches Bekanntmachungsblatt {p.of_kind} "
            f"{commune.name}, Ausgabe {issue}.",
            [
                "Beispielinhalt – kein amtliches Dokument.",
                f"Amtsblatt für {commune.official_name}, Ausgabe {issue}.",
                f"1. Bekanntmachung der Tagesordnung der nächsten Sitzung der {p.council}.",
                "2. Öffentliche Auslegung des Entwurfs eines Bebauungsplans.",
                "3. Hinweise zur Straßenreinigung und zum Winterdienst.",
            ],
        ),
        (
            "hauptsatzung",
            "Hauptsatzung",
            f"Hauptsatzung {commune.name}.pdf",
            f"Die Hauptsatzung {p.of_kind} {commune.name} "
            "in der geltenden Fassung.",
            [
                "Beispielinhalt – kein amtliches Dokument.",
                f"§ 1 Name und Wappen: {commune.official_name} führt ein Wappen und ein Dienstsiegel.",
                "§ 2 Öffentliche Bekanntmachungen erfolgen im Amtsblatt.",
                f"§ 3 Die {p.council} tritt mindestens viermal im Jahr zusammen.",
            ],
        ),
    ]
    created = 0
    for slug, title, filename, description, paragraphs in specs:
        if slug in existing:
            continue
        create_document(
            commune,
            title,
            slug=slug,
            filename=filename,
            data=sample_pdf(f"{title} – {commune.official_name}", paragraphs),
            description=description,
            state=PUBLISHED,
        )
        created += 1
    return created


def load_demo() -> list[str]:
    """Create the demo content of every demo commune that exists, where missing."""
    lines: list[str] = []
    today = datetime.now(BERLIN).date()
    for slug, profile in PROFILES.items():
        commune = db.session.scalar(select(Commune).where(Commune.slug == slug))
        if commune is None:
            continue
        pages = _ensure_pages(commune, profile)
        news = _ensure_news(commune, profile, today)
        events = _ensure_events(commune, profile, today)
        documents = _ensure_documents(commune, profile, today)
        db.session.commit()
        lines.append(
            f"Inhalte {commune.name}: {pages} Seiten, {news} Nachrichten, {events} Veranstaltungen, "
            f"{documents} Dokumente neu"
        )
    return lines
