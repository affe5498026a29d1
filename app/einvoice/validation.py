"""Validating an electronic invoice as KoSIT's official validator does, in Python.

The checks and their order follow ``scenarios.xml`` of the shipped validator configuration
(``resources/xrechnung-3.0.2``, unchanged):

1. well-formed XML, read with a secure parser (no network, no entity expansion; a document
   type declaration is refused outright, since an invoice never needs one and it is what
   XXE and "billion laughs" attacks ride on);
2. the scenario whose ``match`` expression (XPath 2, evaluated by Saxon) fits the document —
   XRechnung 3.0 (standard, extension, CVD) or plain EN 16931, as UBL Invoice, UBL
   CreditNote or CII; a document that fits none is refused;
3. the XML Schema of its syntax (lxml, the shipped UBL 2.1 / CII D16B XSDs); when it fails,
   the Schematron checks are not run (they presuppose the structure);
4. each Schematron of the scenario (compiled XSLT 2.0 run by saxonche; the SVRL output is
   read: ``failed-assert`` and ``successful-report`` with flag ``fatal``/``error`` or none are
   errors, ``warning`` and ``information`` are not; the scenario's ``customLevel`` overrides
   apply);
5. on top, when the caller names Leitweg-IDs: the buyer reference (BT-10) must be one of them.

Compiling the stylesheets takes seconds, so each XSD and XSLT is compiled once per process, on
first use, and kept; validating one invoice afterwards takes milliseconds. One Saxon processor
serves the process; SaxonC objects are not safe to share between threads, so its use is
serialised by a lock (a transform takes milliseconds, so the queue stays short).
"""

from __future__ import annotations

import enum
import logging
import re
import threading
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from lxml import etree
from stdnum.de import leitweg

log = logging.getLogger(__name__)

#: The shipped KoSIT validator configuration (Apache License 2.0, see NOTICE.md there).
CONFIGURATION_DIR = Path(__file__).resolve().parent / "resources" / "xrechnung-3.0.2"
SCENARIOS_NS = "http://www.xoev.de/de/validator/framework/1/scenarios"
SVRL_NS = "http://purl.oclc.org/dsdl/svrl"
UBL_INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CII_NS = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
UBL_CBC_NS = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CII_RAM_NS = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
#: At most this many findings are reported; a broken generator can produce thousands.
MAX_FINDINGS = 200
#: Rule ids of the portal's own checks (not in the official rule sets).
RULE_XML = "XML"
RULE_XSD = "XSD"
RULE_SCENARIO = "SCENARIO"
RULE_LEITWEG = "BT-10-LEITWEG"


class Syntax(enum.StrEnum):
    """The XML syntax of an invoice (EN 16931 allows these two, UBL in two document types)."""

    UBL_INVOICE = "ubl-invoice"
    UBL_CREDIT_NOTE = "ubl-creditnote"
    CII = "cii"


class Severity(enum.StrEnum):
    """How much a finding weighs: errors refuse the invoice, the rest are shown only."""

    ERROR = "error"
    WARNING = "warning"
    INFORMATION = "information"


class Stage(enum.StrEnum):
    """Which check produced a finding."""

    XML = "xml"
    SCENARIO = "scenario"
    SCHEMA = "schema"
    SCHEMATRON = "schematron"
    LEITWEG = "leitweg"


@dataclass(frozen=True)
class Finding:
    """One problem in an invoice: the rule, its text, and where in the document."""

    severity: Severity
    stage: Stage
    rule: str
    text: str
    #: A readable path such as ``/Invoice/AccountingSupplierParty/Party``; empty if unknown.
    location: str = ""
    line: int | None = None
    #: Which rule set the rule belongs to (the scenario's resource name), for the report.
    source: str = ""


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of validating one document: what it is and everything found in it."""

    syntax: Syntax | None
    scenario: str
    findings: tuple[Finding, ...]
    buyer_reference: str = ""
    truncated: bool = False

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is not Severity.ERROR]

    @property
    def valid(self) -> bool:
        """Whether the invoice may be accepted: no error at all."""
        return not self.errors

    def rules(self, severity: Severity | None = Severity.ERROR) -> set[str]:
        """The rule ids of the findings (of one severity; None: all)."""
        return {f.rule for f in self.findings if severity is None or f.severity is severity}


@dataclass(frozen=True)
class Scenario:
    """One scenario of ``scenarios.xml``: when it applies and which checks it runs."""

    name: str
    match: str
    namespaces: dict[str, str]
    schema: str
    schema_name: str
    schematrons: tuple[tuple[str, str], ...]
    custom_levels: dict[str, Severity] = field(default_factory=dict)


def secure_parser() -> etree.XMLParser:
    """An lxml parser that never fetches anything and never expands entities."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


