"""The editors' screens under ``/staff/<commune>/content/``.

``/`` the overview (page tree, news, events, documents) · ``drafts`` ("Meine Entwürfe") ·
``review`` ("Warten auf Prüfung") · ``preview`` (POST: Markdown → sanitized HTML, for
the live preview) · ``pages/new?parent=<id>`` · ``<kind>/new`` · ``<kind>/<id>`` (edit) ·
``pages/<id>/move`` · ``pages/<id>/reorder`` · ``<kind>/<id>/delete`` ·
``<kind>/<id>/workflow`` · ``<kind>/<id>/versions`` (+ ``/compare``, ``/<n>/restore``),
where ``<kind>`` is ``pages``, ``news``, ``events`` or ``documents``.

Everyone needs the edit permission in the commune (403 otherwise, 404 for a commune
the user cannot see, and for another commune's item). Views are thin: the rules
live in :mod:`app.content.editing.services`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from app.content.editing import services
from app.content.editing.forms import (
    ConfirmForm,
    DocumentForm,
    EventForm,
    MoveForm,
    NewsForm,
    PageForm,
    PreviewForm,
    ReorderForm,
    WorkflowForm,
    berlin_to_utc,
    utc_to_berlin_naive,
)
from app.content.editing.required import is_required_page
from app.content.editing.versions import diff_versions, find_version, versions_of
from app.content.models import ContentItem, ContentKind, Document, Event, NewsItem, Page, PublicationState
from app.content.services import ContentError
from app.extensions import db
from app.markup import render_markdown
from app.staff.auth import audit, commune_scope, current_staff_user
from app.staff.models import AuditAction, User
from app.staff.permissions import Permission
from app.tenancy.models import Commune

bp = Blueprint("staff_content", __name__, url_prefix="/staff/<commune>/content")

#: URL segment → kind, and back.
KINDS = {
    "pages": ContentKind.PAGE,
    "news": ContentKind.NEWS,
    "events": ContentKind.EVENT,
    "documents": ContentKind.DOCUMENT,
}
SEGMENTS = {kind: segment for segment, kind in KINDS.items()}
KIND_LABELS = {
    ContentKind.PAGE: _l("Seite"),
    ContentKind.NEWS: _l("Nachricht"),
    ContentKind.EVENT: _l("Veranstaltung"),
    ContentKind.DOCUMENT: _l("Dokument"),
}
NEW_TITLES = {
    ContentKind.PAGE: _l("Neue Seite"),
    ContentKind.NEWS: _l("Neue Nachricht"),
    ContentKind.EVENT: _l("Neue Veranstaltung"),
    ContentKind.DOCUMENT: _l("Neues Dokument"),
}
STATE_LABELS = {
    PublicationState.PRIVATE: _l("Entwurf (privat)"),
    PublicationState.PENDING: _l("Wartet auf Prüfung"),
    PublicationState.PUBLISHED: _l("Veröffentlicht"),
}
TRANSITION_LABELS = {
    "submit": _l("Zur Prüfung einreichen"),
    "publish": _l("Veröffentlichen"),
    "retract": _l("Zurückziehen"),
    "reject": _l("Zurückweisen"),
}
TRANSITION_DONE = {
    "submit": _l("„%(title)s“ wartet jetzt auf Prüfung."),
    "publish": _l("„%(title)s“ ist veröffentlicht."),
    "retract": _l("„%(title)s“ ist zurückgezogen und nicht mehr öffentlich."),
    "reject": _l("„%(title)s“ ist mit Ihrer Begründung an die Autorin oder den Autor zurückgegangen."),
}
_FORMS = {
    ContentKind.PAGE: PageForm,
    ContentKind.NEWS: NewsForm,
    ContentKind.EVENT: EventForm,
    ContentKind.DOCUMENT: DocumentForm,
}


@bp.app_template_global()
def content_state_label(state: PublicationState) -> str:
    """The editor's word for a workflow state."""
    return str(STATE_LABELS[state])


