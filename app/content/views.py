"""A commune's public pages: home, news, events, documents, contact, search, page tree."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time
from math import ceil

from feedgen.feed import FeedGenerator
from flask import Response, abort, g, render_template, request, send_file, url_for
from flask_babel import gettext as _

from app.content.search import search as run_search
from app.content.services import (
    SLUG_PATTERN,
    PageNode,
    PageTree,
    find_document,
    find_event,
    find_news,
    latest_news,
    load_page,
    news_page,
    past_events,
    public_documents,
    public_page_tree,
    upcoming_events,
)
from app.markup import render_markdown
from app.storage import blob_store
from app.tenancy.services import commune_offices
from app.tenancy.web import commune_blueprint, current_commune
from app.timeutil import utcnow

log = logging.getLogger(__name__)

bp = commune_blueprint("content", __name__)

NEWS_PER_PAGE = 10
EVENTS_PER_PAGE = 20
SEARCH_PER_PAGE = 10
FEED_ENTRIES = 20


_NOW_KEY = "kommunalportal.content.now"
_TREE_KEY = "kommunalportal.content.page_tree"


def request_now() -> datetime:
    """One "now" per request, so every part of a page agrees on what is visible."""
    # Kept in the WSGI environ: it lives exactly as long as the request (g may outlive it).
    if _NOW_KEY not in request.environ:
        request.environ[_NOW_KEY] = utcnow()
    return request.environ[_NOW_KEY]


def page_tree() -> PageTree | None:
    """The current commune's visible page tree, loaded once per request."""
    commune = g.get("commune")
    if commune is None:
        return None
    cached = request.environ.get(_TREE_KEY)
    if cached is None or cached[0] != commune.id:
        cached = (commune.id, public_page_tree(commune, request_now()))
        request.environ[_TREE_KEY] = cached
    return cached[1]


def navigation_pages() -> list[PageNode]:
    """The top level of the page tree, for the header navigation of every commune page.

    Pages marked "not in navigation" (such as the legal pages the footer links) are left out.
    """
    tree = page_tree()
    return [p for p in tree.roots if p.in_navigation] if tree is not None else []


def is_slug(value: str) -> bool:
    """Whether a URL segment can be a content slug at all (saves a query, and keeps NUL bytes away)."""
    return SLUG_PATTERN.match(value) is not None


MAX_PAGE_NUMBER = 100_000


def page_number() -> int:
    """The ``?page=`` argument; anything but a whole number from 1 to MAX_PAGE_NUMBER is a 404."""
    raw = request.args.get("page", "1")
    # isascii: "²" and other Unicode digits pass isdigit() but not int().
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE_NUMBER:
        abort(404)
    return int(raw)


def _check_page_range(number: int, total: int, per_page: int) -> int:
    pages = max(1, ceil(total / per_page))
    if number > pages:
        abort(404)
    return pages


@bp.get("/")
def commune_home() -> str:
    commune = current_commune()
    now = request_now()
    return render_template(
        "content/home.html",
        news=latest_news(commune, now, limit=4),
        events=upcoming_events(commune, now, limit=4),
        documents=public_documents(commune, now, limit=3),
    )


@bp.get("/news/")
def news_list() -> str:
    number = page_number()
    items, total = news_page(current_commune(), request_now(), number, NEWS_PER_PAGE)
    pages = _check_page_range(number, total, NEWS_PER_PAGE)
    return render_template("content/news_list.html", items=items, page=number, pages=pages)


@bp.get("/news/<slug>")
def news_item(slug: str) -> str:
    item = find_news(current_commune(), slug, request_now()) if is_slug(slug) else None
    if item is None:
        abort(404)
    return render_template("content/news_item.html", item=item)


@bp.get("/news/<slug>/image")
def news_image(slug: str) -> Response:
    item = find_news(current_commune(), slug, request_now()) if is_slug(slug) else None
    if item is None or item.image_key is None:
        abort(404)
    return _send_blob(item.image_key, item.image_type or "application/octet-stream", max_age=3600)


