"""WTForms of the commune and association administration screens.

Forms check what a form can check (required, length, format); the rules that need
the database or another field's meaning live in :mod:`app.staff.admin.services`,
whose :class:`~app.staff.admin.services.AdminError` names the field to mark.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, EqualTo, Length, NumberRange, Optional, ValidationError

from app.formspec.model import OFFICE_KINDS
from app.staff.models import ROLE_LABELS, Role
from app.staff.passwords import MAX_LENGTH

OFFICE_KIND_LABELS = {
    "buergeramt": _l("Bürgeramt"),
    "ordnungsamt": _l("Ordnungsamt"),
    "gewerbeamt": _l("Gewerbeamt"),
    "bauamt": _l("Bauamt"),
    "kaemmerei": _l("Kämmerei"),
    "standesamt": _l("Standesamt"),
    "kita": _l("Kita-Verwaltung"),
    "wahlamt": _l("Wahlamt"),
    "hauptamt": _l("Hauptamt"),
}


def office_kind_label(kind: str) -> str:
    """The German name of an office kind (the kind itself if it has none)."""
    return str(OFFICE_KIND_LABELS.get(kind, kind))


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


STRIP = [_strip]


# The contact details of communes and offices, asked for alike on several screens. Each call
# makes a new field, so a form lists them where it calls for them.


def _official_name_field(**options: Any) -> StringField:
    return StringField(
        _l("Amtlicher Name"),
        filters=STRIP,
        validators=[DataRequired(_l("Bitte geben Sie den amtlichen Namen an.")), Length(max=200)],
        **options,
    )


def _address_fields() -> tuple[StringField, StringField, StringField]:
    """Street and house number, postal code, town."""
    return (
        StringField(_l("Straße und Hausnummer"), filters=STRIP, validators=[Length(max=200)]),
        StringField(_l("Postleitzahl"), filters=STRIP, validators=[Length(max=10)]),
        StringField(_l("Ort"), filters=STRIP, validators=[Length(max=120)]),
    )


def _phone_field() -> StringField:
    return StringField(_l("Telefon"), filters=STRIP, validators=[Length(max=60)])


def _email_field() -> EmailField:
    return EmailField(_l("E-Mail-Adresse"), filters=STRIP, validators=[Length(max=254)])


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class SwitchForm(FlaskForm):
    """A button that switches something on (``active=1``) or off (``active=0``)."""

    active = HiddenField(validators=[AnyOf(["0", "1"])])


class ProfileForm(FlaskForm):
    official_name = _official_name_field(
        description=_l("So steht die Kommune in Bescheiden und im Impressum, z. B. „Stadt Werneuchen“."),
    )
    street, postal_code, town = _address_fields()
    phone = _phone_field()
    email = _email_field()
    website = StringField(_l("Website"), filters=STRIP, validators=[Length(max=254)])
    opening_hours = TextAreaField(
        _l("Öffnungszeiten des Rathauses"),
        description=_l("Eine Zeile je Tag; Markdown-Listen („- Montag: …“) sind möglich."),
        validators=[Length(max=4000)],
    )
    brand_colour = StringField(
        _l("Markenfarbe"),
        description=_l(
            "Als Hex-Wert, z. B. #1d4f91. Weiße Schrift muss darauf gut lesbar sein "
            "(Kontrast mindestens 4,5:1)."
        ),
        filters=STRIP,
        validators=[DataRequired(_l("Bitte geben Sie die Markenfarbe an.")), Length(max=7)],
    )
    editors_may_publish = BooleanField(_l("Redakteure dürfen direkt veröffentlichen"))
    require_two_factor = BooleanField(_l("Zwei-Faktor-Anmeldung für alle Beschäftigten verlangen"))
    leitweg_ids = TextAreaField(
        _l("Leitweg-IDs"),
        description=_l("Für elektronische Rechnungen; eine je Zeile, z. B. 12064000-0001-35."),
        validators=[Length(max=2000)],
    )


class CoatOfArmsForm(FlaskForm):
    coat_of_arms = FileField(
        _l("Wappen"),
        description=_l("PNG-, JPEG- oder WebP-Bild, höchstens 2 MB. SVG-Dateien werden nicht angenommen."),
    )


class OfficeForm(FlaskForm):
    name = StringField(
        _l("Name"),
        filters=STRIP,
        validators=[DataRequired(_l("Bitte geben Sie den Namen des Fachamts an.")), Length(max=200)],
    )
    slug = StringField(
        _l("Kürzel für die Adresse"),
        description=_l("Kleinbuchstaben, Ziffern und Bindestriche, z. B. buergeramt."),
        filters=STRIP,
        validators=[DataRequired(_l("Bitte geben Sie ein Kürzel an.")), Length(max=60)],
    )
    kind = SelectField(
        _l("Amtsart"),
        description=_l("Danach schlägt das Portal das Fachamt für die Dienste des Katalogs vor."),
        choices=[
            SelectChoice("", _l("– keine –")),
            *(SelectChoice(kind, OFFICE_KIND_LABELS.get(kind, kind)) for kind in OFFICE_KINDS),
        ],
    )
    email = _email_field()
    phone = _phone_field()
    room = StringField(_l("Raum"), filters=STRIP, validators=[Length(max=120)])
    opening_hours = TextAreaField(_l("Öffnungszeiten"), validators=[Length(max=4000)])
    active = BooleanField(_l("Fachamt ist aktiv"), default=True)


def role_choices(roles: list[Role]) -> list[SelectChoice]:
    """Select choices of ``roles`` with their German labels."""
    return [SelectChoice(role.value, str(ROLE_LABELS[role])) for role in roles]


class UserForm(FlaskForm):
    name = StringField(
        _l("Name"),
        filters=STRIP,
        validators=[DataRequired(_l("Bitte geben Sie den Namen an.")), Length(max=200)],
    )
    role = SelectField(_l("Rolle"), validators=[DataRequired(_l("Bitte wählen Sie eine Rolle."))])
    offices = SelectMultipleField(
        _l("Fachämter"),
        description=_l("Die Sachbearbeitung sieht nur die Anträge dieser Fachämter."),
        coerce=int,
    )


class InviteForm(UserForm):
    email = EmailField(
        _l("E-Mail-Adresse"),
        description=_l("An diese Adresse geht die Einladung mit dem Link zum Festlegen des Passworts."),
        filters=STRIP,
        validators=[DataRequired(_l("Bitte geben Sie die E-Mail-Adresse an.")), Length(max=254)],
    )


class SetPasswordForm(FlaskForm):
    new_password = PasswordField(
        _l("Neues Passwort"),
        description=_l(
            "Mindestens 12 Zeichen. Ein Satz aus mehreren Wörtern ist leicht zu merken und schwer zu erraten."
        ),
        validators=[DataRequired(_l("Bitte geben Sie ein Passwort ein.")), Length(max=MAX_LENGTH)],
    )
    confirm_password = PasswordField(
        _l("Passwort wiederholen"),
        validators=[
            DataRequired(_l("Bitte wiederholen Sie das Passwort.")),
            EqualTo("new_password", _l("Die beiden Passwörter stimmen nicht überein.")),
        ],
    )


class EuroField(StringField):
    """An amount in euros as Germans write it (``12,50``); its data is a Decimal or None."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.raw_text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if not self.raw_text:
            return
        text = self.raw_text.replace("€", "").replace(" ", "").replace(".", "").replace(",", ".")
        try:
            amount = Decimal(text)
        except InvalidOperation as exc:
            raise ValueError(str(_l("Bitte geben Sie einen Betrag in Euro an, z. B. 12,50."))) from exc
        if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
            raise ValueError(
                str(_l("Bitte geben Sie einen Betrag in Euro mit höchstens zwei Nachkommastellen an."))
            )
        self.data = amount

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return f"{self.data:.2f}".replace(".", ",") if self.data is not None else ""


