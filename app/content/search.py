"""Full-text search over published content, behind one function: :func:`search`.

The index is the table ``content_search_entry`` (model :class:`SearchEntry`),
one row per content item, written on every ORM flush that touches an item, so
no code path can forget it. On top of it:

- SQLite: an external-content FTS5 table ``content_search_fts`` kept in step by
  triggers, ranked with bm25 (title weighs ten times the text);
- PostgreSQL: a GIN expression index over a weighted German ``tsvector``,
  queried with ``websearch_to_tsquery`` and ranked with ``ts_rank``.

Both dialects' extra schema objects are created with the table by ``create_all``
(see :func:`install_index_hooks`) and by migrations through :func:`search_schema_ddl`.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import DDL, event, func, literal_column, select, table
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.sql.elements import ColumnElement

from app.content.models import (
    CONTENT_MODELS,
    ContentItem,
    ContentKind,
    Document,
    Event,
    NewsItem,
    Page,
    SearchEntry,
    visible_to_public,
)
from app.extensions import db
from app.markup import plain_text
from app.tenancy.models import Commune
from app.timeutil import utcnow

#: Highlight markers inside the database; never present in indexed text (see _clean).
_START, _STOP = "\x02", "\x03"
_MARKERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_WORD = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_TERMS = 12
MAX_QUERY_LENGTH = 200

_FTS_TABLE = "content_search_fts"
_SQLITE_DDL = (
    f"CREATE VIRTUAL TABLE {_FTS_TABLE} USING fts5(title, text, content='content_search_entry', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER content_search_entry_ai AFTER INSERT ON content_search_entry BEGIN "
    f"INSERT INTO {_FTS_TABLE}(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    "CREATE TRIGGER content_search_entry_ad AFTER DELETE ON content_search_entry BEGIN "
    f"INSERT INTO {_FTS_TABLE}({_FTS_TABLE}, rowid, title, text) "
    "VALUES ('delete', old.id, old.title, old.text); END",
    "CREATE TRIGGER content_search_entry_au AFTER UPDATE OF title, text ON content_search_entry BEGIN "
    f"INSERT INTO {_FTS_TABLE}({_FTS_TABLE}, rowid, title, text) "
    "VALUES ('delete', old.id, old.title, old.text); "
    f"INSERT INTO {_FTS_TABLE}(rowid, title, text) VALUES (new.id, new.title, new.text); END",
)
_SQLITE_DROP = (f"DROP TABLE IF EXISTS {_FTS_TABLE}",)
_POSTGRES_DDL = (
    "CREATE INDEX ix_content_search_entry_document ON content_search_entry USING gin (("
    "setweight(to_tsvector('german'::regconfig, title), 'A') || "
    "setweight(to_tsvector('german'::regconfig, text), 'B')))",
)


def search_schema_ddl(dialect: str) -> tuple[str, ...]:
    """The statements that create the search schema beyond ``content_search_entry``.

    A migration calls this after creating the table:
    ``for stmt in search_schema_ddl(op.get_bind().dialect.name): op.execute(stmt)``.
    """
    return {"sqlite": _SQLITE_DDL, "postgresql": _POSTGRES_DDL}.get(dialect, ())


def drop_search_schema_ddl(dialect: str) -> tuple[str, ...]:
    """The statements a downgrade runs before dropping ``content_search_entry``."""
    return {"sqlite": _SQLITE_DROP}.get(dialect, ())




# -- keeping the index in step ------------------------------------------------------------------


def _clean(value: str) -> str:
    return _MARKERS.sub(" ", value)


def _indexed_text(item: ContentItem) -> str:
    parts: list[str] = []
    if isinstance(item, Page | Document):
        parts.append(item.description)
    if isinstance(item, NewsItem):
        parts.append(item.lead)
    if isinstance(item, Event):
        parts.append(item.location)
    # plain_text() returns HTML-escaped words; the index keeps the real characters.
    parts.append(html.unescape(plain_text(item.body)))
    if isinstance(item, Document):
        parts.append(item.filename)
    return _clean(" ".join(p for p in parts if p))


def _entry_values(item: ContentItem) -> dict[str, Any]:
    return {
        "commune_id": item.commune_id,
        "title": _clean(item.title),
        "text": _indexed_text(item),
        "state": item.state,
        "effective_at": item.effective_at,
        "expires_at": item.expires_at,
    }


def _sync_entry(conn: Connection, item: ContentItem, deleted: bool) -> None:
    entries = SearchEntry.__table__
    where = (entries.c.kind == item.KIND) & (entries.c.item_id == item.id)
    if deleted:
        conn.execute(entries.delete().where(where))
        return
    values = _entry_values(item)
    current = conn.execute(select(entries).where(where)).mappings().first()
    if current is None:
        conn.execute(entries.insert().values(kind=item.KIND, item_id=item.id, **values))
        return
    # Only changed columns: the FTS trigger fires when title or text appear in the UPDATE.
    changed = {k: v for k, v in values.items() if current[k] != v}
    if changed:
        conn.execute(entries.update().where(entries.c.id == current["id"]).values(**changed))


def _index_flushed_items(session: Session, flush_context: UOWTransaction) -> None:
    touched = [(obj, False) for obj in (*session.new, *session.dirty)] + [
        (obj, True) for obj in session.deleted
    ]
    items = [(obj, deleted) for obj, deleted in touched if isinstance(obj, tuple(CONTENT_MODELS.values()))]
    if not items:
        return
    conn = session.connection()
    for item, deleted in items:
        _sync_entry(conn, item, deleted)
    if any(deleted and isinstance(item, Page) for item, deleted in items):
        # The database deleted the subpages with their parent (ON DELETE CASCADE); the ORM never saw them.
        entries = SearchEntry.__table__
        conn.execute(
            entries.delete().where(
                entries.c.kind == ContentKind.PAGE,
                entries.c.item_id.not_in(select(Page.__table__.c.id)),
            )
        )


def install_index_hooks() -> None:
    """Attach the search schema to ``create_all`` and the index upkeep to every flush.

    Called once per process by the content feature's ``init_app``; calling it
    again changes nothing.
    """
    if event.contains(Session, "after_flush", _index_flushed_items):
        return
    event.listen(Session, "after_flush", _index_flushed_items)
    for dialect in ("sqlite", "postgresql"):
        for statement in search_schema_ddl(dialect):
            event.listen(SearchEntry.__table__, "after_create", DDL(statement).execute_if(dialect=dialect))
        for statement in drop_search_schema_ddl(dialect):
            event.listen(SearchEntry.__table__, "before_drop", DDL(statement).execute_if(dialect=dialect))


def rebuild_index() -> int:
    """Write the index afresh from every content item; returns how many were indexed."""
    conn = db.session.connection()
    conn.execute(SearchEntry.__table__.delete())
    count = 0
    for model in CONTENT_MODELS.values():
        for item in db.session.scalars(select(model)):
            _sync_entry(conn, item, deleted=False)
            count += 1
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"INSERT INTO {_FTS_TABLE}({_FTS_TABLE}) VALUES ('rebuild')")
    return count


# -- searching ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchHit:
    """One ranked result; ``title`` and ``snippet`` are safe HTML with ``<mark>`` around matches."""

    kind: ContentKind
    item: ContentItem
    commune: Commune
    title: Markup
    snippet: Markup
    rank: float
    #: For pages: the slugs from the top of the tree down to this page.
    path: str = ""


@dataclass(frozen=True)
class SearchResults:
    """A page of hits for a query, best first."""

    query: str
    hits: list[SearchHit] = field(default_factory=list)
    total: int = 0
    limit: int = 10
    offset: int = 0

    @property
    def page(self) -> int:
        return self.offset // self.limit + 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))


def _marked(raw: str | None) -> Markup:
    """Escape a highlighted string from the database and turn its markers into <mark>."""
    escaped = str(escape(raw or ""))
    # Every start marker is closed, even when the database cut the snippet inside a match.
    out: list[str] = []
    open_mark = False
    for char in escaped:
        if char == _START and not open_mark:
            out.append("<mark>")
            open_mark = True
        elif char == _STOP and open_mark:
            out.append("</mark>")
            open_mark = False
        elif char not in (_START, _STOP):
            out.append(char)
    if open_mark:
        out.append("</mark>")
    return Markup("".join(out))


def query_terms(query: str) -> list[str]:
    """The words of a visitor's query; everything else (operators, quotes) is dropped."""
    return _WORD.findall(query[:MAX_QUERY_LENGTH])[:MAX_QUERY_TERMS]


