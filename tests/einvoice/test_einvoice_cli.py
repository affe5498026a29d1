"""``flask einvoice validate``: the clerks' command-line check."""

from __future__ import annotations

from flask import Flask

from .builders import LEITWEG, SAMPLES


def test_validate_reports_valid_and_invalid_files_with_rule_ids(app: Flask) -> None:
    runner = app.test_cli_runner()
    valid = runner.invoke(args=["einvoice", "validate", str(SAMPLES / "xrechnung-cii.xml")])
    assert valid.exit_code == 0, valid.output
    assert "valid — EN16931 XRechnung (CII)" in valid.output
    invalid = runner.invoke(
        args=["einvoice", "validate", "--leitweg-id", LEITWEG, str(SAMPLES / "invalid-br-co-10-ubl.xml")]
    )
    assert invalid.exit_code == 1
    assert "BR-CO-10" in invalid.output and "line" in invalid.output


def test_validate_checks_the_leitweg_id_only_when_given(app: Flask) -> None:
    runner = app.test_cli_runner()
    path = SAMPLES / "wrong-leitweg-ubl.xml"
    assert runner.invoke(args=["einvoice", "validate", str(path)]).exit_code == 0
    refused = runner.invoke(args=["einvoice", "validate", "--leitweg-id", LEITWEG, str(path)])
    assert refused.exit_code == 1 and "BT-10-LEITWEG" in refused.output
