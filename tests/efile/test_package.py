"""The xdomea package: the message validates against the published xdomea 3.0.0 schema, the ZIP
holds exactly the files the message references (names by xdomea's convention, checksums matching),
and submissions without a PDF are refused."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime

import pytest
from lxml import etree
from submission_builders import FAKE_PDF, Place, inbox_answers, make_submission, with_file

from app.efile import validation
from app.efile.package import ExportRefused, build_package
from app.formspec import ServiceSpec
from app.storage import blob_store

from .builders import HAVE_STANDARDS, NS, STANDARDS, assert_valid, read_zip

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _texts(root: etree._Element, path: str) -> list[str]:
    return [element.text or "" for element in root.xpath(path, namespaces=NS)]


def test_one_submission_with_attachment_validates_and_zip_holds_exactly_the_referenced_files(
    service: ServiceSpec, place: Place
) -> None:
    values = with_file(inbox_answers(), b"%PDF-1.4 nachweis", "../../Ausweis (1).pdf")
    submission = make_submission(service, place.commune, place.office, values)
    package = build_package(place.commune, [submission])
    files = read_zip(package.zip_bytes())

    process_id = str(package.process_id)
    assert re.fullmatch(UUID, process_id)
    assert package.file_name == f"{process_id}_Abgabe.Abgabe.0401.zip"
    message_name = f"{process_id}_Abgabe.Abgabe.0401.xml"
    assert next(iter(files)) == message_name
    root = assert_valid(files[message_name])
    assert etree.QName(root).localname == "Abgabe.Abgabe.0401"
    assert _texts(root, "x:Kopf/x:ProzessID") == [process_id]
    assert _texts(root, "x:Kopf/x:Nachrichtentyp/code") == ["0401"]
    assert _texts(root, "x:Kopf/x:Absender/x:Institution/x:Name") == [place.commune.official_name]
    assert _texts(root, "x:Kopf/x:Absender/x:Organisationseinheit/x:Name") == [place.office.name]
    assert _texts(root, "x:Kopf/x:SendendesSystem/x:Produktname") == ["Kommunalportal"]

    akte = root.xpath("x:Schriftgutobjekt/x:Akte", namespaces=NS)[0]
    assert _texts(akte, "x:AllgemeineMetadaten/x:Kennzeichen") == [submission.reference]
    subject = f"Hundesteuer anmelden – {submission.reference}"
    assert _texts(akte, "x:AllgemeineMetadaten/x:Betreff") == [subject]
    documents = akte.xpath("x:Akteninhalt/x:Vorgang/x:Dokument", namespaces=NS)
    assert _texts(akte, "x:Akteninhalt/x:Vorgang/x:Dokument/x:Typ") == ["Antrag", "Antragsdaten", "Anlage"]
    ids = _texts(root, "//x:Identifikation/x:ID")
    assert len(ids) == len(set(ids)) == 5 and all(re.fullmatch(UUID, value) for value in ids)

    referenced = {}
    for document in documents:
        name = _texts(document, "x:Version/x:Format/x:Primaerdokument/x:Dateiname")[0]
        fields = dict(
            zip(
                _texts(document, "x:AnwendungsspezifischeErweiterung/x:Feld/x:Name"),
                _texts(document, "x:AnwendungsspezifischeErweiterung/x:Feld/x:Wert"),
                strict=True,
            )
        )
        referenced[name] = fields
        document_id = _texts(document, "x:Identifikation/x:ID")[0]
        assert name.startswith(f"{document_id}_")
    assert set(files) == {message_name, *referenced}
    for name, fields in referenced.items():
        assert fields["SHA-256"] == hashlib.sha256(files[name]).hexdigest()
        assert fields["Groesse"] == str(len(files[name]))

    originals = _texts(akte, "//x:Primaerdokument/x:DateinameOriginal")
    assert originals == [f"{submission.reference}.pdf", "data.json", "Ausweis (1).pdf"]
    by_original = dict(zip(originals, referenced, strict=True))
    assert files[by_original[f"{submission.reference}.pdf"]] == FAKE_PDF
    assert json.loads(files[by_original["data.json"]]) == submission.answers
    assert by_original["Ausweis (1).pdf"].endswith("_Ausweis_1.pdf")
    assert files[by_original["Ausweis (1).pdf"]] == b"%PDF-1.4 nachweis"
    assert referenced[by_original["Ausweis (1).pdf"]]["SHA-256"] == submission.attachments[0].sha256
    # Code list "Dateiformat" 2.0: 018 is PDF, 100 "Sonstiges" (JSON is not on the list).
    assert _texts(akte, "//x:Format/x:Name/code") == ["018", "100", "018"]
    assert _texts(akte, "//x:Format/x:SonstigerName") == ["application/json"]


def test_selection_of_several_is_one_message_with_one_file_per_submission(
    service: ServiceSpec, place: Place
) -> None:
    first = make_submission(
        service, place.commune, place.office, with_file(inbox_answers(), filename="Foto.png")
    )
    second = make_submission(
        service, place.commune, place.other_office, submitted_at=datetime(2026, 7, 2, 22, 30, tzinfo=UTC)
    )
    package = build_package(place.commune, [first, second])
    files = read_zip(package.zip_bytes())
    root = assert_valid(files[package.message_name])
    assert _texts(root, "x:Schriftgutobjekt/x:Akte/x:AllgemeineMetadaten/x:Kennzeichen") == [
        first.reference,
        second.reference,
    ]
    # Two offices: the sender is the commune without a single office.
    assert _texts(root, "x:Kopf/x:Absender/x:Organisationseinheit/x:Name") == []
    # Received 22:30 UTC on 2 July is 3 July in Berlin.
    assert _texts(root, "x:Schriftgutobjekt[2]/x:Akte/x:Laufzeit/x:Beginn") == ["2026-07-03"]
    names = _texts(root, "//x:Primaerdokument/x:Dateiname")
    assert len(names) == 5 and set(files) == {package.message_name, *names}


def test_a_submission_without_pdf_is_refused_with_its_reference(service: ServiceSpec, place: Place) -> None:
    ready = make_submission(service, place.commune, place.office)
    waiting = make_submission(service, place.commune, place.office, pdf=None)
    with pytest.raises(ExportRefused) as refused:
        build_package(place.commune, [ready, waiting])
    assert refused.value.references == [waiting.reference]
    assert "PDF" in refused.value.reason


def test_an_empty_selection_and_a_foreign_submission_are_refused(
    service: ServiceSpec, place: Place, foreign: Place
) -> None:
    with pytest.raises(ExportRefused):
        build_package(place.commune, [])
    other = make_submission(service, foreign.commune, foreign.office)
    with pytest.raises(ExportRefused):
        build_package(place.commune, [other])


@pytest.mark.skipif(not HAVE_STANDARDS, reason="the shared standards folder is not beside the checkout")
def test_shipped_schema_is_the_published_one_byte_for_byte() -> None:
    """The product validates with its own copy; it must not drift from the association's."""
    published = sorted(path.relative_to(STANDARDS) for path in STANDARDS.rglob("*.xsd"))
    shipped_root = validation.SCHEMA_ROOT
    shipped = sorted(path.relative_to(shipped_root) for path in shipped_root.rglob("*.xsd"))
    assert shipped == published
    for relative in published:
        assert (shipped_root / relative).read_bytes() == (STANDARDS / relative).read_bytes(), relative


