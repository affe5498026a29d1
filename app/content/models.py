"""A commune's public content, Plone-style: pages, news, events and documents.

Every item carries the same publication fields (see :class:`PublishedContent`).
Visitors only ever see what :func:`visible_to_public` lets through; the
workflow that moves an item between states lives in :mod:`app.content.services`.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    or_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.tenancy.models import Commune
from app.timeutil import UTCDateTime, to_berlin, utcnow


class PublicationState(enum.StrEnum):
    """The states of the simple publication workflow."""

    PRIVATE = "private"
    PENDING = "pending"
    PUBLISHED = "published"


class ContentKind(enum.StrEnum):
    """The kinds of content item; also the search index's type column."""

    PAGE = "page"
    NEWS = "news"
    EVENT = "event"
    DOCUMENT = "document"


class PublishedContent:
    """Columns every content item shares: owner, wording, workflow state and dates."""

    KIND: ClassVar[ContentKind]

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[PublicationState] = mapped_column(
        Enum(PublicationState, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=PublicationState.PRIVATE,
    )
    #: The last reviewer's reason for sending the item back; cleared on the next submit.
    review_comment: Mapped[str] = mapped_column(Text, default="")
    effective_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    #: The staff user who created the item (staff accounts live in app.staff).
    created_by_id: Mapped[int | None] = mapped_column(Integer, default=None)

    def is_visible(self, now: datetime) -> bool:
        """The Python twin of :func:`visible_to_public` for an already loaded item."""
        return (
            self.state == PublicationState.PUBLISHED
            and (self.effective_at is None or self.effective_at <= now)
            and (self.expires_at is None or self.expires_at > now)
        )


class Page(PublishedContent, db.Model):
    """A page of the commune's site; pages nest and form the navigation tree."""

    __tablename__ = "content_page"
    __table_args__ = (
        UniqueConstraint("commune_id", "parent_id", "slug"),
        # NULL parents are distinct in a unique constraint, so top-level slugs need their own index.
        Index(
            "uq_content_page_top_level_slug",
            "commune_id",
            "slug",
            unique=True,
            sqlite_where=text("parent_id IS NULL"),
            postgresql_where=text("parent_id IS NULL"),
        ),
    )
    KIND = ContentKind.PAGE

    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("content_page.id", ondelete="CASCADE"), index=True, default=None
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: Plone's "exclude from navigation" the other way round: legal pages live in the footer.
    in_navigation: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Short text for listings and search snippets; the body is the page itself.
    description: Mapped[str] = mapped_column(Text, default="")

    commune: Mapped[Commune] = relationship()
    parent: Mapped[Page | None] = relationship(remote_side="Page.id", back_populates="children")
    children: Mapped[list[Page]] = relationship(
        back_populates="parent", order_by="Page.position", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<Page {self.slug}>"


class NewsItem(PublishedContent, db.Model):
    """A news article with a date, a lead and an optional image."""

    __tablename__ = "content_news"
    __table_args__ = (UniqueConstraint("commune_id", "slug"),)
    KIND = ContentKind.NEWS

    news_date: Mapped[date] = mapped_column(Date, default=date.today, index=True)
    lead: Mapped[str] = mapped_column(Text, default="")
    image_key: Mapped[str | None] = mapped_column(String(64), default=None)
    image_type: Mapped[str | None] = mapped_column(String(80), default=None)
    image_alt: Mapped[str] = mapped_column(String(300), default="")

    commune: Mapped[Commune] = relationship()

    def __repr__(self) -> str:
        return f"<NewsItem {self.slug}>"


class Event(PublishedContent, db.Model):
    """Something that happens in the commune, at a time and a place."""

    __tablename__ = "content_event"
    __table_args__ = (UniqueConstraint("commune_id", "slug"),)
    KIND = ContentKind.EVENT

    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: Always set: the services fill it from the start (or the day's end for all-day events).
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    all_day: Mapped[bool] = mapped_column(Boolean, default=False)
    location: Mapped[str] = mapped_column(String(300), default="")

    commune: Mapped[Commune] = relationship()

    @property
    def starts_on(self) -> date:
        """The calendar day (in Berlin) the event starts on."""
        return to_berlin(self.starts_at).date()

    @property
    def ends_on(self) -> date:
        """The calendar day (in Berlin) the event ends on."""
        return to_berlin(self.ends_at).date()

    @property
    def spans_days(self) -> bool:
        """Whether the event ends on another calendar day (in Berlin) than it starts."""
        return self.starts_on != self.ends_on

    def __repr__(self) -> str:
        return f"<Event {self.slug}>"


class Document(PublishedContent, db.Model):
    """A file the commune publishes (an Amtsblatt, a Satzung), kept in blob storage."""

    __tablename__ = "content_document"
    __table_args__ = (UniqueConstraint("commune_id", "slug"),)
    KIND = ContentKind.DOCUMENT

    description: Mapped[str] = mapped_column(Text, default="")
    file_key: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))

    commune: Mapped[Commune] = relationship()

    def __repr__(self) -> str:
        return f"<Document {self.slug}>"


CONTENT_MODELS: dict[ContentKind, type[Page | NewsItem | Event | Document]] = {
    ContentKind.PAGE: Page,
    ContentKind.NEWS: NewsItem,
    ContentKind.EVENT: Event,
    ContentKind.DOCUMENT: Document,
}

ContentItem = Page | NewsItem | Event | Document


def visible_to_public(model: Any, now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """The condition every public listing, navigation, feed and search applies.

    Published, already effective and not yet expired. Works for any content
    model and for the search index, which mirrors the same three columns;
    ``now`` may be a bound parameter for statements built once.
    """
    return and_(
        model.state == PublicationState.PUBLISHED,
        or_(model.effective_at.is_(None), model.effective_at <= now),
        or_(model.expires_at.is_(None), model.expires_at > now),
    )


class SearchEntry(db.Model):
    """One content item as the full-text search sees it.

    Kept in step with the items by :mod:`app.content.search` (on every ORM
    flush). On SQLite an external-content FTS5 table indexes ``title`` and
    ``text``; on PostgreSQL an expression GIN index over a German tsvector does.
    The workflow columns are copied so a search never has to join the item tables.
    """

    __tablename__ = "content_search_entry"
    __table_args__ = (UniqueConstraint("kind", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ContentKind] = mapped_column(
        Enum(ContentKind, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    item_id: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[PublicationState] = mapped_column(
        Enum(PublicationState, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    effective_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


# The editing history's tables belong to the content metadata too (imported last: it uses the above).
import app.content.editing.models  # noqa: E402, F401
