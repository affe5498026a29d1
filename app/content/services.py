"""Domain functions for content: creating items, the publication workflow, public queries.

Every public query goes through :func:`app.content.models.visible_to_public`;
the page tree additionally hides a page whose parent is hidden. Functions here
add to the session and flush but never commit: the caller owns the transaction.
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

import filetype
from flask_babel import lazy_gettext as _l
from slugify import slugify
from sqlalchemy import ColumnElement, Integer, Select, bindparam, func, select

from app.content.models import (
    ContentItem,
    Document,
    Event,
    NewsItem,
    Page,
    PublicationState,
    visible_to_public,
)
from app.extensions import db
from app.storage import blob_store
from app.tenancy.models import Commune
from app.timeutil import BERLIN, UTCDateTime

#: First path segments that belong to other routes of a commune; a top-level page may not use them.
RESERVED_PAGE_SLUGS = frozenset(
    {"news", "events", "documents", "contact", "search", "coat-of-arms", "services", "status", "static"}
)
#: Event slugs that would be shadowed by the events routes.
RESERVED_EVENT_SLUGS = frozenset({"archive"})
RESERVED_NEWS_SLUGS = frozenset({"feed.atom"})
SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,118}[a-z0-9])?$")
_GERMAN_REPLACEMENTS = [
    ["Ä", "Ae"], ["Ö", "Oe"], ["Ü", "Ue"], ["ä", "ae"], ["ö", "oe"], ["ü", "ue"], ["ß", "ss"],
]
#: Media types a browser would run as a document; downloads of these are served as plain bytes.
_ACTIVE_MEDIA_TYPES = frozenset(
    {"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml", "text/javascript"}
)
IMAGE_MEDIA_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})

T = TypeVar("T", Page, NewsItem, Event, Document)


class ContentError(ValueError):
    """Content that cannot be stored as given.

    The message (``str(error)``) is for the editor; it is translated lazily, when shown.
    """


class WorkflowError(ContentError):
    """A workflow transition that the item's current state does not allow."""


# -- slugs and file names -----------------------------------------------------------------------


def make_slug(title: str) -> str:
    """A URL slug from a German title: ``Straßenfest in Fürstenberg`` → ``strassenfest-in-fuerstenberg``."""
    slug = slugify(title, replacements=_GERMAN_REPLACEMENTS, max_length=120, word_boundary=True)
    return slug or "eintrag"


def _check_slug(slug: str, reserved: Iterable[str] = ()) -> str:
    if not SLUG_PATTERN.match(slug):
        raise ContentError(
            _l("Die Kurzadresse darf nur Kleinbuchstaben, Ziffern und Bindestriche enthalten.")
        )
    if slug in reserved:
        raise ContentError(_l("Die Kurzadresse „%(slug)s“ ist für das Portal reserviert.", slug=slug))
    return slug


def sanitize_filename(name: str, fallback: str = "download") -> str:
    """A file name that is safe in a Content-Disposition header and on any file system.

    Keeps letters (also umlauts), digits, spaces, dots, dashes and underscores;
    drops any directory part, control characters and quotes.
    """
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] in "LN" or ch in " ._-()")
    name = " ".join(name.split()).strip(". ")
    return name[:200] or fallback


def detect_media_type(data: bytes, filename: str) -> str:
    """The media type of a file, by its content first and its name second."""
    kind = filetype.guess(data)
    media_type = kind.mime if kind is not None else mimetypes.guess_type(filename)[0]
    if not media_type or media_type in _ACTIVE_MEDIA_TYPES:
        return "application/octet-stream"
    return media_type


# -- creating items -----------------------------------------------------------------------------


def _common(
    item: T,
    *,
    body: str,
    state: PublicationState,
    effective_at: datetime | None,
    expires_at: datetime | None,
    created_by_id: int | None,
) -> T:
    if effective_at is not None and expires_at is not None and expires_at <= effective_at:
        raise ContentError(_l("Das Ablaufdatum muss nach dem Veröffentlichungsdatum liegen."))
    item.body = body
    item.state = state
    item.effective_at = effective_at
    item.expires_at = expires_at
    item.created_by_id = created_by_id
    return item