class InvoiceDocumentError(ValueError):
    """The bytes are not an XML document the validator can read; carries the finding."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.text)
        self.finding = finding


def parse_invoice_xml(data: bytes) -> etree._ElementTree:
    """The document tree of ``data``, read securely; raises :class:`InvoiceDocumentError`."""
    try:
        tree = etree.ElementTree(etree.fromstring(data, secure_parser()))
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno and exc.lineno > 0 else None
        raise InvoiceDocumentError(
            Finding(
                Severity.ERROR,
                Stage.XML,
                RULE_XML,
                _("Die Datei ist kein wohlgeformtes XML: %(problem)s", problem=exc.msg),
                line=line,
            )
        ) from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise InvoiceDocumentError(
            Finding(
                Severity.ERROR,
                Stage.XML,
                RULE_XML,
                _(
                    "Die Datei enthält eine Dokumenttyp-Deklaration (DOCTYPE). Elektronische Rechnungen "
                    "dürfen keine enthalten; sie wird aus Sicherheitsgründen abgelehnt."
                ),
                line=1,
            )
        )
    return tree


def syntax_of(root: etree._Element) -> Syntax | None:
    """UBL Invoice, UBL CreditNote or CII, by the root element; None for anything else."""
    qname = etree.QName(root)
    if qname.namespace == UBL_INVOICE_NS and qname.localname == "Invoice":
        return Syntax.UBL_INVOICE
    if qname.namespace == UBL_CREDIT_NOTE_NS and qname.localname == "CreditNote":
        return Syntax.UBL_CREDIT_NOTE
    if qname.namespace == CII_NS and qname.localname == "CrossIndustryInvoice":
        return Syntax.CII
    return None


def buyer_reference(root: etree._Element) -> str:
    """The buyer reference (BT-10) of a UBL or CII invoice, stripped; empty if there is none."""
    if syntax_of(root) is Syntax.CII:
        values = root.xpath(
            "./rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement/ram:BuyerReference/text()",
            namespaces={"rsm": CII_NS, "ram": CII_RAM_NS},
        )
    else:
        values = root.xpath("./cbc:BuyerReference/text()", namespaces={"cbc": UBL_CBC_NS})
    return str(values[0]).strip() if values else ""


def normalise_leitweg_id(value: str) -> str:
    """A Leitweg-ID as compared: without spaces, letters in upper case (stdnum's compact form)."""
    return leitweg.compact(value)


# --------------------------------------------------------------------------- locations

_STEP = re.compile(
    r"^(?:\*:|Q\{[^}]*\})?(?P<name>[\w.-]+|\*)(?:\[namespace-uri\(\)='(?P<ns>[^']*)'\])?(?:\[(?P<index>\d+)\])?$"
)
_PREFIXED_STEP = re.compile(r"^(?:(?P<prefix>[\w.-]+):)?(?P<name>[\w.-]+)(?:\[(?P<index>\d+)\])?$")


def _split_steps(location: str) -> list[str]:
    # Predicates may contain "/" inside quotes (namespace URIs do not, but be safe).
    steps, depth, quote, current = [], 0, "", []
    for char in location:
        if quote:
            current.append(char)
            if char == quote:
                quote = ""
            continue
        if char in "'\"":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "/" and depth == 0:
            steps.append("".join(current))
            current = []
            continue
        current.append(char)
    steps.append("".join(current))
    return [step for step in steps if step]


def locate(tree: etree._ElementTree | None, location: str) -> tuple[str, int | None]:
    """A readable form of an SVRL location XPath and the line it points at, if it can be found.

    ``/*:Invoice[namespace-uri()='…'][1]/*:AccountingSupplierParty[namespace-uri()='…'][1]``
    becomes ``/Invoice/AccountingSupplierParty``; an index is kept only where it matters
    (``InvoiceLine[2]``). The line is that of the element in the uploaded document.
    """
    if not location:
        return "", None
    readable: list[str] = []
    node: Any = None
    line: int | None = None
    for position, step in enumerate(_split_steps(location)):
        if step.startswith("@"):
            readable.append(re.sub(r"\[.*$", "", step))
            continue
        match = _STEP.match(step) or _PREFIXED_STEP.match(step)
        if match is None:
            readable.append(step)
            node = None
            continue
        name = match.group("name")
        index = int(match.group("index") or 1)
        readable.append(f"{name}[{index}]" if index > 1 else name)
        if tree is None:
            continue
        if position == 0:
            root = tree.getroot()
            node = root if etree.QName(root).localname == name or name == "*" else None
        elif node is not None:
            children = [
                child
                for child in node
                if isinstance(child.tag, str) and (name == "*" or etree.QName(child).localname == name)
            ]
            node = children[index - 1] if len(children) >= index else None
        if node is not None:
            line = node.sourceline
    return "/" + "/".join(readable), line


# --------------------------------------------------------------------------- the validator


def _text_of(element: etree._Element, path: str, namespaces: dict[str, str]) -> str:
    found = element.find(path, namespaces)
    return (found.text or "").strip() if found is not None else ""


def load_scenarios(configuration_dir: Path = CONFIGURATION_DIR) -> list[Scenario]:
    """The scenarios of the validator configuration, in the order they are tried."""
    root = etree.parse(str(configuration_dir / "scenarios.xml"), secure_parser()).getroot()
    ns = {"s": SCENARIOS_NS}
    scenarios = []
    for element in root.findall("s:scenario", ns):
        schema = element.find("s:validateWithXmlSchema/s:resource", ns)
        if schema is None:
            continue
        scenarios.append(
            Scenario(
                name=_text_of(element, "s:name", ns),
                match=_text_of(element, "s:match", ns),
                namespaces={
                    item.get("prefix", ""): (item.text or "").strip()
                    for item in element.findall("s:namespace", ns)
                },
                schema=_text_of(schema, "s:location", ns),
                schema_name=_text_of(schema, "s:name", ns),
                schematrons=tuple(
                    (_text_of(resource, "s:location", ns), _text_of(resource, "s:name", ns))
                    for resource in element.findall("s:validateWithSchematron/s:resource", ns)
                ),
                custom_levels={
                    (level.text or "").strip(): _custom_severity(level.get("level", ""))
                    for level in element.findall("s:createReport/s:customLevel", ns)
                },
            )
        )
    return scenarios


def _custom_severity(level: str) -> Severity:
    return {"error": Severity.ERROR, "warning": Severity.WARNING}.get(level, Severity.INFORMATION)


def _flag_severity(flag: str | None) -> Severity:
    if flag in (None, "", "fatal", "error"):
        return Severity.ERROR
    if flag == "warning":
        return Severity.WARNING
    return Severity.INFORMATION


_CLARK_NAMESPACE = re.compile(r"\{[^}]*\}")
def _plain_names(message: str) -> str:
    return _CLARK_NAMESPACE.sub("", message)


_RULE_PREFIX = re.compile(r"^\s*\[[^\]]+\]\s*-?\s*")


class InvoiceValidator:
    """The validator of one process: scenarios read once, schemas and stylesheets compiled once.

    Use :func:`get_validator` rather than building one; every instance compiles its own.
    """

    def __init__(self, configuration_dir: Path = CONFIGURATION_DIR) -> None:
        self.configuration_dir = configuration_dir
        self.scenarios = load_scenarios(configuration_dir)
        self._lock = threading.RLock()
        self._processor: Any = None
        self._schemas: dict[str, etree.XMLSchema] = {}
        self._stylesheets: dict[str, Any] = {}
        #: How many XSLT stylesheets this validator compiled (each at most once).
        self.compiled_stylesheets = 0
        #: How many XML Schemas this validator compiled (each at most once).
        self.compiled_schemas = 0

    # Saxon and the compiled resources ------------------------------------------------------

    def _saxon(self) -> Any:
        if self._processor is None:
            from saxonche import PySaxonProcessor

            self._processor = PySaxonProcessor(license=False)
        return self._processor

    def _schema(self, location: str) -> etree.XMLSchema:
        schema = self._schemas.get(location)
        if schema is None:
            path = self.configuration_dir / location
            schema = etree.XMLSchema(etree.parse(str(path), secure_parser()))
            self._schemas[location] = schema
            self.compiled_schemas += 1
            log.info("compiled XML Schema %s", location)
        return schema

    def _stylesheet(self, location: str) -> Any:
        executable = self._stylesheets.get(location)
        if executable is None:
            path = self.configuration_dir / location
            compiler = self._saxon().new_xslt30_processor()
            executable = compiler.compile_stylesheet(stylesheet_file=str(path))
            if executable is None:
                raise RuntimeError(f"the stylesheet {location} did not compile")
            self._stylesheets[location] = executable
            self.compiled_stylesheets += 1
            log.info("compiled Schematron stylesheet %s", location)
        return executable

    def warm_up(self) -> None:
        """Compile every schema and stylesheet the scenarios use (for a worker's start)."""
        with self._lock:
            for scenario in self.scenarios:
                self._schema(scenario.schema)
                for location, _name in scenario.schematrons:
                    self._stylesheet(location)

    # Validation ----------------------------------------------------------------------------

    def validate(self, data: bytes, *, leitweg_ids: Collection[str] | None = None) -> ValidationReport:
        """Check ``data`` (the invoice XML) as described in the module docstring.

        With ``leitweg_ids`` (even empty), the buyer reference must be one of them.
        """
        try:
            tree = parse_invoice_xml(data)
        except InvoiceDocumentError as exc:
            return ValidationReport(None, "", (exc.finding,))
        root = tree.getroot()
        syntax = syntax_of(root)
        reference = buyer_reference(root) if syntax is not None else ""
        with self._lock:
            processor = self._saxon()
            document = processor.parse_xml(xml_text=etree.tostring(tree, encoding="unicode"))
            scenario = self._scenario_for(document)
            if scenario is None:
                return ValidationReport(syntax, "", (self._no_scenario(root, syntax),), reference)
            findings = self._schema_findings(scenario, tree)
            if not findings:
                for location, name in scenario.schematrons:
                    findings.extend(self._schematron_findings(scenario, location, name, document, tree))
        if leitweg_ids is not None:
            findings.extend(_leitweg_findings(reference, leitweg_ids, root))
        truncated = len(findings) > MAX_FINDINGS
        return ValidationReport(syntax, scenario.name, tuple(findings[:MAX_FINDINGS]), reference, truncated)

    def _scenario_for(self, document: Any) -> Scenario | None:
        for scenario in self.scenarios:
            xpath = self._saxon().new_xpath_processor()
            for prefix, uri in scenario.namespaces.items():
                xpath.declare_namespace(prefix, uri)
            xpath.set_context(xdm_item=document)
            if xpath.effective_boolean_value(scenario.match):
                return scenario
        return None

    @staticmethod
    def _no_scenario(root: etree._Element, syntax: Syntax | None) -> Finding:
        if syntax is None:
            qname = etree.QName(root)
            text = _(
                "Das Dokument ist keine Rechnung nach EN 16931 (Wurzelelement „%(element)s“ im "
                "Namensraum „%(namespace)s“). Erwartet wird eine XRechnung als UBL-Invoice, "
                "UBL-CreditNote oder UN/CEFACT CII.",
                element=qname.localname,
                namespace=qname.namespace or "–",
            )
        else:
            text = _(
                "Die Rechnung nennt keine unterstützte Spezifikation (BT-24, Specification identifier): "
                "erwartet wird XRechnung 3.0 (%(xrechnung)s) oder EN 16931 (%(en16931)s).",
                xrechnung="urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0",
                en16931="urn:cen.eu:en16931:2017",
            )
        path = "/" + etree.QName(root).localname
        return Finding(Severity.ERROR, Stage.SCENARIO, RULE_SCENARIO, text, path, 1)

    def _schema_findings(self, scenario: Scenario, tree: etree._ElementTree) -> list[Finding]:
        schema = self._schema(scenario.schema)
        if schema.validate(tree):
            return []
        return [
            Finding(
                Severity.ERROR,
                Stage.SCHEMA,
                RULE_XSD,
                _("Verstoß gegen das XML-Schema: %(problem)s", problem=_plain_names(entry.message)),
                location=_schema_path(entry.path),
                line=entry.line or None,
                source=scenario.schema_name,
            )
            for entry in schema.error_log
        ]

    def _schematron_findings(
        self, scenario: Scenario, location: str, name: str, document: Any, tree: etree._ElementTree
    ) -> Iterable[Finding]:
        executable = self._stylesheet(location)
        svrl = executable.transform_to_string(xdm_node=document)
        if not svrl:
            raise RuntimeError(f"the stylesheet {location} produced no report")
        report = etree.fromstring(svrl.encode("utf-8"), secure_parser())
        for element in report.iter(f"{{{SVRL_NS}}}failed-assert", f"{{{SVRL_NS}}}successful-report"):
            rule = element.get("id") or ""
            severity = scenario.custom_levels.get(rule) or _flag_severity(element.get("flag"))
            text_element = element.find(f"{{{SVRL_NS}}}text")
            text = " ".join("".join(text_element.itertext()).split()) if text_element is not None else ""
            path, line = locate(tree, element.get("location") or "")
            yield Finding(
                severity,
                Stage.SCHEMATRON,
                rule or "?",
                _RULE_PREFIX.sub("", text) or text,
                location=path,
                line=line,
                source=name,
            )


def _schema_path(path: str | None) -> str:
    # lxml reports "/*[local-name()='Invoice']/..."-like or prefixed paths; keep local names.
    if not path:
        return ""
    return re.sub(r"\*\[local-name\(\)\s*=\s*'([^']+)'\]|[\w.-]+:", lambda m: m.group(1) or "", path)


def _leitweg_findings(reference: str, leitweg_ids: Collection[str], root: etree._Element) -> list[Finding]:
    allowed = {normalise_leitweg_id(value) for value in leitweg_ids if value.strip()}
    if reference and normalise_leitweg_id(reference) in allowed:
        return []
    known = ", ".join(sorted(allowed)) or "–"
    if not reference:
        text = _(
            "Die Rechnung enthält keine Käuferreferenz (BT-10, Buyer reference). Dort muss die "
            "Leitweg-ID der Gemeinde stehen: %(known)s.",
            known=known,
        )
    else:
        text = _(
            "Die Käuferreferenz (BT-10) „%(reference)s“ ist keine Leitweg-ID dieser Gemeinde. "
            "Gültig: %(known)s. Bitte prüfen Sie, ob die Rechnung an die richtige Stelle geht.",
            reference=reference,
            known=known,
        )
    path = (
        "/CrossIndustryInvoice/SupplyChainTradeTransaction/ApplicableHeaderTradeAgreement/BuyerReference"
        if syntax_of(root) is Syntax.CII
        else f"/{etree.QName(root).localname}/BuyerReference"
    )
    return [Finding(Severity.ERROR, Stage.LEITWEG, RULE_LEITWEG, text, path, None)]


_validator: InvoiceValidator | None = None
_validator_lock = threading.Lock()


def get_validator() -> InvoiceValidator:
    """The validator of this process, created on first use (its resources compile lazily)."""
    global _validator
    if _validator is None:
        with _validator_lock:
            if _validator is None:
                _validator = InvoiceValidator()
    return _validator


def validate_invoice(data: bytes, *, leitweg_ids: Collection[str] | None = None) -> ValidationReport:
    """Validate invoice XML with the process's validator (see :class:`InvoiceValidator`)."""
    return get_validator().validate(data, leitweg_ids=leitweg_ids)
