"""WTForms of the login, account and audit screens."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from app.staff.models import AuditAction
from app.staff.passwords import MAX_LENGTH


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-Mail-Adresse"),
        validators=[DataRequired(_l("Bitte geben Sie Ihre E-Mail-Adresse ein.")), Length(max=254)],
    )
    password = PasswordField(
        _l("Passwort"),
        validators=[DataRequired(_l("Bitte geben Sie Ihr Passwort ein.")), Length(max=MAX_LENGTH)],
    )
    next = HiddenField()


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code"),
        description=_l(
            "Der sechsstellige Code aus Ihrer Authenticator-App – oder einer Ihrer Wiederherstellungscodes."
        ),
        validators=[DataRequired(_l("Bitte geben Sie den Code ein.")), Length(max=40)],
    )


class ConfirmTwoFactorForm(FlaskForm):
    code = StringField(
        _l("Code aus der App"),
        description=_l("Der sechsstellige Code, den Ihre App jetzt anzeigt."),
        validators=[DataRequired(_l("Bitte geben Sie den Code aus Ihrer App ein.")), Length(max=12)],
    )


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        _l("Bisheriges Passwort"),
        validators=[DataRequired(_l("Bitte geben Sie Ihr bisheriges Passwort ein.")), Length(max=MAX_LENGTH)],
    )
    new_password = PasswordField(
        _l("Neues Passwort"),
        description=_l(
            "Mindestens 12 Zeichen. Ein Satz aus mehreren Wörtern ist leicht zu merken und schwer zu erraten."
        ),
        validators=[DataRequired(_l("Bitte geben Sie ein neues Passwort ein.")), Length(max=MAX_LENGTH)],
    )
    confirm_password = PasswordField(
        _l("Neues Passwort wiederholen"),
        validators=[
            DataRequired(_l("Bitte wiederholen Sie das neue Passwort.")),
            EqualTo("new_password", _l("Die beiden neuen Passwörter stimmen nicht überein.")),
        ],
    )


class PasswordConfirmForm(FlaskForm):
    """Asks for the password again before a sensitive change."""

    password = PasswordField(
        _l("Ihr Passwort"),
        validators=[DataRequired(_l("Bitte geben Sie Ihr Passwort ein.")), Length(max=MAX_LENGTH)],
    )


class AuditFilterForm(FlaskForm):
    """The audit view's filters; sent with GET, so without a CSRF token."""

    class Meta:
        csrf = False

    action = SelectField(_l("Aktion"), validators=[Optional()])
    actor = StringField(
        _l("Benutzer (E-Mail-Adresse oder ihr Anfang)"), validators=[Optional(), Length(max=254)]
    )
    since = DateField(_l("Von (Datum)"), validators=[Optional()])
    until = DateField(_l("Bis (Datum)"), validators=[Optional()])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.action.choices = [
            ("", str(_l("Alle Aktionen"))),
            *sorted(((action.value, action.label) for action in AuditAction), key=lambda choice: choice[1]),
        ]