def _slug_taken(model: type[ContentItem], commune: Commune, slug: str) -> bool:
    return (
        db.session.scalar(
            select(func.count()).select_from(model).where(model.commune_id == commune.id, model.slug == slug)
        )
        or 0
    ) > 0


def create_page(
    commune: Commune,
    title: str,
    *,
    slug: str | None = None,
    parent: Page | None = None,
    description: str = "",
    body: str = "",
    position: int | None = None,
    in_navigation: bool = True,
    state: PublicationState = PublicationState.PRIVATE,
    effective_at: datetime | None = None,
    expires_at: datetime | None = None,
    created_by_id: int | None = None,
) -> Page:
    """A new page, under ``parent`` or at the top of the commune's tree."""
    if parent is not None and parent.commune_id != commune.id:
        raise ContentError(_l("Die übergeordnete Seite gehört zu einer anderen Kommune."))
    slug = _check_slug(slug or make_slug(title), RESERVED_PAGE_SLUGS if parent is None else ())
    parent_id = parent.id if parent is not None else None
    siblings = select(Page).where(
        Page.commune_id == commune.id,
        Page.parent_id.is_(None) if parent_id is None else Page.parent_id == parent_id,
    )
    existing = list(db.session.scalars(siblings))
    if any(p.slug == slug for p in existing):
        raise ContentError(_l("Auf dieser Ebene gibt es schon eine Seite „%(slug)s“.", slug=slug))
    if position is None:
        position = max((p.position for p in existing), default=-1) + 1
    page = Page(
        commune_id=commune.id,
        parent_id=parent_id,
        slug=slug,
        title=title,
        description=description,
        position=position,
        in_navigation=in_navigation,
    )
    _common(
        page,
        body=body,
        state=state,
        effective_at=effective_at,
        expires_at=expires_at,
        created_by_id=created_by_id,
    )
    db.session.add(page)
    db.session.flush()
    return page


def store_news_image(item: NewsItem, data: bytes, alt: str) -> None:
    """Attach an image to a news item; it must be a PNG, JPEG, WebP or GIF and have alt text."""
    media_type = detect_media_type(data, "")
    if media_type not in IMAGE_MEDIA_TYPES:
        raise ContentError(_l("Das Bild muss eine PNG-, JPEG-, WebP- oder GIF-Datei sein."))
    if not alt.strip():
        raise ContentError(_l("Bitte beschreiben Sie das Bild in einem Alternativtext."))
    stored = blob_store().put(data, session=db.session)
    item.image_key = stored.key
    item.image_type = media_type
    item.image_alt = alt.strip()


def create_news_item(
    commune: Commune,
    title: str,
    *,
    news_date: date,
    lead: str = "",
    body: str = "",
    slug: str | None = None,
    image: bytes | None = None,
    image_alt: str = "",
    state: PublicationState = PublicationState.PRIVATE,
    effective_at: datetime | None = None,
    expires_at: datetime | None = None,
    created_by_id: int | None = None,
) -> NewsItem:
    """A new news item; ``image`` (optional) is stored in blob storage."""
    slug = _check_slug(slug or make_slug(title), RESERVED_NEWS_SLUGS)
    if _slug_taken(NewsItem, commune, slug):
        raise ContentError(_l("Es gibt schon eine Nachricht „%(slug)s“.", slug=slug))
    item = NewsItem(commune_id=commune.id, slug=slug, title=title, news_date=news_date, lead=lead)
    _common(
        item,
        body=body,
        state=state,
        effective_at=effective_at,
        expires_at=expires_at,
        created_by_id=created_by_id,
    )
    if image is not None:
        store_news_image(item, image, image_alt)
    db.session.add(item)
    db.session.flush()
    return item


def event_times(
    starts_at: datetime, ends_at: datetime | None, all_day: bool
) -> tuple[datetime, datetime]:
    """Start and end as stored: all-day events span whole days in Berlin; a missing end is the start."""
    if starts_at.tzinfo is None or (ends_at is not None and ends_at.tzinfo is None):
        raise ContentError(_l("Beginn und Ende brauchen eine Zeitzone."))
    if all_day:
        first = starts_at.astimezone(BERLIN).date()
        last = (ends_at or starts_at).astimezone(BERLIN).date()
        starts_at = datetime.combine(first, time.min, BERLIN).astimezone(UTC)
        next_day = datetime.combine(last + timedelta(days=1), time.min, BERLIN)
        ends_at = (next_day - timedelta(seconds=1)).astimezone(UTC)
    ends_at = ends_at or starts_at
    if ends_at < starts_at:
        raise ContentError(_l("Das Ende darf nicht vor dem Beginn liegen."))
    return starts_at, ends_at


