"""The editing history: recording a version on every save, and comparing two versions.

A version's snapshot holds the fields of :data:`VERSIONED_FIELDS` as JSON (dates as
ISO strings); the workflow state is not part of it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import func, select

from app.content.editing.models import ContentVersion
from app.content.models import ContentItem, ContentKind
from app.content.services import ContentError
from app.extensions import db
from app.staff.models import User

#: The fields a version keeps, per kind, in the order the comparison shows them.
VERSIONED_FIELDS: dict[ContentKind, tuple[str, ...]] = {
    ContentKind.PAGE: ("title", "slug", "description", "body", "in_navigation", "effective_at", "expires_at"),
    ContentKind.NEWS: (
        "title",
        "slug",
        "news_date",
        "lead",
        "body",
        "image_alt",
        "image_key",
        "image_type",
        "effective_at",
        "expires_at",
    ),
    ContentKind.EVENT: (
        "title",
        "slug",
        "starts_at",
        "ends_at",
        "all_day",
        "location",
        "body",
        "effective_at",
        "expires_at",
    ),
    ContentKind.DOCUMENT: (
        "title",
        "slug",
        "description",
        "body",
        "filename",
        "file_key",
        "media_type",
        "size",
        "sha256",
        "effective_at",
        "expires_at",
    ),
}
FIELD_LABELS: dict[str, LazyString] = {
    "title": _l("Titel"),
    "slug": _l("Kurzadresse"),
    "description": _l("Kurzbeschreibung"),
    "body": _l("Text"),
    "in_navigation": _l("In der Hauptnavigation"),
    "effective_at": _l("Veröffentlichen ab"),
    "expires_at": _l("Ablaufdatum"),
    "news_date": _l("Datum der Nachricht"),
    "lead": _l("Vorspann"),
    "image_alt": _l("Alternativtext des Bildes"),
    "image_key": _l("Bild (Prüfsumme)"),
    "image_type": _l("Bildformat"),
    "starts_at": _l("Beginn"),
    "ends_at": _l("Ende"),
    "all_day": _l("Ganztägig"),
    "location": _l("Ort"),
    "filename": _l("Dateiname"),
    "file_key": _l("Datei (Prüfsumme)"),
    "media_type": _l("Dateityp"),
    "size": _l("Dateigröße in Bytes"),
    "sha256": _l("SHA-256"),
}
_DATETIME_FIELDS = frozenset({"effective_at", "expires_at", "starts_at", "ends_at"})
_DATE_FIELDS = frozenset({"news_date"})


def _snapshot(item: ContentItem) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in VERSIONED_FIELDS[item.KIND]:
        value = getattr(item, name)
        values[name] = value.isoformat() if isinstance(value, datetime | date) else value
    return values


def unsnapshot(name: str, value: Any) -> Any:
    """A snapshot's JSON value as the model's attribute takes it."""
    if value is None:
        return None
    if name in _DATETIME_FIELDS:
        return datetime.fromisoformat(value)
    if name in _DATE_FIELDS:
        return date.fromisoformat(value)
    return value


def record_version(item: ContentItem, actor: User | None, note: str | LazyString) -> ContentVersion:
    """Keep the item's current fields as its next version."""
    db.session.flush()
    last = db.session.scalar(
        select(func.max(ContentVersion.number)).where(
            ContentVersion.kind == item.KIND, ContentVersion.item_id == item.id
        )
    )
    version = ContentVersion(
        commune_id=item.commune_id,
        kind=item.KIND,
        item_id=item.id,
        number=(last or 0) + 1,
        author_id=actor.id if actor is not None else None,
        author_name=actor.name if actor is not None else "",
        note=str(note)[:200],
        fields=_snapshot(item),
    )
    db.session.add(version)
    db.session.flush()
    return version


def keep_baseline(item: ContentItem) -> None:
    """Before the first change of an item that has no version yet (demo content, items made
    outside these screens), keep its current state as version 1, so it can be restored."""
    exists = db.session.scalar(
        select(ContentVersion.id)
        .where(ContentVersion.kind == item.KIND, ContentVersion.item_id == item.id)
        .limit(1)
    )
    if exists is None:
        record_version(item, None, _l("Ausgangsstand"))


def versions_of(item: ContentItem) -> list[ContentVersion]:
    """The item's versions, newest first."""
    return list(
        db.session.scalars(
            select(ContentVersion)
            .where(ContentVersion.kind == item.KIND, ContentVersion.item_id == item.id)
            .order_by(ContentVersion.number.desc())
        )
    )


def find_version(item: ContentItem, number: int) -> ContentVersion | None:
    """Version ``number`` of the item, or ``None``."""
    return db.session.scalar(
        select(ContentVersion).where(
            ContentVersion.kind == item.KIND,
            ContentVersion.item_id == item.id,
            ContentVersion.number == number,
        )
    )


@dataclass(frozen=True)
class LineChange:
    """One row of a field's comparison: the old and the new line; ``None`` where there is none."""

    old: str | None
    new: str | None

    @property
    def changed(self) -> bool:
        return self.old != self.new


@dataclass(frozen=True)
class FieldDiff:
    """How one field differs between two versions, line by line."""

    name: str
    label: str
    lines: list[LineChange]


def _lines(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, bool):
        return [str(_l("ja") if value else _l("nein"))]
    return str(value).splitlines() or [""]


def diff_versions(old: ContentVersion, new: ContentVersion) -> list[FieldDiff]:
    """The fields that differ between two versions of one item, each as aligned line pairs.

    Unchanged lines of a long text are kept (as context); the template marks changed
    ones with ``<del>`` and ``<ins>``.
    """
    if (old.kind, old.item_id) != (new.kind, new.item_id):
        raise ContentError(_l("Es lassen sich nur Versionen desselben Inhalts vergleichen."))
    diffs: list[FieldDiff] = []
    for name in VERSIONED_FIELDS[old.kind]:
        before, after = old.fields.get(name), new.fields.get(name)
        if before == after:
            continue
        a, b = _lines(before), _lines(after)
        rows: list[LineChange] = []
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
            if tag == "equal":
                rows.extend(LineChange(line, line) for line in a[i1:i2])
                continue
            olds, news = a[i1:i2], b[j1:j2]
            for k in range(max(len(olds), len(news))):
                rows.append(
                    LineChange(olds[k] if k < len(olds) else None, news[k] if k < len(news) else None)
                )
        diffs.append(FieldDiff(name, str(FIELD_LABELS.get(name, name)), rows))
    return diffs