@bp.app_template_global()
def content_kind_label(kind: ContentKind) -> str:
    """The editor's word for a kind of content."""
    return str(KIND_LABELS[kind])


@bp.app_template_global()
def content_edit_url(item: ContentItem) -> str:
    """The staff URL where the item is edited."""
    return url_for(
        "staff_content.edit", commune=item.commune.slug, segment=SEGMENTS[item.KIND], item_id=item.id
    )


def _actor() -> User:
    user = current_staff_user()
    if user is None:
        abort(404)
    return user


def _scope(commune_slug: str) -> tuple[Commune, User]:
    return commune_scope(commune_slug, Permission.EDIT_CONTENT), _actor()


def _kind(segment: str) -> ContentKind:
    kind = KINDS.get(segment)
    if kind is None:
        abort(404)
    return kind


def _item(commune: Commune, segment: str, item_id: int) -> ContentItem:
    item = services.find_item(commune, _kind(segment), item_id)
    if item is None:
        abort(404)
    return item


def _audit(action: AuditAction, item: ContentItem, **details: Any) -> None:
    audit(action, commune=item.commune, object_type=item.KIND.value, object_id=item.id, details=details)


def public_url(item: ContentItem) -> str:
    """Where visitors find the item once it is visible."""
    slug = item.commune.slug
    if isinstance(item, Page):
        pages = [page for page, _depth in services.commune_pages(item.commune)]
        return url_for("content.page", commune=slug, path=services.page_path(item, pages))
    if isinstance(item, NewsItem):
        return url_for("content.news_item", commune=slug, slug=item.slug)
    if isinstance(item, Event):
        return url_for("content.event", commune=slug, slug=item.slug)
    return url_for("content.document", commune=slug, slug=item.slug)


# -- lists --------------------------------------------------------------------------------------


@bp.get("/")
def overview(commune: str) -> str:
    place, actor = _scope(commune)
    pages = services.commune_pages(place)
    positions: dict[int | None, list[int]] = {}
    for page, _depth in pages:
        positions.setdefault(page.parent_id, []).append(page.id)
    return render_template(
        "staff/content/overview.html",
        place=place,
        pages=pages,
        siblings=positions,
        news=services.items_of(place, ContentKind.NEWS),
        events=services.items_of(place, ContentKind.EVENT),
        documents=services.items_of(place, ContentKind.DOCUMENT),
        may_publish=services.may_publish(actor, place),
        reorder_form=ReorderForm(),
        is_required=is_required_page,
    )


@bp.get("/drafts")
def drafts(commune: str) -> str:
    place, actor = _scope(commune)
    return render_template(
        "staff/content/list.html",
        place=place,
        title=_("Meine Entwürfe"),
        intro=_("Inhalte, die Sie angelegt oder bearbeitet haben und die noch privat sind."),
        items=services.my_drafts(place, actor),
        empty=_("Sie haben keine Entwürfe."),
    )


@bp.get("/review")
def review(commune: str) -> str:
    place, actor = _scope(commune)
    return render_template(
        "staff/content/list.html",
        place=place,
        title=_("Warten auf Prüfung"),
        intro=(
            _("Diese Inhalte wurden zur Veröffentlichung eingereicht. Öffnen Sie einen, um ihn zu prüfen.")
            if services.may_publish(actor, place)
            else _("Diese Inhalte wurden eingereicht; eine Person mit Veröffentlichungsrecht prüft sie.")
        ),
        items=services.awaiting_review(place),
        empty=_("Zurzeit wartet nichts auf Prüfung."),
    )


@bp.post("/preview")
def preview(commune: str) -> Response:
    """The live preview's HTML: the Markdown rendered and sanitized exactly as on the public site."""
    _scope(commune)
    form = PreviewForm()
    if not form.validate():
        abort(400)
    return Response(str(render_markdown(form.body.data or "")), mimetype="text/html")


