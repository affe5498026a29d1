"""The form for creating an API client in the staff workspace; choices are set by the view."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.api.services import MAX_NAME_LENGTH


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class ApiClientForm(FlaskForm):
    name = StringField(
        _l("Name"),
        description=_l("Woran Sie den Client wiedererkennen, z. B. „Fachverfahren Gewerbe“."),
        filters=[_strip],
        validators=[
            DataRequired(_l("Bitte geben Sie einen Namen an.")),
            Length(max=MAX_NAME_LENGTH, message=_l("Der Name ist zu lang.")),
        ],
    )
    offices = SelectMultipleField(
        _l("Nur Anträge dieser Fachämter"),
        description=_l("Keine Auswahl: Anträge aller Fachämter der Kommune."),
        coerce=int,
        validate_choice=True,
    )
    services = SelectMultipleField(
        _l("Nur Anträge dieser Leistungen"),
        description=_l("Keine Auswahl: Anträge aller Leistungen."),
        validate_choice=True,
    )
    expires_on = DateField(
        _l("Gültig bis einschließlich"),
        description=_l("Leer lassen, wenn das Token nicht ablaufen soll."),
        validators=[Optional()],
    )


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""
