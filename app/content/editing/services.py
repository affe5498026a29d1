"""What editors do with a commune's content: save, move, delete, publish, compare, restore.

Every function here takes the acting staff user and checks what they may do (see
:mod:`app.staff.permissions`): editors and commune admins edit; publishing, rejecting
and retracting published items need the publish permission, which an editor holds
only where the commune lets editors publish without review. A user who may not
publish also may not change or delete what is already public.

Every save records a :class:`ContentVersion`. Functions add to the session and flush
but never commit: the caller owns the transaction (and writes the audit entry).
Refusals raise :class:`app.content.services.ContentError`, whose message is for the editor.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import func, or_, select

from app.content import services as content
from app.content.editing.models import ContentVersion
from app.content.editing.required import check_required_text, is_required_page
from app.content.editing.uploads import check_document_file, document_name, prepare_news_image
from app.content.editing.versions import (
    VERSIONED_FIELDS,
    keep_baseline,
    record_version,
    unsnapshot,
    versions_of,
)
from app.content.models import (
    CONTENT_MODELS,
    ContentItem,
    ContentKind,
    Document,
    Event,
    NewsItem,
    Page,
    PublicationState,
)
from app.content.services import SLUG_PATTERN, ContentError, make_slug
from app.extensions import db
from app.staff.models import User
from app.staff.permissions import Permission, may
from app.storage import blob_store
from app.tenancy.models import Commune


class NotAllowed(ContentError):
    """The acting user lacks the permission for this step (the view answers 403)."""


# -- permissions --------------------------------------------------------------------------------


def _require(actor: User, permission: Permission, commune: Commune) -> None:
    if not may(actor, permission, commune):
        if permission is Permission.PUBLISH_CONTENT:
            raise NotAllowed(
                _l("In dieser Kommune muss eine andere Person Ihre Inhalte prüfen und veröffentlichen.")
            )
        raise NotAllowed(_l("Sie dürfen die Inhalte dieser Kommune nicht bearbeiten."))


def may_publish(actor: User, commune: Commune) -> bool:
    """Whether the user publishes directly (and reviews others' submissions) in the commune."""
    return may(actor, Permission.PUBLISH_CONTENT, commune)


def _require_change(item: ContentItem, actor: User) -> None:
    """Editing rights, and for a public item the right to publish, since the change goes live."""
    commune = item.commune
    _require(actor, Permission.EDIT_CONTENT, commune)
    if item.state is PublicationState.PUBLISHED and not may_publish(actor, commune):
        raise NotAllowed(
            _l(
                "„%(title)s“ ist veröffentlicht. Ändern oder löschen kann es nur, wer in dieser Kommune "
                "veröffentlichen darf.",
                title=item.title,
            )
        )


def may_change(item: ContentItem, actor: User) -> bool:
    """Whether the user may save, restore or delete the item now."""
    try:
        _require_change(item, actor)
    except NotAllowed:
        return False
    return True


# -- slugs --------------------------------------------------------------------------------------


def reserved_page_slugs() -> frozenset[str]:
    """First path segments of every commune route (``news``, ``services``, ``status`` …).

    Read from the application's URL map, so a route another feature adds later is
    reserved too; a top-level page with such a slug would never be reached.
    """
    segments = set(content.RESERVED_PAGE_SLUGS)
    for rule in current_app.url_map.iter_rules():
        parts = rule.rule.split("/")
        if len(parts) > 2 and parts[1] == "<commune>" and parts[2] and "<" not in parts[2]:
            segments.add(parts[2])
    return frozenset(segments)


def _slug(title: str, slug: str | None) -> str:
    value = (slug or "").strip().lower() or make_slug(title)
    if not SLUG_PATTERN.match(value):
        raise ContentError(
            _l(
                "Die Kurzadresse darf nur Kleinbuchstaben (ohne Umlaute), Ziffern und Bindestriche "
                "enthalten und nicht mit einem Bindestrich beginnen oder enden."
            )
        )
    return value


def _check_page_slug(commune: Commune, slug: str, parent_id: int | None, page_id: int | None) -> None:
    if parent_id is None and slug in reserved_page_slugs():
        raise ContentError(
            _l(
                "Die Kurzadresse „%(slug)s“ ist für eine Funktion des Portals reserviert. "
                "Bitte wählen Sie eine andere.",
                slug=slug,
            )
        )
    clash = db.session.scalar(
        select(Page.id).where(
            Page.commune_id == commune.id,
            Page.parent_id.is_(None) if parent_id is None else Page.parent_id == parent_id,
            Page.slug == slug,
            Page.id != (page_id or 0),
        )
    )
    if clash is not None:
        raise ContentError(
            _l(
                "Auf dieser Ebene gibt es schon eine Seite mit der Kurzadresse „%(slug)s“. "
                "Bitte wählen Sie eine andere.",
                slug=slug,
            )
        )


_KIND_RESERVED = {
    ContentKind.NEWS: content.RESERVED_NEWS_SLUGS,
    ContentKind.EVENT: content.RESERVED_EVENT_SLUGS,
    ContentKind.DOCUMENT: frozenset[str](),
}


def _check_item_slug(kind: ContentKind, commune: Commune, slug: str, item_id: int | None) -> None:
    if slug in _KIND_RESERVED[kind]:
        raise ContentError(_l("Die Kurzadresse „%(slug)s“ ist für das Portal reserviert.", slug=slug))
    model = CONTENT_MODELS[kind]
    clash = db.session.scalar(
        select(model.id).where(model.commune_id == commune.id, model.slug == slug, model.id != (item_id or 0))
    )
    if clash is not None:
        raise ContentError(_taken(kind, slug))


def _taken(kind: ContentKind, slug: str) -> LazyString:
    if kind is ContentKind.NEWS:
        return _l("Es gibt schon eine Nachricht mit der Kurzadresse „%(slug)s“.", slug=slug)
    if kind is ContentKind.EVENT:
        return _l("Es gibt schon eine Veranstaltung mit der Kurzadresse „%(slug)s“.", slug=slug)
    return _l("Es gibt schon ein Dokument mit der Kurzadresse „%(slug)s“.", slug=slug)


def _check_dates(effective_at: datetime | None, expires_at: datetime | None) -> None:
    if effective_at is not None and expires_at is not None and expires_at <= effective_at:
        raise ContentError(_l("Das Ablaufdatum muss nach dem Veröffentlichungsdatum liegen."))


def restore_version(item: ContentItem, version: ContentVersion, actor: User) -> ContentVersion:
    """Put the item's fields back as they were in ``version``; this is itself a new version."""
    _require_change(item, actor)
    if (version.kind, version.item_id) != (item.KIND, item.id):
        raise ContentError(_l("Diese Version gehört zu einem anderen Inhalt."))
    values = {name: unsnapshot(name, version.fields.get(name)) for name in VERSIONED_FIELDS[item.KIND]}
    commune = item.commune
    if isinstance(item, Page):
        if is_required_page(item):
            values["slug"] = item.slug
        _check_page_slug(commune, values["slug"], item.parent_id, item.id)
    else:
        _check_item_slug(item.KIND, commune, values["slug"], item.id)
    for key_field in ("image_key", "file_key"):
        key = values.get(key_field)
        if key and not blob_store().exists(key):
            raise ContentError(
                _l("Die Datei dieser Version ist nicht mehr vorhanden und lässt sich nicht wiederherstellen.")
            )
    _check_dates(values["effective_at"], values["expires_at"])
    for name, value in values.items():
        setattr(item, name, value)
    if is_required_page(item):
        check_required_text(item)
    return record_version(item, actor, _l("Wiederhergestellt aus Version %(number)s", number=version.number))


# -- pages --------------------------------------------------------------------------------------


def create_page(
    commune: Commune,
    actor: User,
    *,
    title: str,
    slug: str | None = None,
    parent: Page | None = None,
    description: str = "",
    body: str = "",
    in_navigation: bool = True,
    effective_at: datetime | None = None,
    expires_at: datetime | None = None,
) -> Page:
    """A new private page at the end of ``parent``'s children (or of the top level)."""
    _require(actor, Permission.EDIT_CONTENT, commune)
    if parent is not None and parent.commune_id != commune.id:
        raise ContentError(_l("Die übergeordnete Seite gehört zu einer anderen Kommune."))
    value = _slug(title, slug)
    _check_page_slug(commune, value, parent.id if parent else None, None)
    _check_dates(effective_at, expires_at)
    page = content.create_page(
        commune,
        title,
        slug=value,
        parent=parent,
        description=description,
        body=body,
        in_navigation=in_navigation,
        effective_at=effective_at,
        expires_at=expires_at,
        created_by_id=actor.id,
    )
    record_version(page, actor, _l("Angelegt"))
    return page


def update_page(
    page: Page,
    actor: User,
    *,
    title: str,
    slug: str | None,
    description: str,
    body: str,
    in_navigation: bool,
    effective_at: datetime | None,
    expires_at: datetime | None,
) -> ContentVersion:
    """Save the page's wording and settings; a required page keeps its slug and stays public."""
    _require_change(page, actor)
    value = _slug(title, slug)
    if is_required_page(page) and value != page.slug:
        raise ContentError(_l("Die Kurzadresse einer Pflichtseite lässt sich nicht ändern."))
    if is_required_page(page) and expires_at is not None:
        raise ContentError(_l("Eine Pflichtseite darf kein Ablaufdatum haben."))
    _check_page_slug(page.commune, value, page.parent_id, page.id)
    _check_dates(effective_at, expires_at)
    keep_baseline(page)
    page.title = title
    page.slug = value
    page.description = description
    page.body = body
    page.in_navigation = in_navigation
    page.effective_at = effective_at
    page.expires_at = expires_at
    if is_required_page(page):
        check_required_text(page)
    return record_version(page, actor, _l("Bearbeitet"))


def descendant_ids(page: Page) -> set[int]:
    """The ids of every page below ``page`` in its commune's tree."""
    rows = db.session.execute(select(Page.id, Page.parent_id).where(Page.commune_id == page.commune_id)).all()
    children: dict[int | None, list[int]] = {}
    for page_id, parent_id in rows:
        children.setdefault(parent_id, []).append(page_id)
    found: set[int] = set()
    stack = list(children.get(page.id, []))
    while stack:
        current = stack.pop()
        if current not in found:
            found.add(current)
            stack.extend(children.get(current, []))
    return found


def sibling_pages(commune_id: int, parent_id: int | None) -> list[Page]:
    """The pages of one level of a commune's tree, in navigation order."""
    return list(
        db.session.scalars(
            select(Page)
            .where(
                Page.commune_id == commune_id,
                Page.parent_id.is_(None) if parent_id is None else Page.parent_id == parent_id,
            )
            .order_by(Page.position, Page.title, Page.id)
        )
    )


def move_page(page: Page, actor: User, new_parent: Page | None) -> None:
    """Hang the page (with its subtree) under ``new_parent`` (``None``: the top level), at the end."""
    _require_change(page, actor)
    if is_required_page(page):
        raise ContentError(
            _l("Eine Pflichtseite bleibt auf der obersten Ebene; sie lässt sich nicht verschieben.")
        )
    if new_parent is not None:
        if new_parent.commune_id != page.commune_id:
            raise ContentError(_l("Die Zielseite gehört zu einer anderen Kommune."))
        if new_parent.id == page.id or new_parent.id in descendant_ids(page):
            raise ContentError(
                _l(
                    "„%(title)s“ lässt sich nicht unter sich selbst oder eine ihrer Unterseiten verschieben.",
                    title=page.title,
                )
            )
    parent_id = new_parent.id if new_parent is not None else None
    if parent_id == page.parent_id:
        return
    _check_page_slug(page.commune, page.slug, parent_id, page.id)
    siblings = sibling_pages(page.commune_id, parent_id)
    page.parent_id = parent_id
    page.position = max((p.position for p in siblings), default=-1) + 1
    db.session.flush()


def reorder_page(page: Page, actor: User, direction: str) -> bool:
    """Move the page one place ``"up"`` or ``"down"`` among its siblings; ``False`` at the edge.

    The order of a public page is part of the public navigation: it needs the same rights
    as changing the page.
    """
    _require_change(page, actor)
    if direction not in ("up", "down"):
        raise ContentError(_l("Unbekannte Richtung."))
    siblings = sibling_pages(page.commune_id, page.parent_id)
    index = next(i for i, p in enumerate(siblings) if p.id == page.id)
    target = index - 1 if direction == "up" else index + 1
    if not 0 <= target < len(siblings):
        return False
    siblings[index], siblings[target] = siblings[target], siblings[index]
    # Renumber the whole level: earlier pages may share a position.
    for position, sibling in enumerate(siblings):
        sibling.position = position
    db.session.flush()
    return True


def delete_item(item: ContentItem, actor: User) -> None:
    """Delete a content item and its versions.

    A page with subpages is refused (move or delete them first: nothing disappears
    that the editor did not see); a required page is refused always.
    """
    _require_change(item, actor)
    if isinstance(item, Page):
        if is_required_page(item):
            raise ContentError(
                _l("„%(title)s“ ist eine Pflichtseite und lässt sich nicht löschen.", title=item.title)
            )
        has_children = db.session.scalar(
            select(func.count()).select_from(Page).where(Page.parent_id == item.id)
        )
        if has_children:
            raise ContentError(
                _l(
                    "„%(title)s“ hat Unterseiten. Bitte verschieben oder löschen Sie zuerst die Unterseiten.",
                    title=item.title,
                )
            )
    for version in versions_of(item):
        db.session.delete(version)
    db.session.delete(item)
    db.session.flush()


# -- news, events, documents ---------------------------------------------------------------------


def _check_save(
    kind: ContentKind,
    commune: Commune,
    actor: User,
    item: ContentItem | None,
    title: str,
    slug: str | None,
    effective_at: datetime | None,
    expires_at: datetime | None,
) -> str:
    """Whether ``actor`` may create (``item=None``) or change the item as given; returns its slug."""
    if item is None:
        _require(actor, Permission.EDIT_CONTENT, commune)
    else:
        _require_change(item, actor)
    value = _slug(title, slug)
    _check_item_slug(kind, commune, value, item.id if item else None)
    _check_dates(effective_at, expires_at)
    return value


def _record_save(item: ContentItem, actor: User, created: bool) -> None:
    record_version(item, actor, _l("Angelegt") if created else _l("Bearbeitet"))


def _keep_or_remove_image(item: NewsItem, alt: str, remove: bool) -> None:
    """Without a new upload: drop the image, or keep it with its (required) alt text."""
    if remove or item.image_key is None:
        item.image_key = None
        item.image_type = None
        item.image_alt = ""
        return
    if not alt.strip():
        raise ContentError(_l("Bitte beschreiben Sie das Bild in einem Alternativtext."))
    item.image_alt = alt.strip()


def save_news_item(
    commune: Commune,
    actor: User,
    item: NewsItem | None,
    *,
    title: str,
    slug: str | None,
    news_date: date,
    lead: str,
    body: str,
    image: bytes | None = None,
    image_alt: str = "",
    remove_image: bool = False,
    effective_at: datetime | None = None,
    expires_at: datetime | None = None,
) -> NewsItem:
    """Create (``item=None``) or change a news item; an image needs alt text and is resized."""
    value = _check_save(ContentKind.NEWS, commune, actor, item, title, slug, effective_at, expires_at)
    if image is not None and not image_alt.strip():
        raise ContentError(_l("Bitte beschreiben Sie das Bild in einem Alternativtext."))
    prepared = prepare_news_image(image) if image is not None else None
    created = item is None
    if item is None:
        item = content.create_news_item(
            commune,
            title,
            news_date=news_date,
            lead=lead,
            body=body,
            slug=value,
            image=prepared,
            image_alt=image_alt,
            effective_at=effective_at,
            expires_at=expires_at,
            created_by_id=actor.id,
        )
    else:
        keep_baseline(item)
        item.title, item.slug, item.news_date, item.lead, item.body = title, value, news_date, lead, body
        item.effective_at, item.expires_at = effective_at, expires_at
        if prepared is not None:
            content.store_news_image(item, prepared, image_alt)
        else:
            _keep_or_remove_image(item, image_alt, remove_image)
    _record_save(item, actor, created)
    return item


def save_event(
    commune: Commune,
    actor: User,
    item: Event | None,
    *,
    title: str,
    slug: str | None,
    starts_at: datetime,
    ends_at: datetime | None,
    all_day: bool,
    location: str,
    body: str,
    effective_at: datetime | None = None,
    expires_at: datetime | None = None,
) -> Event:
    """Create (``item=None``) or change an event; times are aware datetimes."""
    value = _check_save(ContentKind.EVENT, commune, actor, item, title, slug, effective_at, expires_at)
    created = item is None
    if item is None:
        item = content.create_event(
            commune,
            title,
            starts_at=starts_at,
            ends_at=ends_at,
            all_day=all_day,
            location=location,
            body=body,
            slug=value,
            effective_at=effective_at,
            expires_at=expires_at,
            created_by_id=actor.id,
        )
    else:
        start, end = content.event_times(starts_at, ends_at, all_day)
        keep_baseline(item)
        item.title, item.slug, item.location, item.body = title, value, location, body
        item.starts_at, item.ends_at, item.all_day = start, end, all_day
        item.effective_at, item.expires_at = effective_at, expires_at
    _record_save(item, actor, created)
    return item


def save_document(
    commune: Commune,
    actor: User,
    item: Document | None,
    *,
    title: str,
    slug: str | None,
    description: str,
    body: str,
    filename: str | None = None,
    data: bytes | None = None,
    effective_at: datetime | None = None,
    expires_at: datetime | None = None,
) -> Document:
    """Create (``item=None``, with a file) or change a document; a new file keeps the document's URL."""
    value = _check_save(ContentKind.DOCUMENT, commune, actor, item, title, slug, effective_at, expires_at)
    media_type = check_document_file(data, filename or "") if data is not None else None
    created = item is None
    if item is None:
        if data is None or media_type is None:
            raise ContentError(_l("Bitte wählen Sie die Datei aus, die veröffentlicht werden soll."))
        item = content.create_document(
            commune,
            title,
            filename=document_name(filename or "", media_type),
            data=data,
            description=description,
            body=body,
            slug=value,
            effective_at=effective_at,
            expires_at=expires_at,
            created_by_id=actor.id,
        )
        # The type as checked against the allowlist, not the looser guess create_document makes.
        item.media_type = media_type
    else:
        keep_baseline(item)
        item.title, item.slug, item.description, item.body = title, value, description, body
        item.effective_at, item.expires_at = effective_at, expires_at
        if data is not None and media_type is not None:
            stored = blob_store().put(data, session=db.session)
            item.file_key, item.size, item.sha256 = stored.key, stored.size, stored.sha256
            item.media_type = media_type
            item.filename = document_name(filename or "", media_type)
    db.session.flush()
    _record_save(item, actor, created)
    return item


# -- workflow -----------------------------------------------------------------------------------


def allowed_transitions(item: ContentItem, actor: User) -> list[str]:
    """The workflow steps the user may take on the item now, in workflow order."""
    commune = item.commune
    publisher = may_publish(actor, commune)
    editor = may(actor, Permission.EDIT_CONTENT, commune)
    allowed = []
    for name in content.available_transitions(item):
        if name == "submit":
            permitted = editor and not publisher
        elif name in ("publish", "reject"):
            permitted = publisher
        else:
            permitted = not is_required_page(item) and (
                publisher or (editor and item.state is PublicationState.PENDING)
            )
        if permitted:
            allowed.append(name)
    return allowed


def change_state(item: ContentItem, actor: User, transition: str, comment: str = "") -> PublicationState:
    """Take a workflow step; returns the state it left. ``reject`` needs a comment for the author."""
    commune = item.commune
    if transition not in content.TRANSITIONS:
        raise ContentError(_l("Unbekannter Arbeitsschritt."))
    if transition == "submit":
        _require(actor, Permission.EDIT_CONTENT, commune)
    elif transition in ("publish", "reject") or item.state is PublicationState.PUBLISHED:
        _require(actor, Permission.PUBLISH_CONTENT, commune)
    else:
        _require(actor, Permission.EDIT_CONTENT, commune)
    if transition == "retract" and is_required_page(item):
        raise ContentError(_l("Eine Pflichtseite bleibt veröffentlicht."))
    before = item.state
    {
        "submit": content.submit,
        "publish": content.publish,
        "retract": content.retract,
    }.get(transition, lambda it: content.reject(it, comment))(item)
    return before


# -- the editors' lists -------------------------------------------------------------------------


def my_drafts(commune: Commune, actor: User) -> list[ContentItem]:
    """Private items the user created or saved a version of, most recently changed first."""
    items: list[ContentItem] = []
    for kind, model in CONTENT_MODELS.items():
        authored = select(ContentVersion.item_id).where(
            ContentVersion.kind == kind, ContentVersion.author_id == actor.id
        )
        items.extend(
            db.session.scalars(
                select(model).where(
                    model.commune_id == commune.id,
                    model.state == PublicationState.PRIVATE,
                    or_(model.created_by_id == actor.id, model.id.in_(authored)),
                )
            )
        )
    return sorted(items, key=lambda i: i.modified_at, reverse=True)


def awaiting_review(commune: Commune) -> list[ContentItem]:
    """Items submitted for review in the commune, the longest waiting first."""
    items: list[ContentItem] = []
    for model in CONTENT_MODELS.values():
        items.extend(
            db.session.scalars(
                select(model).where(model.commune_id == commune.id, model.state == PublicationState.PENDING)
            )
        )
    return sorted(items, key=lambda i: i.modified_at)


def find_item(commune: Commune, kind: ContentKind, item_id: int) -> ContentItem | None:
    """A content item of the commune, or ``None`` (also for another commune's item)."""
    model = CONTENT_MODELS[kind]
    return db.session.scalar(select(model).where(model.commune_id == commune.id, model.id == item_id))


def commune_pages(commune: Commune) -> list[tuple[Page, int]]:
    """Every page of the commune in tree order, with its depth (0 for the top level)."""
    pages = list(
        db.session.scalars(
            select(Page).where(Page.commune_id == commune.id).order_by(Page.position, Page.title, Page.id)
        )
    )
    by_parent: dict[int | None, list[Page]] = {}
    for page in pages:
        by_parent.setdefault(page.parent_id, []).append(page)
    ordered: list[tuple[Page, int]] = []
    stack: list[tuple[Page, int]] = [(p, 0) for p in reversed(by_parent.get(None, []))]
    while stack:
        page, depth = stack.pop()
        ordered.append((page, depth))
        stack.extend((child, depth + 1) for child in reversed(by_parent.get(page.id, [])))
    return ordered


def page_path(page: Page, pages: Iterable[Page]) -> str:
    """The page's path below the commune (``rathaus/buergermeister``), from already loaded pages."""
    by_id = {p.id: p for p in pages}
    parts = [page.slug]
    parent = by_id.get(page.parent_id) if page.parent_id else None
    while parent is not None:
        parts.append(parent.slug)
        parent = by_id.get(parent.parent_id) if parent.parent_id else None
    return "/".join(reversed(parts))


def items_of(commune: Commune, kind: ContentKind) -> list[ContentItem]:
    """Every news item, event or document of the commune, newest first."""
    model = CONTENT_MODELS[kind]
    order = {
        ContentKind.NEWS: (NewsItem.news_date.desc(), NewsItem.id.desc()),
        ContentKind.EVENT: (Event.starts_at.desc(), Event.id.desc()),
        ContentKind.DOCUMENT: (Document.created_at.desc(), Document.id.desc()),
    }[kind]
    return list(db.session.scalars(select(model).where(model.commune_id == commune.id).order_by(*order)))