def _office_id(value: object) -> int:
    """An office id from the form; 0 for "none chosen" and for anything that is no number."""
    try:
        return int(str(value))
    except ValueError:
        return 0


class ServiceForm(FlaskForm):
    enabled = BooleanField(_l("Dienst einschalten"))
    featured = BooleanField(_l("Auf der Startseite hervorheben"))
    office = SelectField(
        _l("Empfangendes Amt"),
        description=_l("Dieses Fachamt erhält die Anträge in seinen Posteingang."),
        coerce=_office_id,
        # Whether the office is one of the commune's active offices is the service layer's question.
        validate_choice=False,
    )
    deliver_by_email = BooleanField(_l("Anträge per E-Mail zustellen"))
    email_to = EmailField(
        _l("Empfangsadresse für E-Mails"),
        description=_l("Leer lassen, um die Adresse des Fachamts zu verwenden."),
        filters=STRIP,
        validators=[Length(max=254)],
    )
    webhook_url = StringField(
        _l("Webhook-Adresse"),
        description=_l("Leer lassen, wenn kein Fachverfahren per Webhook benachrichtigt werden soll."),
        filters=STRIP,
        validators=[Length(max=500)],
    )
    webhook_secret = PasswordField(
        _l("Webhook-Schlüssel"),
        description=_l(
            "Mit diesem Schlüssel wird jede Zustellung signiert (HMAC-SHA512). "
            "Leer lassen, um den gespeicherten Schlüssel zu behalten."
        ),
        validators=[Optional(), Length(min=16, max=200, message=_l("Der Schlüssel hat 16 bis 200 Zeichen."))],
    )
    retention_days = IntegerField(
        _l("Aufbewahrungsfrist in Tagen"),
        description=_l("Leer lassen für die Frist des Dienstes aus dem Katalog."),
        validators=[
            Optional(),
            NumberRange(
                min=1, max=3650, message=_l("Die Aufbewahrungsfrist liegt zwischen 1 und 3650 Tagen.")
            ),
        ],
    )
    fee_override = EuroField(
        _l("Eigene Grundgebühr in Euro"),
        description=_l("Leer lassen für die Gebühr aus dem Katalog."),
    )


