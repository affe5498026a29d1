"""The shipped catalogue: complete, lint-free, realistic."""

from __future__ import annotations

from app.formspec import FieldType, load_catalogue
from app.formspec.model import OFFICE_KINDS

from .builders import FORMS_DIR

REQUIRED_SERVICES = {
    "meldebescheinigung",
    "hund-anmelden",
    "hund-abmelden",
    "gewerbeanmeldung",
    "gewerbeabmeldung",
    "sondernutzungserlaubnis",
    "akteneinsicht",
    "personenstandsurkunde",
    "maengelmelder",
    "veranstaltungsanzeige",
    "kita-anmeldung",
    "fundsache-verlustanzeige",
    "baumfaellgenehmigung",
    "briefwahl",
    "kontakt",
    "e-rechnung",
}


def test_every_shipped_definition_loads_without_errors() -> None:
    catalogue = load_catalogue(FORMS_DIR)
    assert [str(error) for error in catalogue.errors] == []
    assert set(catalogue.services) >= REQUIRED_SERVICES


def test_every_online_form_ends_with_the_privacy_consent() -> None:
    for service in load_catalogue(FORMS_DIR).services.values():
        if service.form is None:
            continue
        last = list(service.form.fields())[-1]
        assert last.type is FieldType.CONSENT, service.slug


def test_e_rechnung_is_information_only() -> None:
    service = load_catalogue(FORMS_DIR).get("e-rechnung")
    assert service.online is False and service.form is None
    assert "Leitweg-ID" in service.description


def test_services_use_known_office_kinds_and_have_legal_bases() -> None:
    for service in load_catalogue(FORMS_DIR).services.values():
        assert service.office_kind in OFFICE_KINDS
        if service.slug != "kontakt":
            assert service.legal_basis, service.slug


def test_gewerbeanmeldung_asks_the_gewa1_questions_over_several_steps() -> None:
    service = load_catalogue(FORMS_DIR).get("gewerbeanmeldung")
    assert len(service.form.steps) >= 4
    names = {field.name for field in service.form.fields()}
    assert {"betriebsart", "rechtsform", "geburtsdatum", "betriebsanschrift", "taetigkeit", "beginn"} <= names


def test_dog_registration_asks_for_a_sepa_mandate_with_iban() -> None:
    service = load_catalogue(FORMS_DIR).get("hund-anmelden")
    iban = service.form.field("iban")
    assert iban.type is FieldType.IBAN
    assert service.form.field("sepa_mandat").required