def _fts5_query(terms: list[str]) -> str:
    # Each word becomes a quoted prefix phrase: no FTS5 syntax of the visitor's survives.
    return " ".join(f'"{term}"*' for term in terms)


def _sqlite_rows(
    query: str, scope: list[ColumnElement[bool]], limit: int, offset: int
) -> tuple[list[Any], int]:
    terms = query_terms(query)
    if not terms:
        return [], 0
    fts = table(_FTS_TABLE, literal_column("rowid"))
    fts_ref = literal_column(_FTS_TABLE)
    match = fts_ref.op("MATCH")(_fts5_query(terms))
    joined = SearchEntry.__table__.join(fts, literal_column(f"{_FTS_TABLE}.rowid") == SearchEntry.id)
    rank = func.bm25(fts_ref, 10.0, 1.0)
    stmt = (
        select(
            SearchEntry.kind,
            SearchEntry.item_id,
            func.highlight(fts_ref, 0, _START, _STOP).label("title_hl"),
            func.snippet(fts_ref, 1, _START, _STOP, "…", 24).label("snippet"),
            rank.label("rank"),
        )
        .select_from(joined)
        .where(match, *scope)
        .order_by(rank, SearchEntry.id)
        .limit(limit)
        .offset(offset)
    )
    total = db.session.scalar(select(func.count()).select_from(joined).where(match, *scope)) or 0
    return list(db.session.execute(stmt)), total


