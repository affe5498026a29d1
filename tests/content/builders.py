"""Builders for content items in tests; each commits, like tests/factories.py."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from app.content import services
from app.content.models import Document, Event, NewsItem, Page, PublicationState
from app.extensions import db
from app.tenancy.models import Commune
from app.timeutil import utcnow

PUBLISHED = PublicationState.PUBLISHED

#: A minimal but real PDF header, enough for type detection.
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def page(commune: Commune, title: str, **fields: Any) -> Page:
    fields.setdefault("state", PUBLISHED)
    item = services.create_page(commune, title, **fields)
    db.session.commit()
    return item


def news(commune: Commune, title: str, **fields: Any) -> NewsItem:
    fields.setdefault("state", PUBLISHED)
    fields.setdefault("news_date", date.today())
    item = services.create_news_item(commune, title, **fields)
    db.session.commit()
    return item


def event(commune: Commune, title: str, **fields: Any) -> Event:
    fields.setdefault("state", PUBLISHED)
    fields.setdefault("starts_at", utcnow() + timedelta(days=3))
    item = services.create_event(commune, title, **fields)
    db.session.commit()
    return item


def document(commune: Commune, title: str, **fields: Any) -> Document:
    fields.setdefault("state", PUBLISHED)
    fields.setdefault("filename", "amtsblatt.pdf")
    fields.setdefault("data", PDF_BYTES)
    item = services.create_document(commune, title, **fields)
    db.session.commit()
    return item
