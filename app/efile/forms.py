"""WTForms of the e-file page: the export button and the inspection grant."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import EmailField, IntegerField, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Regexp

from app.efile.inspection import DEFAULT_DAYS, MAX_DAYS, MIN_DAYS
from app.staff.services import EMAIL_PATTERN


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class ActionForm(FlaskForm):
    """The CSRF token of the buttons that post nothing else (export, revoke)."""


class GrantForm(FlaskForm):
    """Grant the applicant a download page of chosen documents. Choices are set by the view."""

    recipient = EmailField(
        _l("E-Mail-Adresse der Antragstellerin oder des Antragstellers"),
        description=_l("An diese Adresse geht der Link zur Download-Seite."),
        filters=[_strip],
        validators=[
            DataRequired(_l("Bitte geben Sie die E-Mail-Adresse an.")),
            Length(max=254, message=_l("Die E-Mail-Adresse darf höchstens 254 Zeichen lang sein.")),
            Regexp(EMAIL_PATTERN, message=_l("Bitte geben Sie eine gültige E-Mail-Adresse an.")),
        ],
    )
    documents = SelectMultipleField(
        _l("Dokumente aus dem Antrag"),
        description=_l("Wählen Sie die Dokumente, in die Einsicht gewährt wird."),
        validate_choice=True,
    )
    upload = FileField(
        _l("Weiteres Dokument hochladen"),
        description=_l("Zum Beispiel ein Dokument aus der Akte, das nicht Teil des Antrags ist."),
    )
    days = IntegerField(
        _l("Gültig für (Tage)"),
        description=_l("Zwischen %(low)d und %(high)d Tagen.", low=MIN_DAYS, high=MAX_DAYS),
        default=DEFAULT_DAYS,
        validators=[
            InputRequired(_l("Bitte geben Sie an, wie viele Tage der Link gilt.")),
            NumberRange(
                min=MIN_DAYS,
                max=MAX_DAYS,
                message=_l("Die Frist muss zwischen %(min)s und %(max)s Tagen liegen."),
            ),
        ],
    )
    message = TextAreaField(
        _l("Nachricht an die Antragstellerin oder den Antragsteller"),
        filters=[_strip],
        validators=[Length(max=2000, message=_l("Die Nachricht darf höchstens 2000 Zeichen lang sein."))],
    )
