"""The service catalogue of this process and what each commune offers of it.

The association's services are the definitions in ``FORMS_DIR``; they are parsed
once at start-up (:func:`load_into_app`) and kept on the application, since every
process reads the same files. A commune's choice of them is a
:class:`~app.catalogue.models.CommuneService` row; an *offered service* joins the
two with the receiving office.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.catalogue.models import CommuneService
from app.extensions import db
from app.formspec import Catalogue, FeeResult, FeeRule, FeeSpec, ServiceSpec, compute_fees, load_catalogue
from app.tenancy.models import Commune, Office

log = logging.getLogger(__name__)

EXTENSION_KEY = "catalogue"
#: How many services a commune's home page features at most.
FEATURED_LIMIT = 3


def N_(message: str) -> str:
    """Mark text for translation that is translated where it is shown, not here."""
    return message


#: The label of a base fee a commune sets for a service that has none of its own.
BASE_FEE_LABEL = N_("Gebühr")
#: Services whose page names the commune's Leitweg-IDs (the buyer reference of e-invoices).
INVOICE_SERVICES = frozenset({"e-rechnung"})


#: Where the parsed definitions are cached between starts, inside the instance folder
#: (writable only by the portal; the cache holds pickles). Config ``FORMSPEC_CACHE_DIR``
#: overrides it; an empty value turns the cache off. Off by default under TESTING.
CACHE_FOLDER = "formspec-cache"


def spec_cache_dir(app: Flask) -> Path | None:
    """The folder of the start-up cache of parsed definitions, or None for none."""
    if "FORMSPEC_CACHE_DIR" in app.config:
        configured = app.config["FORMSPEC_CACHE_DIR"]
        return Path(configured) if configured else None
    return None if app.testing else Path(app.instance_path) / CACHE_FOLDER


def load_into_app(app: Flask) -> Catalogue:
    """Parse the definitions in FORMS_DIR once and keep them on ``app``.

    A broken file is skipped and logged with every mistake in it; the rest serve.
    Definitions unchanged since the last start come from the cache (``spec_cache_dir``).
    """
    catalogue = load_catalogue(Path(app.config["FORMS_DIR"]), spec_cache_dir(app))
    for error in catalogue.errors:
        log.error("form definition skipped: %s", error)
    app.extensions[EXTENSION_KEY] = catalogue
    log.info("catalogue: %d services loaded from %s", len(catalogue.services), app.config["FORMS_DIR"])
    return catalogue


def get_catalogue() -> Catalogue:
    """The catalogue of the current application (loaded at start-up)."""
    catalogue = current_app.extensions.get(EXTENSION_KEY)
    if catalogue is None:
        catalogue = load_into_app(current_app)
    return catalogue


@dataclass(frozen=True)
class OfferedService:
    """A service as one commune offers it: the definition, the commune's choice, the office."""

    spec: ServiceSpec
    choice: CommuneService
    office: Office | None

    @property
    def slug(self) -> str:
        return self.spec.slug

    @property
    def title(self) -> str:
        return self.spec.title

    @property
    def topic(self) -> str:
        return self.spec.topic

    @property
    def online(self) -> bool:
        """Whether citizens can apply online here: a form and an office that receives it."""
        return (
            self.spec.online and self.spec.form is not None and self.office is not None and self.office.active
        )

    @property
    def priced_spec(self) -> ServiceSpec:
        """The definition with the commune's fee override applied to its base fee."""
        return apply_fee_override(self.spec, self.choice.fee_override)

    def fees(self, answers: dict[str, Any]) -> FeeResult:
        """The fees these answers cost in this commune (fee override applied)."""
        return compute_fees(self.priced_spec, answers)

    @property
    def shows_leitweg_ids(self) -> bool:
        """Whether the service page names the commune's Leitweg-IDs (e-invoicing)."""
        return self.slug in INVOICE_SERVICES

    @property
    def retention_days(self) -> int | None:
        """How long submissions are kept: the commune's setting, else the service's."""
        if self.choice.retention_days is not None:
            return self.choice.retention_days
        return self.spec.retention_days


@dataclass(frozen=True)
class TopicGroup:
    """The offered services of one topic, for the catalogue page."""

    topic: str
    services: list[OfferedService]


