"""The inspection e-mail is written in the applicant's language, dates included, whatever
language the clerk who grants it reads the staff screens in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from babel.dates import format_date, format_time
from flask import Flask
from flask_babel import force_locale, gettext

from app.efile.inspection import grant_mail
from app.efile.models import InspectionGrant
from app.submissions.models import Submission
from app.tenancy.models import Commune
from app.timeutil import to_berlin

EXPIRES = datetime(2026, 5, 16, 10, 0, tzinfo=UTC)  # 12:00 in Berlin (summer time)


def _grant(locale: str) -> InspectionGrant:
    commune = Commune(slug="wer", name="Werneuchen", official_name="Stadt Werneuchen", short_code="WER")
    submission = Submission(locale=locale, reference="WER-2026-000042")
    return InspectionGrant(
        commune=commune, submission=submission, recipient_email="jan@example.org",
        expires_at=EXPIRES, message="",
    )


@pytest.mark.parametrize("locale", ["de", "en", "pl", "dsb"])
def test_grant_mail_follows_the_applicants_language(app: Flask, locale: str) -> None:
    with app.test_request_context("/?lang=de"):  # the clerk reads German
        message = grant_mail(_grant(locale), "https://portal.example/wer/inspection/abc")
        with force_locale(locale):
            subject = gettext("Akteneinsicht zu Ihrem Antrag %(reference)s", reference="WER-2026-000042")
    body = message.get_content()
    local = to_berlin(EXPIRES)
    assert format_date(local.date(), "long", locale=locale) in body
    assert format_time(local.time(), "short", locale=locale) in body
    assert message["Subject"] == subject
    if locale != "de":
        assert subject != "Akteneinsicht zu Ihrem Antrag WER-2026-000042"


def test_polish_mail_has_a_polish_date(app: Flask) -> None:
    with app.test_request_context("/?lang=de"):
        body = grant_mail(_grant("pl"), "https://portal.example/wer/inspection/abc").get_content()
    assert "16 maja 2026" in body  # Babel's Polish long date: genitive month, no dot
    assert "16. Mai" not in body and "16.05.2026" not in body