# -- create and edit ----------------------------------------------------------------------------


def _upload(field: Any) -> tuple[str, bytes] | None:
    storage = field.data
    if not isinstance(storage, FileStorage) or not storage.filename:
        return None
    return storage.filename, storage.read()


def _fill(form: Any, item: ContentItem) -> None:
    """Put the item's values into a form that was not posted."""
    for name in ("title", "slug", "body", "description", "lead", "location", "image_alt"):
        if hasattr(form, name) and hasattr(item, name):
            getattr(form, name).data = getattr(item, name)
    form.effective_at.data = utc_to_berlin_naive(item.effective_at)
    form.expires_at.data = utc_to_berlin_naive(item.expires_at)
    if isinstance(item, Page):
        form.in_navigation.data = item.in_navigation
    if isinstance(item, NewsItem):
        form.news_date.data = item.news_date
    if isinstance(item, Event):
        form.starts_at.data = utc_to_berlin_naive(item.starts_at)
        form.ends_at.data = utc_to_berlin_naive(item.ends_at)
        form.all_day.data = item.all_day


def _save(
    kind: ContentKind, form: Any, place: Commune, actor: User, item: ContentItem | None, parent: Page | None
) -> ContentItem:
    dates = {
        "effective_at": berlin_to_utc(form.effective_at.data),
        "expires_at": berlin_to_utc(form.expires_at.data),
    }
    common = {"title": form.title.data.strip(), "slug": form.slug.data, "body": form.body.data or ""}
    if kind is ContentKind.PAGE:
        if item is None:
            return services.create_page(
                place,
                actor,
                parent=parent,
                description=form.description.data or "",
                in_navigation=form.in_navigation.data,
                **common,
                **dates,
            )
        assert isinstance(item, Page)
        services.update_page(
            item,
            actor,
            description=form.description.data or "",
            in_navigation=form.in_navigation.data,
            **common,
            **dates,
        )
        return item
    if kind is ContentKind.NEWS:
        upload = _upload(form.image)
        return services.save_news_item(
            place,
            actor,
            item if isinstance(item, NewsItem) else None,
            news_date=form.news_date.data,
            lead=form.lead.data or "",
            image=upload[1] if upload else None,
            image_alt=form.image_alt.data or "",
            remove_image=form.remove_image.data,
            **common,
            **dates,
        )
    if kind is ContentKind.EVENT:
        return services.save_event(
            place,
            actor,
            item if isinstance(item, Event) else None,
            starts_at=berlin_to_utc(form.starts_at.data),
            ends_at=berlin_to_utc(form.ends_at.data),
            all_day=form.all_day.data,
            location=form.location.data or "",
            **common,
            **dates,
        )
    upload = _upload(form.file)
    return services.save_document(
        place,
        actor,
        item if isinstance(item, Document) else None,
        description=form.description.data or "",
        filename=upload[0] if upload else None,
        data=upload[1] if upload else None,
        **common,
        **dates,
    )