def create_event(
    commune: Commune,
    title: str,
    *,
    starts_at: datetime,
    ends_at: datetime | None = None,
    all_day: bool = False,
    location: str = "",
    body: str = "",
    slug: str | None = None,
    state: PublicationState = PublicationState.PRIVATE,
    effective_at: datetime | None = None,
    expires_at: datetime | None = None,
    created_by_id: int | None = None,
) -> Event:
    """A new event; times are aware datetimes (stored in UTC)."""
    slug = _check_slug(slug or make_slug(title), RESERVED_EVENT_SLUGS)
    if _slug_taken(Event, commune, slug):
        raise ContentError(_l("Es gibt schon eine Veranstaltung „%(slug)s“.", slug=slug))
    start, end = event_times(starts_at, ends_at, all_day)
    event = Event(
        commune_id=commune.id,
        slug=slug,
        title=title,
        starts_at=start,
        ends_at=end,
        all_day=all_day,
        location=location,
    )
    _common(
        event,
        body=body,
        state=state,
        effective_at=effective_at,
        expires_at=expires_at,
        created_by_id=created_by_id,
    )
    db.session.add(event)
    db.session.flush()
    return event


def create_document(
    commune: Commune,
    title: str,
    *,
    filename: str,
    data: bytes,
    description: str = "",
    body: str = "",
    slug: str | None = None,
    state: PublicationState = PublicationState.PRIVATE,
    effective_at: datetime | None = None,
    expires_at: datetime | None = None,
    created_by_id: int | None = None,
) -> Document:
    """A new downloadable document; the bytes go to blob storage, their type is detected."""
    if not data:
        raise ContentError(_l("Die Datei ist leer."))
    slug = _check_slug(slug or make_slug(title))
    if _slug_taken(Document, commune, slug):
        raise ContentError(_l("Es gibt schon ein Dokument „%(slug)s“.", slug=slug))
    clean_name = sanitize_filename(filename)
    stored = blob_store().put(data, session=db.session)
    document = Document(
        commune_id=commune.id,
        slug=slug,
        title=title,
        description=description,
        file_key=stored.key,
        filename=clean_name,
        media_type=detect_media_type(data, clean_name),
        size=stored.size,
        sha256=stored.sha256,
    )
    _common(
        document,
        body=body,
        state=state,
        effective_at=effective_at,
        expires_at=expires_at,
        created_by_id=created_by_id,
    )
    db.session.add(document)
    db.session.flush()
    return document


# -- the publication workflow -------------------------------------------------------------------

#: transition name → (states it starts from, state it ends in); Plone's simple publication workflow.
TRANSITIONS: dict[str, tuple[frozenset[PublicationState], PublicationState]] = {
    "submit": (frozenset({PublicationState.PRIVATE}), PublicationState.PENDING),
    "publish": (frozenset({PublicationState.PRIVATE, PublicationState.PENDING}), PublicationState.PUBLISHED),
    "retract": (frozenset({PublicationState.PUBLISHED, PublicationState.PENDING}), PublicationState.PRIVATE),
    "reject": (frozenset({PublicationState.PENDING}), PublicationState.PRIVATE),
}


def available_transitions(item: ContentItem) -> list[str]:
    """The transitions the item's state allows, in workflow order."""
    return [name for name, (sources, _target) in TRANSITIONS.items() if item.state in sources]


def _transition(item: ContentItem, name: str) -> None:
    sources, target = TRANSITIONS[name]
    if item.state not in sources:
        raise WorkflowError(
            _l(
                "„%(title)s“ ist im Zustand „%(state)s“; „%(transition)s“ ist so nicht möglich.",
                title=item.title,
                state=item.state.value,
                transition=name,
            )
        )
    item.state = target
    db.session.flush()


def submit(item: ContentItem) -> None:
    """Ask a reviewer to publish: private → pending."""
    item.review_comment = ""
    _transition(item, "submit")