class CommuneForm(FlaskForm):
    name = StringField(
        _l("Name"),
        description=_l("Wie die Kommune im Portal heißt, z. B. „Werneuchen“."),
        filters=STRIP,
        validators=[DataRequired(_l("Bitte geben Sie den Namen der Kommune an.")), Length(max=120)],
    )
    official_name = _official_name_field()
    short_code = StringField(
        _l("Kürzel für Vorgangsnummern"),
        description=_l("2 bis 6 Großbuchstaben, z. B. WER."),
        filters=[_strip, lambda v: v.upper() if isinstance(v, str) else v],
        validators=[DataRequired(_l("Bitte geben Sie das Kürzel an.")), Length(max=6)],
    )
    street, postal_code, town = _address_fields()
    email = _email_field()
    phone = _phone_field()


class NewCommuneForm(CommuneForm):
    slug = StringField(
        _l("Adresse im Portal"),
        description=_l(
            "Kleinbuchstaben, Ziffern und Bindestriche, z. B. werneuchen. Sie lässt sich später nicht ändern."
        ),
        filters=[_strip, lambda v: v.lower() if isinstance(v, str) else v],
        validators=[DataRequired(_l("Bitte geben Sie die Adresse an.")), Length(max=60)],
    )
    admin_name = StringField(
        _l("Name der ersten Administratorin oder des ersten Administrators"),
        filters=STRIP,
        validators=[DataRequired(_l("Bitte geben Sie den Namen an.")), Length(max=200)],
    )
    admin_email = EmailField(
        _l("E-Mail-Adresse der ersten Administration"),
        description=_l("An diese Adresse geht die Einladung zum Festlegen des Passworts."),
        filters=STRIP,
        validators=[DataRequired(_l("Bitte geben Sie die E-Mail-Adresse an.")), Length(max=254)],
    )


class UserFilterForm(FlaskForm):
    class Meta:
        csrf = False

    commune = SelectField(_l("Kommune"), validators=[Optional()])
    role = SelectField(_l("Rolle"), validators=[Optional()])


def add_error(form: FlaskForm, field_name: str | None, message: str) -> None:
    """Show ``message`` at ``field_name`` (or at the form's first field when it names none)."""
    field: Field | None = getattr(form, field_name, None) if field_name else None
    if field is None:
        field = next(iter(form))
        if field.name == "csrf_token":
            field = list(form)[1]
    field.errors = [*field.errors, message]


def no_script(form: FlaskForm, field: Field) -> None:
    """Refuse angle brackets: names are shown in many places, markup belongs in none."""
    if isinstance(field.data, str) and ("<" in field.data or ">" in field.data):
        raise ValidationError(_l("Bitte verwenden Sie keine spitzen Klammern (< >)."))