def _editor(place: Commune, actor: User, kind: ContentKind, item: ContentItem | None) -> str | Response:
    parent: Page | None = None
    if kind is ContentKind.PAGE and item is None and request.args.get("parent", "").isdigit():
        found = services.find_item(place, ContentKind.PAGE, int(request.args["parent"]))
        if found is None:
            abort(404)
        assert isinstance(found, Page)
        parent = found
    form = _FORMS[kind]()
    if kind is ContentKind.DOCUMENT:
        size = int(current_app.config["CONTENT_MAX_DOCUMENT_BYTES"]) // (1024 * 1024)
        form.file.description = _(
            "PDF, ODT, ODS, DOCX, XLSX, PNG, JPEG, TXT oder CSV, höchstens %(size)s MB. "
            "Eine neue Datei ersetzt die bisherige; die Internetadresse bleibt gleich.",
            size=size,
        )
    if request.method == "GET" and item is not None:
        _fill(form, item)
    preview = None
    problem: str | None = None
    if request.method == "POST":
        if request.form.get("action") == "preview":
            # Only shows the text: nothing is validated or stored yet.
            preview = render_markdown(form.body.data or "")
        elif form.validate_on_submit():
            try:
                saved = _save(kind, form, place, actor, item, parent)
            except ContentError as error:
                db.session.rollback()
                problem = str(error)
            else:
                _audit(
                    AuditAction.CONTENT_CHANGED if item is not None else AuditAction.CONTENT_CREATED,
                    saved,
                    title=saved.title,
                    slug=saved.slug,
                )
                db.session.commit()
                flash(_("„%(title)s“ ist gespeichert.", title=saved.title), "success")
                return redirect(content_edit_url(saved))
    return render_template(
        "staff/content/edit.html",
        place=place,
        kind=kind,
        segment=SEGMENTS[kind],
        form=form,
        item=item,
        parent=parent,
        preview=preview,
        problem=problem,
        title=item.title if item is not None else str(NEW_TITLES[kind]),
        transitions=services.allowed_transitions(item, actor) if item is not None else [],
        transition_labels=TRANSITION_LABELS,
        workflow_form=WorkflowForm(formdata=None),
        public_url=public_url(item) if item is not None else None,
        required=item is not None and is_required_page(item),
        may_change=item is None or services.may_change(item, actor),
    )


@bp.route("/<segment>/new", methods=["GET", "POST"])
def create(commune: str, segment: str) -> str | Response:
    place, actor = _scope(commune)
    return _editor(place, actor, _kind(segment), None)


@bp.route("/<segment>/<int:item_id>", methods=["GET", "POST"])
def edit(commune: str, segment: str, item_id: int) -> str | Response:
    place, actor = _scope(commune)
    item = _item(place, segment, item_id)
    return _editor(place, actor, item.KIND, item)


# -- the page tree ------------------------------------------------------------------------------


def _page(place: Commune, item_id: int) -> Page:
    item = _item(place, "pages", item_id)
    assert isinstance(item, Page)
    return item


@bp.route("/pages/<int:item_id>/move", methods=["GET", "POST"])
def move(commune: str, item_id: int) -> str | Response:
    place, actor = _scope(commune)
    page = _page(place, item_id)
    pages = services.commune_pages(place)
    form = MoveForm()
    form.parent.choices = [("", _("Oberste Ebene"))] + [
        (str(p.id), "– " * depth + p.title) for p, depth in pages if p.id != page.id
    ]
    if request.method == "GET":
        form.parent.data = str(page.parent_id) if page.parent_id else ""
    problem = None
    if form.validate_on_submit():
        target: Page | None = None
        if form.parent.data:
            target = services.find_item(place, ContentKind.PAGE, int(form.parent.data))  # type: ignore[assignment]
            if target is None:
                abort(404)
        try:
            services.move_page(page, actor, target)
        except ContentError as error:
            db.session.rollback()
            problem = str(error)
        else:
            _audit(AuditAction.CONTENT_CHANGED, page, moved_to=target.id if target else None)
            db.session.commit()
            flash(_("„%(title)s“ ist verschoben.", title=page.title), "success")
            return redirect(url_for(".overview", commune=place.slug))
    return render_template("staff/content/move.html", place=place, page=page, form=form, problem=problem)


@bp.post("/pages/<int:item_id>/reorder")
def reorder(commune: str, item_id: int) -> Response:
    place, actor = _scope(commune)
    page = _page(place, item_id)
    form = ReorderForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        moved = services.reorder_page(page, actor, form.direction.data)
    except ContentError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        if moved:
            _audit(AuditAction.CONTENT_CHANGED, page, reordered=form.direction.data)
            db.session.commit()
            flash(_("Die Reihenfolge ist geändert."), "success")
    return redirect(url_for(".overview", commune=place.slug) + f"#page-{page.id}")


