"""Building the xdomea 3.0.0 hand-over message ``Abgabe.Abgabe.0401`` with lxml.

This module only turns a :class:`Handover` (plain data) into XML; which submissions and
files go into it is decided in :mod:`app.efile.package`. The mapping:

- ``Kopf``: a new process id (UUID), the time of creation, the commune (and office) as
  sender, the commune's document management as receiver, the portal as sending system;
  import confirmation (fixed by the schema) and receipt confirmation are asked for.
- One ``Schriftgutobjekt`` per submission: an ``Akte`` whose ``Betreff`` is the service
  title with the reference and whose ``Kennzeichen`` (file number) is the reference, with one
  ``Vorgang`` (same subject, running from the day the application came in) holding a
  ``Dokument`` per file: the application PDF, its data as JSON and every attachment.
- ``Dokument`` → ``Version`` 1 → ``Format`` → ``Primaerdokument``: ``Dateiname`` is the file's
  name in the ZIP (the schema requires it to start with a UUID), ``DateinameOriginal`` the
  name the citizen gave it; the format is a code of the xdomea code list "Dateiformat" 2.0
  (by file name extension; "Sonstiges" with the media type for others, such as JSON). The
  schema has no element for media type or checksum, so both (and the size) travel in the
  document's ``AnwendungsspezifischeErweiterung``.
- Every object is marked as electronic (code list "Medium" 1.0, code 001).

Every object has its own random UUID, so a repeated export is a new hand-over that the
receiving system can tell from the first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from uuid import UUID

from lxml import etree

NAMESPACE = "urn:xoev-de:xdomea:schema:3.0.0"
MESSAGE_TYPE = "0401"
MESSAGE_NAME = "Abgabe.Abgabe.0401"
MESSAGE_TYPE_LIST = "urn:xoev-de:xdomea:codeliste:nachrichtentyp"
MESSAGE_TYPE_LIST_VERSION = "2.0"
MEDIUM_LIST = "urn:xoev-de:xdomea:codeliste:medium"
MEDIUM_LIST_VERSION = "1.0"
#: Medium "Elektronisch": the object exists in electronic form only.
ELECTRONIC = "001"
FILE_FORMAT_LIST = "urn:xoev-de:xdomea:codeliste:dateiformat"
#: Version 2.0 (valid from 2021-10-01) of the xdomea code list "Dateiformat", the one
#: xdomea 3.0.0 messages use; its codes are numbers, one per file name extension.
FILE_FORMAT_LIST_VERSION = "2.0"
#: The code list's entry "Sonstiges" for formats it does not name; the media type then goes
#: into ``SonstigerName``.
OTHER_FORMAT = "100"
#: Code per file name extension, from the code list "Dateiformat" 2.0 (formats a citizen
#: uploads or the portal writes; the list's plain PDF, not PDF/A, as the portal does not
#: check conformance).
FILE_FORMATS = {
    "bmp": "001",
    "csv": "002",
    "doc": "003",
    "eml": "006",
    "htm": "007",
    "html": "008",
    "jpe": "009",
    "jpeg": "010",
    "jpg": "011",
    "msg": "012",
    "odp": "013",
    "ods": "014",
    "odt": "015",
    "pdf": "018",
    "png": "019",
    "ppt": "020",
    "ps": "021",
    "rtf": "022",
    "tif": "023",
    "tiff": "024",
    "xls": "028",
    "xml": "030",
    "docx": "035",
    "xlsx": "036",
    "pptx": "037",
    "txt": "045",
    "p7s": "049",
}
#: Identifies the portal's application-specific extension on each document.
EXTENSION_ID = "urn:kommunalportal:efile:datei:1"


@dataclass(frozen=True)
class Party:
    """A sender or receiver: the commune (institution) and optionally one of its units."""

    institution: str
    short_name: str = ""
    unit: str = ""
    responsibility: str = ""
    street: str = ""
    postal_code: str = ""
    town: str = ""
    email: str = ""


@dataclass(frozen=True)
class PrimaryDocument:
    """One file of a submission as the message describes it."""

    id: UUID
    title: str
    kind: str
    file_name: str
    original_name: str
    media_type: str
    sha256: str
    size: int
    created_at: datetime
    received_on: date
    format_version: str = ""

    @property
    def format_code(self) -> str:
        """The code of the file's format in the code list "Dateiformat" (by its extension)."""
        extension = self.file_name.rpartition(".")[2].lower() if "." in self.file_name else ""
        return FILE_FORMATS.get(extension, OTHER_FORMAT)


