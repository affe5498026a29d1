"""The upload form of the e-invoice service."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, EmailField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from app.einvoice.services import CONSENT_LABEL
from app.staff.services import EMAIL_PATTERN


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class InvoiceUploadForm(FlaskForm):
    """One invoice file and, optionally, where the receipt goes."""

    invoice = FileField(
        _l("Rechnungsdatei"),
        description=_l(
            "XRechnung als XML-Datei (UBL oder CII) oder ZUGFeRD-/Factur-X-Rechnung als PDF, "
            "höchstens 20 MB."
        ),
        validators=[FileRequired(_l("Bitte wählen Sie die Rechnungsdatei aus."))],
    )
    email = EmailField(
        _l("E-Mail-Adresse für die Eingangsbestätigung (optional)"),
        description=_l("An diese Adresse senden wir das Aktenzeichen und die Lesefassung der Rechnung."),
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=254, message=_l("Die E-Mail-Adresse darf höchstens 254 Zeichen lang sein.")),
            Regexp(EMAIL_PATTERN, message=_l("Bitte geben Sie eine gültige E-Mail-Adresse an.")),
        ],
    )
    consent = BooleanField(
        _l(CONSENT_LABEL),
        validators=[
            DataRequired(
                _l("Bitte bestätigen Sie, dass Sie die Datenschutzhinweise zur Kenntnis genommen haben.")
            )
        ],
    )