# -- delete, workflow ---------------------------------------------------------------------------


@bp.route("/<segment>/<int:item_id>/delete", methods=["GET", "POST"])
def delete(commune: str, segment: str, item_id: int) -> str | Response:
    place, actor = _scope(commune)
    item = _item(place, segment, item_id)
    form = ConfirmForm()
    problem = None
    if form.validate_on_submit():
        title, kind, ident = item.title, item.KIND, item.id
        try:
            services.delete_item(item, actor)
        except ContentError as error:
            db.session.rollback()
            problem = str(error)
        else:
            audit(
                AuditAction.CONTENT_DELETED,
                commune=place,
                object_type=kind.value,
                object_id=ident,
                details={"title": title},
            )
            db.session.commit()
            flash(_("„%(title)s“ ist gelöscht.", title=title), "success")
            return redirect(url_for(".overview", commune=place.slug))
    return render_template(
        "staff/content/delete.html",
        place=place,
        item=item,
        form=form,
        problem=problem,
        required=is_required_page(item),
    )


@bp.post("/<segment>/<int:item_id>/workflow")
def workflow(commune: str, segment: str, item_id: int) -> str | Response:
    place, actor = _scope(commune)
    item = _item(place, segment, item_id)
    form = WorkflowForm()
    if not form.validate_on_submit():
        abort(400)
    transition = form.transition.data
    try:
        before = services.change_state(item, actor, transition, form.comment.data or "")
    except services.NotAllowed:
        db.session.rollback()
        abort(403)
    except ContentError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(content_edit_url(item))
    _audit(
        AuditAction.CONTENT_STATE_CHANGED,
        item,
        transition=transition,
        old=before.value,
        new=item.state.value,
        **({"comment": item.review_comment} if transition == "reject" else {}),
    )
    db.session.commit()
    flash(str(TRANSITION_DONE[transition]) % {"title": item.title}, "success")
    return redirect(content_edit_url(item))


# -- versions -----------------------------------------------------------------------------------


@bp.get("/<segment>/<int:item_id>/versions")
def versions(commune: str, segment: str, item_id: int) -> str:
    place, actor = _scope(commune)
    item = _item(place, segment, item_id)
    return render_template(
        "staff/content/versions.html",
        place=place,
        item=item,
        segment=segment,
        versions=versions_of(item),
        restore_form=ConfirmForm(formdata=None),
        may_change=services.may_change(item, actor),
    )


@bp.get("/<segment>/<int:item_id>/versions/compare")
def compare(commune: str, segment: str, item_id: int) -> str:
    place = commune_scope(commune, Permission.EDIT_CONTENT)
    item = _item(place, segment, item_id)
    numbers = [request.args.get(name, "") for name in ("old", "new")]
    if not all(n.isdigit() for n in numbers):
        abort(404)
    old, new = (find_version(item, int(n)) for n in numbers)
    if old is None or new is None:
        abort(404)
    return render_template(
        "staff/content/compare.html",
        place=place,
        item=item,
        segment=segment,
        old=old,
        new=new,
        diffs=diff_versions(old, new),
    )


@bp.post("/<segment>/<int:item_id>/versions/<int:number>/restore")
def restore(commune: str, segment: str, item_id: int, number: int) -> Response:
    place, actor = _scope(commune)
    item = _item(place, segment, item_id)
    version = find_version(item, number)
    if version is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        created = services.restore_version(item, version, actor)
    except ContentError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for(".versions", commune=place.slug, segment=segment, item_id=item.id))
    _audit(AuditAction.CONTENT_CHANGED, item, restored_version=number, version=created.number)
    db.session.commit()
    flash(
        _(
            "Version %(number)s ist wiederhergestellt (als neue Version %(new)s).",
            number=number,
            new=created.number,
        ),
        "success",
    )
    return redirect(content_edit_url(item))
