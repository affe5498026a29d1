"""WTForms of the inbox: the filter bar (GET, no CSRF token) and the workflow forms (POST)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SearchField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import HiddenInput

from app.staff.inbox.services import MAX_TEXT_LENGTH, STATUS_LABELS, SortOrder, status_label
from app.submissions.models import SubmissionStatus

#: Assignee filter values besides a user's id.
ASSIGNED_TO_ME = "me"
UNASSIGNED = "none"


class InboxFilterForm(FlaskForm):
    """The inbox's filters, read from the query string. Choices are set by the view."""

    class Meta:
        csrf = False

    q = SearchField(
        _l("Suche"),
        description=_l("Aktenzeichen, Name, E-Mail-Adresse oder ein Wort aus den Angaben"),
        validators=[Optional(), Length(max=200)],
    )
    status = SelectField(_l("Status"), validators=[Optional()])
    service = SelectField(_l("Leistung"), validators=[Optional()])
    office = SelectField(_l("Fachamt"), validators=[Optional()])
    assignee = SelectField(_l("Zuständig"), validators=[Optional()])
    since = DateField(_l("Eingegangen ab"), validators=[Optional()])
    until = DateField(_l("Eingegangen bis"), validators=[Optional()])
    sort = SelectField(
        _l("Sortierung"),
        choices=[SelectChoice(order.value, order.label) for order in SortOrder],
        default=SortOrder.NEWEST.value,
        validators=[Optional()],
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = [
            SelectChoice("", _l("Alle")),
            *(SelectChoice(s.value, label) for s, label in STATUS_LABELS.items()),
        ]

    def validate_until(self, field: DateField) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("Das Ende des Zeitraums liegt vor seinem Anfang."))


class VersionedForm(FlaskForm):
    """A form that changes the submission: it carries the version the clerk saw."""

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class StatusForm(VersionedForm):
    """Change the status, optionally (for rejections and waiting: necessarily) with a message."""

    status = SelectField(
        _l("Neuer Status"),
        choices=[SelectChoice(s.value, status_label(s)) for s in SubmissionStatus],
        validators=[DataRequired(_l("Bitte wählen Sie den neuen Status."))],
    )
    message = TextAreaField(
        _l("Nachricht an die antragstellende Person"),
        description=_l(
            "Erscheint auf der Statusseite und wird per E-Mail versandt. Bei einer Ablehnung "
            "(Grund) und bei „Wartet auf Rückmeldung“ (was fehlt) ist sie nötig."
        ),
        validators=[Length(max=MAX_TEXT_LENGTH)],
    )


class AssignForm(VersionedForm):
    """Assign the submission to a colleague (or to nobody)."""

    assignee = SelectField(_l("Zuweisen an"), validators=[DataRequired(_l("Bitte wählen Sie eine Person."))])


class NoteForm(FlaskForm):
    """An internal note."""

    note = TextAreaField(
        _l("Interne Notiz"),
        description=_l("Nur für die Verwaltung sichtbar."),
        validators=[DataRequired(_l("Bitte schreiben Sie eine Notiz.")), Length(max=MAX_TEXT_LENGTH)],
    )


class MessageForm(FlaskForm):
    """A message to the citizen without a status change."""

    message = TextAreaField(
        _l("Nachricht an die antragstellende Person"),
        description=_l("Erscheint auf der Statusseite und wird per E-Mail versandt."),
        validators=[DataRequired(_l("Bitte schreiben Sie eine Nachricht.")), Length(max=MAX_TEXT_LENGTH)],
    )


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token (retrying a delivery)."""
