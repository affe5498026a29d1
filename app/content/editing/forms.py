"""WTForms of the editors' screens. Every form posts with a CSRF token.

Dates and times are entered in Berlin time and handed to the services as aware
datetimes (see :func:`berlin_to_utc`). Slugs may be left empty: the service then
derives one from the title.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from app.timeutil import BERLIN, to_berlin

TITLE_MAX = 300
TEXT_MAX = 100_000
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"

_MARKDOWN_HINT = _l(
    "Markdown: **fett**, *kursiv*, ## Zwischenüberschrift, - Aufzählung, [Linktext](https://…). "
    "Mit „Vorschau“ sehen Sie, wie der Text erscheint."
)
_SLUG_HINT = _l(
    "Der letzte Teil der Internetadresse: Kleinbuchstaben, Ziffern und Bindestriche. "
    "Leer lassen, um sie aus dem Titel zu bilden."
)


def berlin_to_utc(value: datetime | None) -> datetime | None:
    """A naive date and time as entered in Berlin, as an aware UTC datetime."""
    if value is None:
        return None
    return value.replace(tzinfo=BERLIN).astimezone(UTC)


def utc_to_berlin_naive(value: datetime | None) -> datetime | None:
    """The reverse of :func:`berlin_to_utc`, to fill a form."""
    if value is None:
        return None
    return to_berlin(value).replace(tzinfo=None)


def _title_field() -> StringField:
    return StringField(
        _l("Titel"),
        validators=[DataRequired(_l("Bitte geben Sie einen Titel ein.")), Length(max=TITLE_MAX)],
    )


def _slug_field() -> StringField:
    return StringField(_l("Kurzadresse"), description=_SLUG_HINT, validators=[Optional(), Length(max=120)])


def _body_field() -> TextAreaField:
    return TextAreaField(_l("Text"), description=_MARKDOWN_HINT, validators=[Length(max=TEXT_MAX)])


class PublicationDatesMixin:
    """Effective and expiry dates, shared by every content form."""

    effective_at = DateTimeLocalField(
        _l("Veröffentlichen ab"),
        description=_l("Optional. Vorher bleibt der Inhalt verborgen, auch wenn er veröffentlicht ist."),
        format=DATETIME_FORMAT,
        validators=[Optional()],
    )
    expires_at = DateTimeLocalField(
        _l("Ablaufdatum"),
        description=_l("Optional. Danach ist der Inhalt nicht mehr öffentlich zu sehen."),
        format=DATETIME_FORMAT,
        validators=[Optional()],
    )

    def validate_expires_at(self, field: DateTimeLocalField) -> None:
        effective = self.effective_at.data  # type: ignore[attr-defined]
        if field.data and effective and field.data <= effective:
            raise ValidationError(_l("Das Ablaufdatum muss nach dem Veröffentlichungsdatum liegen."))


class PageForm(PublicationDatesMixin, FlaskForm):
    title = _title_field()
    slug = _slug_field()
    description = TextAreaField(
        _l("Kurzbeschreibung"),
        description=_l("Ein, zwei Sätze für Übersichten und die Suche."),
        validators=[Length(max=1000)],
    )
    body = _body_field()
    in_navigation = BooleanField(
        _l("In der Hauptnavigation zeigen"),
        description=_l("Gilt für Seiten der obersten Ebene."),
        default=True,
    )


class NewsForm(PublicationDatesMixin, FlaskForm):
    title = _title_field()
    slug = _slug_field()
    news_date = DateField(
        _l("Datum der Nachricht"),
        default=date.today,
        validators=[InputRequired(_l("Bitte geben Sie das Datum der Nachricht an."))],
    )
    lead = TextAreaField(
        _l("Vorspann"),
        description=_l("Ein kurzer Einstieg, der in Übersichten und im Newsfeed erscheint."),
        validators=[Length(max=1000)],
    )
    body = _body_field()
    image = FileField(
        _l("Bild"),
        description=_l(
            "Optional. PNG, JPEG oder WebP; große Bilder werden auf 1600 Bildpunkte verkleinert, "
            "Kameradaten (EXIF) entfernt."
        ),
    )
    image_alt = StringField(
        _l("Alternativtext des Bildes"),
        description=_l("Pflicht, wenn die Nachricht ein Bild hat: beschreiben Sie, was darauf zu sehen ist."),
        validators=[Length(max=300)],
    )
    remove_image = BooleanField(_l("Bild entfernen"))


class EventForm(PublicationDatesMixin, FlaskForm):
    title = _title_field()
    slug = _slug_field()
    starts_at = DateTimeLocalField(
        _l("Beginn"),
        format=DATETIME_FORMAT,
        validators=[InputRequired(_l("Bitte geben Sie an, wann die Veranstaltung beginnt."))],
    )
    ends_at = DateTimeLocalField(
        _l("Ende"), description=_l("Optional."), format=DATETIME_FORMAT, validators=[Optional()]
    )
    all_day = BooleanField(_l("Ganztägig"), description=_l("Die Uhrzeiten werden dann nicht angezeigt."))
    location = StringField(_l("Ort"), validators=[Length(max=300)])
    body = _body_field()

    def validate_ends_at(self, field: DateTimeLocalField) -> None:
        if field.data and self.starts_at.data and field.data < self.starts_at.data:
            raise ValidationError(_l("Das Ende darf nicht vor dem Beginn liegen."))


class DocumentForm(PublicationDatesMixin, FlaskForm):
    title = _title_field()
    slug = _slug_field()
    file = FileField(
        _l("Datei"),
        description=_l(
            "PDF, ODT, ODS, DOCX, XLSX, PNG, JPEG, TXT oder CSV, höchstens %(size)s MB. "
            "Eine neue Datei ersetzt die bisherige; die Internetadresse bleibt gleich.",
            size=20,
        ),
    )
    description = TextAreaField(_l("Kurzbeschreibung"), validators=[Length(max=1000)])
    body = _body_field()


class MoveForm(FlaskForm):
    parent = SelectField(_l("Neue übergeordnete Seite"), validators=[Optional()])


class ConfirmForm(FlaskForm):
    """A button that changes something (delete, restore, reorder); only the CSRF token."""


class ReorderForm(FlaskForm):
    direction = HiddenField(validators=[DataRequired()])


class WorkflowForm(FlaskForm):
    transition = HiddenField(validators=[DataRequired()])
    comment = TextAreaField(
        _l("Begründung für die Autorin oder den Autor"),
        description=_l("Nötig beim Zurückweisen: was muss sich ändern?"),
        validators=[Length(max=2000)],
    )


class PreviewForm(FlaskForm):
    """The live preview's request: the Markdown text to render."""

    body = TextAreaField(validators=[Length(max=TEXT_MAX)])