def publish(item: ContentItem) -> None:
    """Make the item public (from its effective date on): private or pending → published."""
    item.review_comment = ""
    _transition(item, "publish")


def retract(item: ContentItem) -> None:
    """Take the item back: published or pending → private."""
    _transition(item, "retract")


def reject(item: ContentItem, comment: str) -> None:
    """Send a pending item back to its author with a reason: pending → private."""
    if not comment.strip():
        raise WorkflowError(_l("Bitte begründen Sie die Zurückweisung."))
    _transition(item, "reject")
    item.review_comment = comment.strip()
    db.session.flush()


# -- what visitors see --------------------------------------------------------------------------
#
# The statements behind every public page are built once, with bound parameters: the pages
# are read on every request, and building and keying a statement costs as much as running it.

_NOW = bindparam("now", type_=UTCDateTime())
_COMMUNE = bindparam("commune_id", type_=Integer())
_LIMIT = bindparam("limit", type_=Integer())
_OFFSET = bindparam("offset", type_=Integer())


def _visible(model: type[ContentItem]) -> tuple[ColumnElement[bool], ...]:
    """The conditions of a commune's items that visitors may see (parameters ``commune_id``, ``now``)."""
    return (model.commune_id == _COMMUNE, visible_to_public(model, _NOW))


def _params(commune: Commune, now: datetime, **more: object) -> dict[str, object]:
    return {"commune_id": commune.id, "now": now, **more}


def _one(stmt: Select[tuple[T]], commune: Commune, slug: str, now: datetime) -> T | None:
    """The visible item of a statement that selects by ``slug``."""
    return db.session.scalar(stmt, _params(commune, now, slug=slug))


def _page_of(
    stmt: Select[Any], commune: Commune, now: datetime, page: int, per_page: int
) -> tuple[list[Any], int]:
    """One page of a statement that counts all its rows as ``total``, and that total.

    A page past the end comes back empty with a total of 0.
    """
    rows = db.session.execute(stmt, _params(commune, now, limit=per_page, offset=(page - 1) * per_page)).all()
    return [row[0] for row in rows], (rows[0].total if rows else 0)


@dataclass(frozen=True, slots=True)
class PageNode:
    """A page as the navigation sees it: enough to link to it, without its body."""

    id: int
    parent_id: int | None
    slug: str
    title: str
    description: str
    in_navigation: bool


@dataclass
class PageTree:
    """A commune's visible pages, loaded in one query; a hidden page hides its subtree."""

    roots: list[PageNode] = field(default_factory=list)
    children: dict[int, list[PageNode]] = field(default_factory=dict)
    parents: dict[int, PageNode | None] = field(default_factory=dict)

    def children_of(self, page: PageNode) -> list[PageNode]:
        return self.children.get(page.id, [])

    def ancestors(self, page: PageNode) -> list[PageNode]:
        """From the top of the tree down to the page's parent."""
        chain: list[PageNode] = []
        parent = self.parents.get(page.id)
        while parent is not None:
            chain.append(parent)
            parent = self.parents.get(parent.id)
        return list(reversed(chain))

    def path_of(self, page: PageNode) -> str:
        return "/".join([*(p.slug for p in self.ancestors(page)), page.slug])

    def find(self, path: str) -> PageNode | None:
        """The page at a slug path such as ``rathaus/buergermeister``."""
        level = self.roots
        page: PageNode | None = None
        for slug in path.strip("/").split("/"):
            page = next((p for p in level if p.slug == slug), None)
            if page is None:
                return None
            level = self.children_of(page)
        return page


_PAGE_TREE = (
    select(Page.id, Page.parent_id, Page.slug, Page.title, Page.description, Page.in_navigation)
    .where(*_visible(Page))
    .order_by(Page.position, Page.title)
)