@dataclass(frozen=True)
class Record:
    """One submission as a file (``Akte``) with one case (``Vorgang``) and its documents."""

    file_id: UUID
    case_id: UUID
    subject: str
    reference: str
    received_on: date
    documents: Sequence[PrimaryDocument]
    remark: str = ""


@dataclass(frozen=True)
class Handover:
    """Everything the message ``Abgabe.Abgabe.0401`` says."""

    process_id: UUID
    created_at: datetime
    sender: Party
    receiver: Party
    records: Sequence[Record]
    product: str = "Kommunalportal"
    product_version: str = ""
    instance: str = ""
    note: str = ""
    receipt_confirmation: bool = True


def _q(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def _add(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, _q(name))
    if text is not None:
        element.text = text
    return element


def _code(
    parent: etree._Element, name: str, code: str, list_uri: str, list_version: str, label: str = ""
) -> None:
    element = _add(parent, name)
    element.set("listURI", list_uri)
    element.set("listVersionID", list_version)
    # The XÖV code elements are unqualified (form="unqualified" in xoev-code.xsd).
    etree.SubElement(element, "code").text = code
    if label:
        etree.SubElement(element, "name").text = label


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _party(parent: etree._Element, name: str, party: Party) -> None:
    contact = _add(parent, name)
    institution = _add(contact, "Institution")
    _add(institution, "Name", party.institution)
    if party.short_name:
        _add(institution, "Kurzbezeichnung", party.short_name)
    if party.unit:
        _add(_add(contact, "Organisationseinheit"), "Name", party.unit)
    if party.responsibility:
        _add(contact, "Zustaendigkeit", party.responsibility)
    if party.street or party.postal_code or party.town:
        address = _add(contact, "Anschrift")
        for element, value in (
            ("Strasse", party.street),
            ("Postleitzahl", party.postal_code),
            ("Ort", party.town),
        ):
            if value:
                _add(address, element, value)
    if party.email:
        _add(_add(contact, "Kommunikation"), "Kennung", party.email)


def _head(root: etree._Element, handover: Handover) -> None:
    head = _add(root, "Kopf")
    _add(head, "ProzessID", str(handover.process_id))
    _code(head, "Nachrichtentyp", MESSAGE_TYPE, MESSAGE_TYPE_LIST, MESSAGE_TYPE_LIST_VERSION, "Abgabe.Abgabe")
    _add(head, "Erstellungszeitpunkt", _timestamp(handover.created_at))
    _party(head, "Absender", handover.sender)
    _party(head, "Empfaenger", handover.receiver)
    system = _add(head, "SendendesSystem")
    if handover.instance:
        _add(system, "InstanzID", handover.instance)
    _add(system, "Produktname", handover.product)
    if handover.product_version:
        _add(system, "Version", handover.product_version)
    if handover.note:
        _add(head, "Hinweis", handover.note)
    # xdomea fixes Importbestaetigung to 1 (always asked for) and writes booleans as 0/1.
    _add(head, "Importbestaetigung", "1")
    _add(head, "Empfangsbestaetigung", "1" if handover.receipt_confirmation else "0")


def _identification(parent: etree._Element, object_id: UUID, position: int | None = None) -> None:
    identification = _add(parent, "Identifikation")
    _add(identification, "ID", str(object_id))
    if position is not None:
        _add(identification, "NummerImUebergeordnetenContainer", str(position))


def _metadata(parent: etree._Element, subject: str, reference: str = "", remark: str = "") -> None:
    metadata = _add(parent, "AllgemeineMetadaten")
    _add(metadata, "Betreff", subject)
    if reference:
        _add(metadata, "Kennzeichen", reference)
    if remark:
        _add(metadata, "Bemerkung", remark)
    _code(metadata, "Medium", ELECTRONIC, MEDIUM_LIST, MEDIUM_LIST_VERSION)


def _extension_field(parent: etree._Element, name: str, description: str, value: str) -> None:
    element = _add(parent, "Feld")
    _add(element, "Name", name)
    _add(element, "Beschreibung", description)
    _add(element, "Wert", value)


def _document(parent: etree._Element, document: PrimaryDocument, position: int) -> None:
    element = _add(parent, "Dokument")
    _identification(element, document.id, position)
    _metadata(element, document.title)
    _add(element, "Posteingangsdatum", document.received_on.isoformat())
    _add(element, "Typ", document.kind)
    version = _add(element, "Version")
    _add(version, "Nummer", "1")
    file_format = _add(version, "Format")
    _code(file_format, "Name", document.format_code, FILE_FORMAT_LIST, FILE_FORMAT_LIST_VERSION)
    if document.format_code == OTHER_FORMAT:
        _add(file_format, "SonstigerName", document.media_type)
    _add(file_format, "Version", document.format_version)
    primary = _add(file_format, "Primaerdokument")
    _add(primary, "Dateiname", document.file_name)
    _add(primary, "DateinameOriginal", document.original_name)
    _add(primary, "DatumUhrzeit", _timestamp(document.created_at))
    extension = _add(element, "AnwendungsspezifischeErweiterung")
    _add(extension, "Kennung", EXTENSION_ID)
    _add(extension, "Name", "Kommunalportal: Datei")
    _add(extension, "Beschreibung", "Medientyp, Prüfsumme und Größe der Primärdatei")
    _extension_field(extension, "MIME-Typ", "Medientyp der Primärdatei (RFC 6838)", document.media_type)
    _extension_field(extension, "SHA-256", "SHA-256-Prüfsumme der Primärdatei, hexadezimal", document.sha256)
    _extension_field(extension, "Groesse", "Größe der Primärdatei in Byte", str(document.size))


def _record(parent: etree._Element, record: Record) -> None:
    record_file = _add(_add(parent, "Schriftgutobjekt"), "Akte")
    _identification(record_file, record.file_id)
    _metadata(record_file, record.subject, record.reference, record.remark)
    _add(_add(record_file, "Laufzeit"), "Beginn", record.received_on.isoformat())
    case = _add(_add(record_file, "Akteninhalt"), "Vorgang")
    _identification(case, record.case_id, 1)
    _metadata(case, record.subject, record.reference)
    _add(_add(case, "Laufzeit"), "Beginn", record.received_on.isoformat())
    for position, document in enumerate(record.documents, start=1):
        _document(case, document, position)


def build_message(handover: Handover) -> bytes:
    """The ``Abgabe.Abgabe.0401`` message of ``handover`` as UTF-8 XML with declaration."""
    root = etree.Element(_q(MESSAGE_NAME), nsmap={"xdomea": NAMESPACE})
    _head(root, handover)
    for record in handover.records:
        _record(root, record)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def message_file_name(process_id: UUID) -> str:
    """The message's file name by xdomea's convention: ``<ProzessID>_Abgabe.Abgabe.0401.xml``."""
    return f"{process_id}_{MESSAGE_NAME}.xml"


def package_file_name(process_id: UUID) -> str:
    """The package's file name by xdomea's convention: ``<ProzessID>_Abgabe.Abgabe.0401.zip``."""
    return f"{process_id}_{MESSAGE_NAME}.zip"