def test_schema_errors_name_the_line_and_the_problem() -> None:
    broken = (
        b'<?xml version="1.0"?>\n<x:Abgabe.Abgabe.0401 xmlns:x="urn:xoev-de:xdomea:schema:3.0.0">\n'
        b"<x:Kopf><x:ProzessID>not-a-uuid</x:ProzessID></x:Kopf></x:Abgabe.Abgabe.0401>"
    )
    errors = validation.schema_errors(broken)
    assert errors and errors[0].startswith("line 3:") and "ProzessID" in errors[0]
    assert validation.schema_errors(b"<unclosed") != []
    with pytest.raises(validation.InvalidMessage):
        validation.validate(broken)


def test_schema_is_compiled_once_per_process() -> None:
    assert validation.xdomea_schema() is validation.xdomea_schema()


def test_a_missing_or_changed_stored_file_is_refused(service: ServiceSpec, place: Place) -> None:
    """The DMS keeps what it gets as the record: a file that no longer matches its hash stays out."""
    changed = make_submission(service, place.commune, place.office, with_file(inbox_answers()))
    path = blob_store().path(changed.attachments[0].storage_key or "")
    path.chmod(0o644)
    path.write_bytes(b"changed on disk")
    with pytest.raises(ExportRefused) as refused:
        build_package(place.commune, [changed])
    assert refused.value.references == [changed.reference]

    missing = make_submission(service, place.commune, place.office, pdf=b"%PDF-1.7 only this one")
    blob_store().delete(missing.pdf_key or "")
    with pytest.raises(ExportRefused) as refused:
        build_package(place.commune, [missing])
    assert refused.value.references == [missing.reference]


def test_attachments_of_the_same_name_get_unique_names_in_the_package(
    service: ServiceSpec, place: Place
) -> None:
    first = make_submission(
        service, place.commune, place.office, with_file(inbox_answers(), filename="Scan.png")
    )
    second = make_submission(
        service, place.commune, place.office, with_file(inbox_answers(), filename="Scan.png")
    )
    package = build_package(place.commune, [first, second])
    names = [item.name for item in package.files]
    assert len(names) == len(set(names)) == 6
    assert sum(name.endswith("_Scan.png") for name in names) == 2