@bp.get("/news/feed.atom")
def news_feed() -> Response:
    commune = current_commune()
    items = latest_news(commune, request_now(), limit=FEED_ENTRIES)
    feed = FeedGenerator()
    feed.id(url_for("content.news_list", _external=True))
    feed.title(_("Nachrichten aus %(name)s", name=commune.name))
    author = {"name": commune.official_name}
    if commune.email:
        author["email"] = commune.email
    feed.author(author)
    feed.link(href=url_for("content.news_feed", _external=True), rel="self")
    feed.link(href=url_for("content.news_list", _external=True), rel="alternate")
    feed.language("de")
    feed.updated(max((i.modified_at for i in items), default=commune.created_at))
    for item in items:
        link = url_for("content.news_item", slug=item.slug, _external=True)
        entry = feed.add_entry(order="append")
        entry.id(link)
        entry.title(item.title)
        entry.link(href=link)
        entry.published(item.effective_at or datetime.combine(item.news_date, time(), UTC))
        entry.updated(item.modified_at)
        if item.lead:
            entry.summary(item.lead)
        entry.content(str(render_markdown(item.body)), type="html")
    return Response(feed.atom_str(pretty=True), mimetype="application/atom+xml")


@bp.get("/events/")
def events() -> str:
    return render_template("content/events.html", events=upcoming_events(current_commune(), request_now()))


@bp.get("/events/archive")
def events_archive() -> str:
    number = page_number()
    items, total = past_events(current_commune(), request_now(), number, EVENTS_PER_PAGE)
    pages = _check_page_range(number, total, EVENTS_PER_PAGE)
    return render_template("content/events_archive.html", events=items, page=number, pages=pages)


@bp.get("/events/<slug>")
def event(slug: str) -> str:
    item = find_event(current_commune(), slug, request_now()) if is_slug(slug) else None
    if item is None:
        abort(404)
    return render_template("content/event.html", event=item, is_past=item.ends_at < request_now())


@bp.get("/documents/")
def documents() -> str:
    items = public_documents(current_commune(), request_now())
    return render_template("content/documents.html", documents=items)


@bp.get("/documents/<slug>")
def document(slug: str) -> Response:
    item = find_document(current_commune(), slug, request_now()) if is_slug(slug) else None
    if item is None:
        abort(404)
    return _send_blob(item.file_key, item.media_type, download_name=item.filename)


@bp.get("/contact")
def contact() -> str:
    return render_template("content/contact.html", offices=commune_offices(current_commune()))


@bp.get("/search")
def search() -> str:
    query = request.args.get("q", "")
    number = page_number()
    results = run_search(
        query, current_commune(), limit=SEARCH_PER_PAGE, offset=(number - 1) * SEARCH_PER_PAGE
    )
    return render_template("content/search.html", results=results, query=query)


@bp.get("/coat-of-arms")
def coat_of_arms() -> Response:
    commune = current_commune()
    if not commune.coat_of_arms_key:
        abort(404)
    return _send_blob(commune.coat_of_arms_key, commune.coat_of_arms_type or "image/png", max_age=86400)


@bp.get("/<path:path>")
def page(path: str) -> str:
    tree = page_tree()
    found = tree.find(path) if tree is not None else None
    if tree is None or found is None:
        abort(404)
    ancestors = tree.ancestors(found)
    section = ancestors[0] if ancestors else found
    shown = load_page(found)
    trail = [
        (_("Startseite"), url_for("content.commune_home")),
        *((p.title, url_for("content.page", path=tree.path_of(p))) for p in ancestors),
        (found.title, None),
    ]
    return render_template(
        "content/page.html",
        page=shown,
        trail=trail,
        children=[(p, tree.path_of(p)) for p in tree.children_of(found)],
        section=section,
        section_pages=[(p, tree.path_of(p)) for p in tree.children_of(section)],
        section_path=tree.path_of(section),
    )


def _send_blob(key: str, media_type: str, *, download_name: str | None = None, max_age: int = 0) -> Response:
    """A stored file with a strong ETag (its SHA-256 key); answers conditional GETs with 304."""
    path = blob_store().path(key)
    if not path.is_file():
        log.error("blob %s is missing from storage", key)
        abort(404)
    response = send_file(
        path,
        mimetype=media_type,
        as_attachment=download_name is not None,
        download_name=download_name,
        etag=key,
        conditional=True,
        max_age=max_age,
    )
    response.cache_control.public = True
    if not max_age:
        # Revalidate every time: a document may be retracted at any moment.
        response.cache_control.no_cache = True
    return response