def public_page_tree(commune: Commune, now: datetime) -> PageTree:
    """The navigation tree as a visitor sees it at ``now``."""
    rows = db.session.execute(_PAGE_TREE, _params(commune, now))
    by_parent: dict[int | None, list[PageNode]] = {}
    for row in rows:
        node = PageNode(*row)
        by_parent.setdefault(node.parent_id, []).append(node)
    tree = PageTree(roots=list(by_parent.get(None, [])))
    # Walk down from the roots so a page under a hidden parent is never reached.
    stack: list[tuple[PageNode, PageNode | None]] = [(node, None) for node in reversed(tree.roots)]
    while stack:
        node, parent = stack.pop()
        tree.parents[node.id] = parent
        kids = by_parent.get(node.id, [])
        tree.children[node.id] = kids
        stack.extend((kid, node) for kid in reversed(kids))
    return tree


def load_page(node: PageNode) -> Page:
    """The full page (with its body) behind a node of the visible tree."""
    page = db.session.get(Page, node.id)
    if page is None:
        raise LookupError(node.id)
    return page


_NEWS_VISIBLE = _visible(NewsItem)
_LATEST_NEWS = (
    select(NewsItem)
    .where(*_NEWS_VISIBLE)
    .order_by(NewsItem.news_date.desc(), NewsItem.id.desc())
    .limit(_LIMIT)
)
_NEWS_PAGE = (
    select(NewsItem, func.count().over().label("total"))
    .where(*_NEWS_VISIBLE)
    .order_by(NewsItem.news_date.desc(), NewsItem.id.desc())
    .limit(_LIMIT)
    .offset(_OFFSET)
)
_ONE_NEWS = select(NewsItem).where(*_NEWS_VISIBLE, NewsItem.slug == bindparam("slug"))


def latest_news(commune: Commune, now: datetime, limit: int = 5) -> list[NewsItem]:
    """The newest visible news items."""
    return list(db.session.scalars(_LATEST_NEWS, _params(commune, now, limit=limit)))


def news_page(commune: Commune, now: datetime, page: int, per_page: int = 10) -> tuple[list[NewsItem], int]:
    """One page of visible news, newest first, and the number of visible items (see :func:`_page_of`)."""
    return _page_of(_NEWS_PAGE, commune, now, page, per_page)


def find_news(commune: Commune, slug: str, now: datetime) -> NewsItem | None:
    return _one(_ONE_NEWS, commune, slug, now)


_EVENTS_VISIBLE = _visible(Event)
_UPCOMING_EVENTS = (
    select(Event).where(*_EVENTS_VISIBLE, Event.ends_at >= _NOW).order_by(Event.starts_at, Event.id)
)
_PAST_EVENTS = (
    select(Event, func.count().over().label("total"))
    .where(*_EVENTS_VISIBLE, Event.ends_at < _NOW)
    .order_by(Event.starts_at.desc(), Event.id.desc())
    .limit(_LIMIT)
    .offset(_OFFSET)
)
_ONE_EVENT = select(Event).where(*_EVENTS_VISIBLE, Event.slug == bindparam("slug"))


def upcoming_events(commune: Commune, now: datetime, limit: int | None = None) -> list[Event]:
    """Visible events that have not ended yet, soonest first."""
    stmt = _UPCOMING_EVENTS if limit is None else _UPCOMING_EVENTS.limit(_LIMIT)
    return list(db.session.scalars(stmt, _params(commune, now, limit=limit)))


def past_events(commune: Commune, now: datetime, page: int, per_page: int = 20) -> tuple[list[Event], int]:
    """Visible events that are over, the most recent first, and how many there are."""
    return _page_of(_PAST_EVENTS, commune, now, page, per_page)


def find_event(commune: Commune, slug: str, now: datetime) -> Event | None:
    return _one(_ONE_EVENT, commune, slug, now)


_DOCUMENTS_VISIBLE = _visible(Document)
_DOCUMENTS = (
    select(Document).where(*_DOCUMENTS_VISIBLE).order_by(Document.created_at.desc(), Document.id.desc())
)
_ONE_DOCUMENT = select(Document).where(*_DOCUMENTS_VISIBLE, Document.slug == bindparam("slug"))


def public_documents(commune: Commune, now: datetime, limit: int | None = None) -> list[Document]:
    """Visible documents, newest first."""
    stmt = _DOCUMENTS if limit is None else _DOCUMENTS.limit(_LIMIT)
    return list(db.session.scalars(stmt, _params(commune, now, limit=limit)))


def find_document(commune: Commune, slug: str, now: datetime) -> Document | None:
    return _one(_ONE_DOCUMENT, commune, slug, now)
