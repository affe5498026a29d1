"""The invoice validator: KoSIT's checks in order, rule ids in the report, compiled once."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from app.einvoice import validation
from app.einvoice.validation import RULE_LEITWEG, RULE_XML, RULE_XSD, Severity, Syntax, get_validator

SAMPLES = Path(__file__).parent / "samples"
LEITWEG = "12069656-0001-98"
OFFICIAL = (
    Path(__file__).resolve().parents[3] / "shared/standards/xrechnung/validator-configuration-3.0.2"
)


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


@pytest.mark.parametrize(
    ("name", "syntax", "scenario"),
    [
        ("xrechnung-ubl.xml", Syntax.UBL_INVOICE, "EN16931 XRechnung (UBL Invoice)"),
        ("xrechnung-cii.xml", Syntax.CII, "EN16931 XRechnung (CII)"),
    ],
)
def test_valid_invoices_of_both_syntaxes_pass_every_check(name: str, syntax: Syntax, scenario: str) -> None:
    report = get_validator().validate(sample(name), leitweg_ids=[LEITWEG])
    assert report.valid, report.errors
    assert report.syntax is syntax
    assert report.scenario == scenario
    assert report.buyer_reference == LEITWEG


@pytest.mark.parametrize(
    ("name", "rules"),
    [
        ("invalid-malformed.xml", {RULE_XML}),
        ("invalid-xsd-ubl.xml", {RULE_XSD}),
        ("invalid-br-co-10-ubl.xml", {"BR-CO-10"}),
        ("invalid-br-de-2-cii.xml", {"BR-DE-2"}),
        ("invalid-br-de-15-ubl.xml", {"BR-DE-15", RULE_LEITWEG}),
        ("wrong-leitweg-ubl.xml", {RULE_LEITWEG}),
    ],
)
def test_invalid_invoices_are_refused_with_the_rule_that_fails(name: str, rules: set[str]) -> None:
    report = get_validator().validate(sample(name), leitweg_ids=[LEITWEG])
    assert not report.valid
    assert rules <= report.rules()
    for finding in report.errors:
        assert finding.text


def test_schematron_errors_say_where_in_readable_words_with_the_line() -> None:
    report = get_validator().validate(sample("invalid-br-de-2-cii.xml"))
    (finding,) = [f for f in report.errors if f.rule == "BR-DE-2"]
    assert finding.location == (
        "/CrossIndustryInvoice/SupplyChainTradeTransaction/ApplicableHeaderTradeAgreement/SellerTradeParty"
    )
    assert finding.line is not None
    assert b"<ram:SellerTradeParty>" in sample("invalid-br-de-2-cii.xml").splitlines()[finding.line - 1]
    assert "BG-6" in finding.text and not finding.text.startswith("[")


def test_schema_errors_name_the_element_and_line() -> None:
    report = get_validator().validate(sample("invalid-xsd-ubl.xml"))
    (finding,) = report.errors
    assert "Colour" in finding.text and "{" not in finding.text
    assert b"cbc:Colour" in sample("invalid-xsd-ubl.xml").splitlines()[finding.line - 1]


def test_schema_failure_skips_the_schematron_as_kosit_does() -> None:
    report = get_validator().validate(sample("invalid-xsd-ubl.xml"))
    assert {f.stage for f in report.findings} == {validation.Stage.SCHEMA}


def test_leitweg_check_only_when_the_commune_names_its_ids() -> None:
    data = sample("wrong-leitweg-ubl.xml")
    assert get_validator().validate(data).valid
    assert get_validator().validate(data, leitweg_ids=[" 12069656-0002-95 "]).valid
    assert not get_validator().validate(data, leitweg_ids=[]).valid


def test_custom_levels_of_the_scenario_turn_errors_into_warnings() -> None:
    # BR-CL-23 (unit code list) is "warning" in the XRechnung scenarios: shown, not refused.
    data = sample("xrechnung-ubl.xml").replace(b'unitCode="MTK"', b'unitCode="QQQ"')
    report = get_validator().validate(data)
    assert report.valid
    assert "BR-CL-23" in report.rules(Severity.WARNING)


def test_a_document_of_no_scenario_is_refused() -> None:
    data = sample("xrechnung-ubl.xml").replace(b"#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0", b"#x")
    report = get_validator().validate(data)
    assert report.rules() == {validation.RULE_SCENARIO}
    other = get_validator().validate(b"<order xmlns='urn:example'/>")
    assert other.rules() == {validation.RULE_SCENARIO} and other.syntax is None


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Invoice [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&xxe;</Invoice>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
<lolz>&lol9;</lolz>"""


@pytest.mark.parametrize("payload", [XXE, BILLION_LAUGHS], ids=["xxe", "billion-laughs"])
def test_entity_attacks_are_refused_without_expanding_anything(payload: bytes) -> None:
    started = time.perf_counter()
    report = get_validator().validate(payload)
    assert time.perf_counter() - started < 2
    assert report.rules() == {RULE_XML}
    assert "root:" not in report.errors[0].text


def test_twenty_megabytes_of_non_xml_are_refused_with_a_message() -> None:
    report = get_validator().validate(b"\x89PNG" + b"\x00\xff" * (10 * 1024 * 1024))
    assert report.rules() == {RULE_XML}
    assert "kein wohlgeformtes XML" in report.errors[0].text


def test_stylesheets_and_schemas_compile_once_per_process() -> None:
    validator = get_validator()
    assert get_validator() is validator
    for name in ("xrechnung-ubl.xml", "xrechnung-cii.xml", "xrechnung-ubl.xml", "invalid-br-de-2-cii.xml"):
        validator.validate(sample(name))
    # Two Schematron stylesheets per syntax (EN 16931, XRechnung), one XSD per syntax.
    assert validator.compiled_stylesheets == 4
    assert validator.compiled_schemas == 2
    started = time.perf_counter()
    validator.validate(sample("xrechnung-cii.xml"))
    assert time.perf_counter() - started < 1.0


def test_threads_share_the_compiled_validator_safely() -> None:
    results: list[bool] = []

    def run() -> None:
        results.append(get_validator().validate(sample("xrechnung-cii.xml")).valid)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 4
    assert get_validator().compiled_stylesheets <= 4


@pytest.mark.skipif(not OFFICIAL.exists(), reason="the shared standards folder is not present")
def test_shipped_configuration_is_the_official_one_unchanged() -> None:
    shipped = validation.CONFIGURATION_DIR
    for path in shipped.rglob("*"):
        if path.is_file() and path.name != "NOTICE.md":
            assert path.read_bytes() == (OFFICIAL / path.relative_to(shipped)).read_bytes(), path