def apply_fee_override(spec: ServiceSpec, fee_override: Decimal | None) -> ServiceSpec:
    """``spec`` with its base fee replaced by ``fee_override``.

    The base fee is the first fee rule that applies always (no condition, not per
    count); a service without one gets the override as its base fee. Fees of chosen
    options and conditional rules stay as the definition says.
    """
    if fee_override is None:
        return spec
    fees = spec.fees or FeeSpec(text=None, rules=())
    rules = list(fees.rules)
    for index, rule in enumerate(rules):
        if rule.when is None and rule.per is None:
            rules[index] = dataclasses.replace(rule, amount=fee_override)
            break
    else:
        rules.insert(0, FeeRule(label=BASE_FEE_LABEL, amount=fee_override))
    return dataclasses.replace(spec, fees=dataclasses.replace(fees, rules=tuple(rules)))


def _choices(
    commune: Commune, *, only_enabled: bool = True, only_featured: bool = False
) -> list[CommuneService]:
    stmt = (
        select(CommuneService)
        .where(CommuneService.commune_id == commune.id)
        .options(joinedload(CommuneService.office))
        .order_by(CommuneService.position, CommuneService.service_slug)
    )
    if only_enabled:
        stmt = stmt.where(CommuneService.enabled)
    if only_featured:
        stmt = stmt.where(CommuneService.featured)
    return list(db.session.scalars(stmt))


def _offer(spec: ServiceSpec | None, choice: CommuneService) -> OfferedService | None:
    if spec is None:
        # The definition was removed or is broken; the commune's row waits for it.
        return None
    office = choice.office
    if office is not None and office.commune_id != choice.commune_id:
        office = None
    return OfferedService(spec=spec, choice=choice, office=office)


def offered_services(commune: Commune, *, only_featured: bool = False) -> list[OfferedService]:
    """Every service the commune has switched on (or only the featured ones), in its chosen order."""
    specs = get_catalogue().for_commune(commune.slug)
    choices = _choices(commune, only_featured=only_featured)
    offered = (_offer(specs.get(choice.service_slug), choice) for choice in choices)
    return [service for service in offered if service is not None]


def get_offered_service(commune: Commune, slug: str, *, online_only: bool = True) -> OfferedService | None:
    """The service as this commune offers it, or None.

    None when the commune has not switched it on, its definition is missing or broken,
    or (with ``online_only``, the default) it cannot be applied for online here.
    """
    spec = get_catalogue().get(slug, commune.slug)
    if spec is None:
        return None
    choice = db.session.scalar(
        select(CommuneService).where(
            CommuneService.commune_id == commune.id,
            CommuneService.service_slug == slug,
            CommuneService.enabled,
        )
    )
    if choice is None:
        return None
    offered = _offer(spec, choice)
    if offered is None or (online_only and not offered.online):
        return None
    return offered


def _search_text(spec: ServiceSpec) -> str:
    parts: list[str] = [spec.title, spec.short_text, spec.topic]
    if spec.leika_key:
        parts.append(spec.leika_key)
    # Citizens may search in the language they read the portal in.
    parts.extend(gettext(part) for part in (spec.title, spec.short_text) if part)
    return " ".join(parts).casefold()


def search_services(services: Iterable[OfferedService], query: str) -> list[OfferedService]:
    """The services whose title, short text, topic or LeiKa key contain every word of ``query``."""
    words = query.casefold().split()
    if not words:
        return list(services)
    return [service for service in services if all(word in _search_text(service.spec) for word in words)]


def group_by_topic(services: Iterable[OfferedService]) -> list[TopicGroup]:
    """The services grouped by topic; topics and services in alphabetical order."""
    groups: dict[str, list[OfferedService]] = {}
    for service in services:
        groups.setdefault(service.topic, []).append(service)
    return [
        TopicGroup(topic=topic, services=sorted(items, key=lambda s: s.title.casefold()))
        for topic, items in sorted(groups.items(), key=lambda item: item[0].casefold())
    ]


def featured_services(commune: Commune, limit: int = FEATURED_LIMIT) -> list[OfferedService]:
    """The services the commune features on its home page (at most ``limit``)."""
    return offered_services(commune, only_featured=True)[:limit]
