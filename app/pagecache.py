"""The anonymous page cache: public pages rendered once, served to every visitor without a session.

What plone.app.caching does for Plone, on Flask-Caching: a public ``GET``/``HEAD`` of an
allowed endpoint (:data:`CACHED_ENDPOINTS`) from a visitor with no session, login or draft
cookie is answered from the cache when an entry is there and fresh; otherwise the view runs and
its ``200`` answer is kept, unless it sets a cookie, has something in the session (a flashed
message, a CSRF token) or carries a CSP nonce.

What is kept is the view's own answer (body, status, its headers and the inline-style hashes its
policy needs); everything the application adds to every response (the language cookie of
``?lang=``, ``Vary`` and ``Content-Language``, the security headers) is added afresh on each hit,
by the same hooks that add it to an uncached page.

Correctness across processes (DESIGN.md: nothing in one process's memory may be needed by
another): the key holds the *content generation* of the page's scope, a column of the commune
(or, for the portal-wide pages, the association) that SQLAlchemy session events set to a new
random value in the same transaction as any change to what those pages show: content items,
the commune's profile, its offices and its services (:func:`install_generation_hooks`). A
request reads its scope's generation in one small query before anything else of the page, so
every process sees a committed change on its next request, and what a miss renders is never
older than its key.

Time: an item becomes visible or hidden on its own at its effective or expiry date, and an event
moves to the archive when it ends. On a miss the next such moment of the commune's content is
read, and the entry is served only until then (and at most ``CACHE_DEFAULT_TIMEOUT`` seconds).

The key also holds the release (a hash of the code, templates, translations and form
definitions, :func:`release_fingerprint`), the host, the full path with its query, and the
page's language; the catalogue of services is part of the release, since every process reads
it from ``forms/`` at start-up.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, request, session
from sqlalchemy import Integer, bindparam, event, func, select, union_all, update
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.orm.attributes import set_committed_value

from app import security
from app.catalogue.models import CommuneService
from app.content.models import CONTENT_MODELS, Event, PublicationState
from app.extensions import db, page_cache
from app.i18n import current_language
from app.submissions.drafts import DRAFT_COOKIE
from app.tenancy.models import Association, Commune, Office, new_content_generation
from app.timeutil import UTCDateTime, utcnow

log = logging.getLogger(__name__)

#: Endpoints whose pages show one commune's public information (scope: that commune).
COMMUNE_ENDPOINTS = frozenset(
    {
        "content.commune_home",
        "content.news_list",
        "content.news_item",
        "content.events",
        "content.events_archive",
        "content.event",
        "content.documents",
        "content.contact",
        "content.page",
        "catalogue.index",
        "catalogue.detail",
    }
)
#: Endpoints of the portal-wide pages (scope: the association and its member communes).
ASSOCIATION_ENDPOINTS = frozenset(
    {"portal.home", "portal.accessibility_statement", "portal.easy_language"}
)
CACHED_ENDPOINTS = COMMUNE_ENDPOINTS | ASSOCIATION_ENDPOINTS

#: Models whose rows belong to one commune (``commune_id``) and show on its public pages.
COMMUNE_CONTENT_MODELS: tuple[type[Any], ...] = (*CONTENT_MODELS.values(), Office, CommuneService)

_KEY = "kommunalportal.pagecache.key"
_STARTED = "kommunalportal.pagecache.started"
_SERVED = "kommunalportal.pagecache.served"
_FINGERPRINT = "pagecache.release"
_DISABLED = ("NullCache", "null", "flask_caching.backends.NullCache")


# -- the release --------------------------------------------------------------------------------


def release_fingerprint(app: Flask) -> str:
    """A hash of everything a page is rendered from besides the database.

    The application's code and templates, the compiled translations and the form definitions:
    a page cached by another release (in a Redis shared during a rolling deploy, say) is
    never served.
    """
    digest = hashlib.sha256()
    sources = [
        (Path(__file__).resolve().parent, ("*.py", "*.html", "*.txt")),
        (Path(app.config["BABEL_TRANSLATION_DIRECTORIES"]), ("*.mo",)),
        (Path(app.config["FORMS_DIR"]), ("*.yaml", "*.yml")),
    ]
    for root, patterns in sources:
        files = sorted({path for pattern in patterns for path in root.rglob(pattern) if path.is_file()})
        for path in files:
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# -- generations: bumped with every change, in the same transaction ------------------------------


def _owner(obj: object) -> tuple[int | None, bool] | None:
    """(commune id, whether the association's pages change) for a changed object, or None."""
    if isinstance(obj, Commune):
        return obj.id, True
    if isinstance(obj, Association):
        return None, True
    if isinstance(obj, COMMUNE_CONTENT_MODELS):
        return obj.commune_id, False
    return None


def _touched_scopes(session: Session) -> tuple[set[int], bool]:
    communes: set[int] = set()
    association = False
    dirty = [obj for obj in session.dirty if session.is_modified(obj, include_collections=False)]
    for obj in (*session.new, *dirty, *session.deleted):
        owner = _owner(obj)
        if owner is None:
            continue
        commune_id, changes_association = owner
        if commune_id is not None:
            communes.add(commune_id)
        association = association or changes_association
    return communes, association


def _bump_generations(session: Session, flush_context: UOWTransaction) -> None:
    communes, association = _touched_scopes(session)
    if not communes and not association:
        return
    generation = new_content_generation()
    conn = session.connection()
    if communes:
        table = Commune.__table__
        conn.execute(update(table).where(table.c.id.in_(communes)).values(content_generation=generation))
    if association:
        conn.execute(update(Association.__table__).values(content_generation=generation))
    # Objects of this session see the new value too (no flush: it is already in the database).
    for obj in list(session.identity_map.values()):
        if (isinstance(obj, Commune) and obj.id in communes) or (
            association and isinstance(obj, Association)
        ):
            set_committed_value(obj, "content_generation", generation)


def install_generation_hooks() -> None:
    """Give a new content generation to every scope a flush changes; idempotent, once per process."""
    if event.contains(Session, "after_flush", _bump_generations):
        return
    event.listen(Session, "after_flush", _bump_generations)


# -- scheduled visibility -----------------------------------------------------------------------

_COMMUNE = bindparam("commune_id", type_=Integer())
_SINCE = bindparam("since", type_=UTCDateTime())


def _moments() -> Any:
    parts = []
    for model in CONTENT_MODELS.values():
        published = (model.commune_id == _COMMUNE, model.state == PublicationState.PUBLISHED)
        for column in (model.effective_at, model.expires_at):
            parts.append(select(func.min(column).label("at")).where(*published, column >= _SINCE))
    parts.append(
        select(func.min(Event.ends_at).label("at")).where(
            Event.commune_id == _COMMUNE, Event.state == PublicationState.PUBLISHED, Event.ends_at >= _SINCE
        )
    )
    moments = union_all(*parts).subquery()
    return select(func.min(moments.c.at))


_NEXT_CHANGE = _moments()


def next_scheduled_change(commune_id: int, since: datetime) -> datetime | None:
    """The first moment from ``since`` on at which the commune's pages change by themselves.

    A published item becomes effective or expires, or an event ends (it leaves the upcoming
    list for the archive). ``None`` when nothing is scheduled.
    """
    return db.session.scalar(_NEXT_CHANGE, {"commune_id": commune_id, "since": since})


# -- serving and keeping pages ------------------------------------------------------------------


def _cacheable_request(endpoint: str) -> bool:
    if request.method not in ("GET", "HEAD") or endpoint not in CACHED_ENDPOINTS:
        return False
    cookies = request.cookies
    config = current_app.config
    return not (
        config["SESSION_COOKIE_NAME"] in cookies
        or config.get("REMEMBER_COOKIE_NAME", "remember_token") in cookies
        or DRAFT_COOKIE in cookies
    )


_COMMUNE_GENERATION = select(Commune.id, Commune.content_generation).where(
    Commune.slug == bindparam("slug"), Commune.active
)
_ASSOCIATION_GENERATION = select(Association.content_generation).order_by(Association.id).limit(1)


def _scope(endpoint: str, values: dict[str, Any] | None) -> tuple[str, str, int | None] | None:
    """(scope, its generation, commune id) of the page, read before anything else of the page."""
    connection = db.session.connection()
    if endpoint in COMMUNE_ENDPOINTS:
        slug = (values or {}).get("commune")
        # Core on the session's connection: the ORM's execution machinery would double the cost.
        row = connection.execute(_COMMUNE_GENERATION, {"slug": slug}).first() if slug else None
        return (f"commune:{row.id}", row.content_generation, row.id) if row is not None else None
    generation = connection.execute(_ASSOCIATION_GENERATION).scalar()
    return ("association", generation, None) if generation is not None else None


def _key(scope: str, generation: str) -> str:
    parts = (
        current_app.extensions[_FINGERPRINT],
        scope,
        generation,
        current_language(),
        request.scheme,
        request.host,
        request.script_root + request.path,
        request.environ.get("QUERY_STRING", ""),
    )
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


class _CachedPage(Exception):
    """Carries a cached page out of the URL preprocessing (see :func:`_serve`)."""

    def __init__(self, response: Response) -> None:
        super().__init__()
        self.response = response


def _serve(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """The cached page, if there is a fresh one for this request.

    An application-wide URL value preprocessor: it runs before the commune blueprints load
    the commune with the ORM and before every ``before_request`` hook (none of which concerns
    the public pages), so a hit costs one small query. It reads the generation before anything
    else of the page is read, so what a miss renders is never older than its key says. A hit
    is raised to :func:`_answer` and goes through every ``after_request`` hook like any page.
    """
    if endpoint is None or not _cacheable_request(endpoint):
        return
    found = _scope(endpoint, values)
    if found is None:
        return
    scope, generation, commune_id = found
    key = _key(scope, generation)
    request.environ[_KEY] = (key, commune_id)
    request.environ[_STARTED] = utcnow()
    try:
        entry = page_cache.get(key)
    except Exception:
        log.warning("page cache unavailable; rendering", exc_info=True)
        return
    if entry is None or entry["fresh_until"] <= time.time():
        return
    request.environ[_SERVED] = True
    security.allow_style_hashes(entry["style_hashes"])
    raise _CachedPage(Response(entry["body"], status=entry["status"], headers=entry["headers"]))


def _answer(cached: _CachedPage) -> Response:
    return cached.response


def _fresh_until(started: datetime, commune_id: int | None) -> float:
    deadline = started.timestamp() + current_app.config["CACHE_DEFAULT_TIMEOUT"]
    if commune_id is not None:
        change = next_scheduled_change(commune_id, started)
        if change is not None:
            deadline = min(deadline, change.timestamp())
    return deadline


def _keep(response: Response) -> Response:
    """``after_request`` (runs first): keep a page that every anonymous visitor may see as it is."""
    keyed = request.environ.get(_KEY)
    if keyed is None or request.environ.get(_SERVED):
        return response
    if (
        response.status_code != 200
        or response.direct_passthrough
        or response.is_streamed
        or "Set-Cookie" in response.headers
        or response.cache_control.no_store
        or response.cache_control.private
        or session.modified
        or len(session) > 0
        or security.uses_nonce()
    ):
        return response
    key, commune_id = keyed
    fresh_until = _fresh_until(request.environ[_STARTED], commune_id)
    timeout = math.ceil(fresh_until - time.time())
    if timeout < 1:
        return response
    entry = {
        "status": response.status_code,
        "headers": [(name, value) for name, value in response.headers.items() if name != "Content-Length"],
        "body": response.get_data(),
        "style_hashes": security.allowed_style_hashes(),
        "fresh_until": fresh_until,
    }
    try:
        page_cache.set(key, entry, timeout=timeout)
    except Exception:
        log.warning("page cache unavailable; page not kept", exc_info=True)
    return response


def cache_enabled(app: Flask) -> bool:
    return app.config.get("CACHE_TYPE", "NullCache") not in _DISABLED


def init_app(app: Flask) -> None:
    """Bind the cache and install the hooks; call last in ``create_app``, so that keeping runs
    before every other ``after_request`` hook (which then add their headers to hits alike)."""
    app.config.setdefault("CACHE_NO_NULL_WARNING", True)
    page_cache.init_app(app)
    install_generation_hooks()
    if not cache_enabled(app):
        return
    app.extensions[_FINGERPRINT] = release_fingerprint(app)
    app.url_value_preprocessor(_serve)
    app.register_error_handler(_CachedPage, _answer)
    app.after_request(_keep)