def _postgres_rows(
    query: str, scope: list[ColumnElement[bool]], limit: int, offset: int
) -> tuple[list[Any], int]:
    if not query_terms(query):
        return [], 0
    config = literal_column("'german'::regconfig")
    # Must stay the expression of the GIN index in _POSTGRES_DDL, or the index is not used.
    document = func.setweight(func.to_tsvector(config, SearchEntry.title), literal_column("'A'")).op("||")(
        func.setweight(func.to_tsvector(config, SearchEntry.text), literal_column("'B'"))
    )
    tsquery = func.websearch_to_tsquery(config, query[:MAX_QUERY_LENGTH])
    match = document.op("@@")(tsquery)
    options = f"StartSel={_START}, StopSel={_STOP}"
    rank = func.ts_rank(document, tsquery)
    stmt = (
        select(
            SearchEntry.kind,
            SearchEntry.item_id,
            func.ts_headline(config, SearchEntry.title, tsquery, options + ", HighlightAll=true").label(
                "title_hl"
            ),
            func.ts_headline(
                config, SearchEntry.text, tsquery, options + ", MaxWords=30, MinWords=12, MaxFragments=2"
            ).label("snippet"),
            rank.label("rank"),
        )
        .where(match, *scope)
        .order_by(rank.desc(), SearchEntry.id)
        .limit(limit)
        .offset(offset)
    )
    total = db.session.scalar(select(func.count()).select_from(SearchEntry).where(match, *scope)) or 0
    return list(db.session.execute(stmt)), total


def _page_paths(pages: list[Page], now: datetime) -> dict[int, str]:
    """Slug paths of pages whose every ancestor is visible too; others are left out."""
    paths: dict[int, str] = {}
    for page in pages:
        slugs = [page.slug]
        parent = page.parent
        visible = True
        while parent is not None:
            if not parent.is_visible(now):
                visible = False
                break
            slugs.append(parent.slug)
            parent = parent.parent
        if visible:
            paths[page.id] = "/".join(reversed(slugs))
    return paths


def search(
    query: str, commune: Commune | None = None, *, limit: int = 10, offset: int = 0
) -> SearchResults:
    """Published, effective content matching ``query``, best first.

    With ``commune`` only that commune's content, else every active commune's.
    Any text is a valid query: search syntax of the visitor's is never passed
    through, so a query cannot fail.
    """
    query = " ".join(_clean(query).split())
    limit = max(1, min(limit, 50))
    offset = max(0, offset)
    now = utcnow()
    scope: list[ColumnElement[bool]] = [visible_to_public(SearchEntry, now)]
    if commune is not None:
        scope.append(SearchEntry.commune_id == commune.id)
    else:
        scope.append(
            SearchEntry.commune_id.in_(select(Commune.id).where(Commune.active).scalar_subquery())
        )
    if db.engine.dialect.name == "postgresql":
        rows, total = _postgres_rows(query, scope, limit, offset)
    else:
        rows, total = _sqlite_rows(query, scope, limit, offset)

    by_kind: dict[ContentKind, list[int]] = {}
    for row in rows:
        by_kind.setdefault(ContentKind(row.kind), []).append(row.item_id)
    items: dict[tuple[ContentKind, int], ContentItem] = {}
    for kind, ids in by_kind.items():
        model = CONTENT_MODELS[kind]
        for item in db.session.scalars(select(model).where(model.id.in_(ids))):
            items[(kind, item.id)] = item
    pages = [item for item in items.values() if isinstance(item, Page)]
    paths = _page_paths(pages, now)

    hits: list[SearchHit] = []
    for row in rows:
        kind = ContentKind(row.kind)
        item = items.get((kind, row.item_id))
        if item is None or (kind == ContentKind.PAGE and item.id not in paths):
            total -= 1
            continue
        hits.append(
            SearchHit(
                kind=kind,
                item=item,
                commune=item.commune,
                title=_marked(row.title_hl),
                snippet=_marked(row.snippet),
                rank=float(row.rank),
                path=paths.get(item.id, ""),
            )
        )
    return SearchResults(query=query, hits=hits, total=max(total, len(hits)), limit=limit, offset=offset)
