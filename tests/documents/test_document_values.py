"""The values a document prints (money, Berlin time, sizes) and the guards of its input model."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from app.documents import FeeLine
from app.documents.fonts import printable
from app.documents.formatting import file_size, local_time, money

from .samples import make_document


def test_money_is_german_euro() -> None:
    assert money(Decimal("12.50")).replace("\xa0", " ") == "12,50 €"
    assert money(Decimal("1234.5")).replace("\xa0", " ") == "1.234,50 €"


def test_time_is_shown_in_berlin_across_daylight_saving() -> None:
    assert local_time(datetime(2026, 1, 15, 9, 30, tzinfo=UTC)) == "15.01.2026, 10:30"
    assert local_time(datetime(2026, 7, 15, 9, 30, tzinfo=UTC)) == "15.07.2026, 11:30"


def test_file_size_gives_readable_and_exact_figures() -> None:
    assert file_size(512) == "512 Bytes"
    assert file_size(204800) == "200,0 KB (204.800 Bytes)"
    assert file_size(5 * 1024 * 1024 + 1) == "5,0 MB (5.242.881 Bytes)"


def test_submitted_at_must_be_timezone_aware() -> None:
    """A naive time cannot be placed in Europe/Berlin; refusing it beats printing a wrong hour."""
    with pytest.raises(ValueError, match="timezone-aware"):
        make_document(submitted_at=datetime(2026, 11, 25, 15, 48))


def test_fee_total_defaults_to_the_sum_of_the_lines() -> None:
    lines = (FeeLine("A", Decimal("10.00")), FeeLine("B", Decimal("2.50")))
    assert make_document(fee_lines=lines, fee_total=None).total == Decimal("12.50")
    assert make_document(fee_lines=lines, fee_total=Decimal("0")).total == Decimal("0")


def test_lists_are_stored_as_tuples_so_the_document_stays_immutable() -> None:
    document = make_document(fee_lines=[FeeLine("A", Decimal("1"))], attachments=[])
    assert document.fee_lines == (FeeLine("A", Decimal("1")),)
    assert document.attachments == ()
    hash(document.fee_lines)


def test_printable_keeps_covered_text_and_replaces_the_rest() -> None:
    text = "Zażółć gęślą jaźń · Chóśebuz, Łužyca · Straße\n€ – „Anführung“"
    assert printable(text) == text
    assert printable("a🙂b") == "a\ufffdb"
