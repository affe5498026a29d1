"""Domain functions of commune and association administration.

A commune admin runs the commune's profile, offices, staff accounts and its choice of
catalogue services; an association admin creates, changes and deactivates communes.
Every function adds to the current transaction, records its audit entry with the
:class:`~app.staff.audit.Origin` it is given and flushes; the caller commits. Refusals
are :class:`AdminError` (or a subclass) with a German message.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload
from stdnum.de import leitweg

from app.catalogue.models import CommuneService
from app.catalogue.services import get_catalogue
from app.delivery.mail import compose_mail, send_after_commit
from app.extensions import db
from app.formspec import ServiceSpec
from app.formspec.model import OFFICE_KINDS
from app.staff import services as accounts
from app.staff.admin.branding import BrandingError, check_brand_colour, process_coat_of_arms
from app.staff.admin.models import Invitation
from app.staff.audit import Origin, record
from app.staff.models import AuditAction, Role, User
from app.staff.permissions import assignable_roles, may_manage_user
from app.storage import blob_store
from app.tenancy.models import Commune, Office
from app.tenancy.services import SLUG_PATTERN, find_commune, is_valid_commune_slug
from app.timeformat import format_deadline
from app.timeutil import utcnow

#: How long an invitation link can be used.
INVITATION_LIFETIME = timedelta(hours=72)
SHORT_CODE = re.compile(r"^[A-Z]{2,6}$")


class AdminError(ValueError):
    """A change was refused; the message says why, in German. ``field`` names the form field."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _stripped(values: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """The values of ``keys``, text without surrounding blanks."""
    return {key: values[key].strip() if isinstance(values[key], str) else values[key] for key in keys}


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {key: [before[key], after[key]] for key in before if before[key] != after[key]}


def _assign(target: Any, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Set ``values`` on ``target`` and flush; returns what changed (name → [before, after])."""
    before = {key: getattr(target, key) for key in values}
    for key, value in values.items():
        setattr(target, key, value)
    db.session.flush()
    return _changes(before, {key: getattr(target, key) for key in values})


def _check_email(value: str, field: str) -> None:
    if value and not accounts.EMAIL_PATTERN.match(value):
        raise AdminError(_("Bitte geben Sie eine gültige E-Mail-Adresse an."), field)


def _record_commune(
    action: AuditAction, commune: Commune, details: dict[str, Any], *, origin: Origin
) -> None:
    """Audit ``action`` on the commune itself."""
    record(
        action,
        origin=origin,
        commune_id=commune.id,
        object_type="commune",
        object_id=commune.slug,
        details=details,
    )


# -- the commune's profile ---------------------------------------------------------------

#: The profile fields a commune admin edits, as they are stored on :class:`Commune`.
PROFILE_FIELDS = (
    "official_name",
    "street",
    "postal_code",
    "town",
    "phone",
    "email",
    "website",
    "opening_hours",
    "brand_colour",
    "editors_may_publish",
    "require_two_factor",
    "leitweg_ids",
)


def parse_leitweg_ids(text: str) -> list[str]:
    """The Leitweg-IDs of ``text`` (one per line), checked and in canonical form.

    Each is Grobadressierung (2–12 digits), optionally Feinadressierung (up to 30
    letters or digits) and the two-digit check number (ISO 7064 Mod 97-10), joined by
    hyphens. Raises :class:`AdminError` naming the first one that is not valid.
    """
    found: list[str] = []
    for line in text.splitlines():
        value = line.strip()
        if not value:
            continue
        if not leitweg.is_valid(value):
            raise AdminError(
                _(
                    "„%(value)s“ ist keine gültige Leitweg-ID. Sie besteht aus der "
                    "Grobadressierung (2 bis 12 Ziffern), wahlweise der Feinadressierung "
                    "(bis zu 30 Buchstaben oder Ziffern) und der zweistelligen Prüfziffer, "
                    "getrennt durch Bindestriche, z. B. 12064000-0001-35.",
                    value=value[:60],
                ),
                "leitweg_ids",
            )
        canonical = leitweg.compact(value)
        if canonical not in found:
            found.append(canonical)
    return found


def update_profile(commune: Commune, values: dict[str, Any], *, origin: Origin) -> dict[str, list[Any]]:
    """Change the commune's profile (keys of :data:`PROFILE_FIELDS`); returns what changed."""
    values = dict(values)
    if not str(values.get("official_name", "")).strip():
        raise AdminError(_("Bitte geben Sie den amtlichen Namen an."), "official_name")
    _check_email(str(values.get("email", "")).strip(), "email")
    website = str(values.get("website", "")).strip()
    if website and (urlsplit(website).scheme not in ("http", "https") or not urlsplit(website).netloc):
        raise AdminError(
            _("Bitte geben Sie die Website mit http:// oder https:// an, z. B. https://www.werneuchen.de."),
            "website",
        )
    try:
        values["brand_colour"] = check_brand_colour(str(values["brand_colour"]))
    except BrandingError as exc:
        raise AdminError(str(exc), "brand_colour") from exc
    if isinstance(values.get("leitweg_ids"), str):
        values["leitweg_ids"] = parse_leitweg_ids(values["leitweg_ids"])
    changes = _assign(commune, _stripped(values, PROFILE_FIELDS))
    if changes:
        _record_commune(AuditAction.COMMUNE_CHANGED, commune, {"changes": changes}, origin=origin)
    return changes


def set_coat_of_arms(commune: Commune, data: bytes, *, origin: Origin) -> None:
    """Check, re-encode and store a new coat of arms (see :mod:`.branding`)."""
    try:
        image = process_coat_of_arms(data)
    except BrandingError as exc:
        raise AdminError(str(exc), "coat_of_arms") from exc
    stored = blob_store().put(image.png, session=db.session)
    previous = commune.coat_of_arms_key
    commune.coat_of_arms_key = stored.key
    commune.coat_of_arms_type = image.media_type
    db.session.flush()
    _record_commune(
        AuditAction.COMMUNE_CHANGED,
        commune,
        {"coat_of_arms": [previous, stored.key], "size": [image.width, image.height]},
        origin=origin,
    )


def remove_coat_of_arms(commune: Commune, *, origin: Origin) -> None:
    """Show the commune's initials instead of a coat of arms. The stored image stays (PDFs name it)."""
    if commune.coat_of_arms_key is None:
        return
    previous = commune.coat_of_arms_key
    commune.coat_of_arms_key = None
    commune.coat_of_arms_type = None
    db.session.flush()
    _record_commune(AuditAction.COMMUNE_CHANGED, commune, {"coat_of_arms": [previous, None]}, origin=origin)


# -- offices -----------------------------------------------------------------------------

OFFICE_FIELDS = ("name", "slug", "kind", "email", "phone", "room", "opening_hours", "active")


def _check_office(commune: Commune, values: dict[str, Any], existing: Office | None) -> None:
    if not str(values["name"]).strip():
        raise AdminError(_("Bitte geben Sie den Namen des Fachamts an."), "name")
    slug = str(values["slug"])
    if not SLUG_PATTERN.match(slug):
        raise AdminError(
            _(
                "Das Kürzel für die Adresse besteht aus Kleinbuchstaben, Ziffern und "
                "Bindestrichen, z. B. buergeramt."
            ),
            "slug",
        )
    clash = db.session.scalar(select(Office).where(Office.commune_id == commune.id, Office.slug == slug))
    if clash is not None and clash is not existing:
        raise AdminError(_("Die Kommune hat schon ein Fachamt mit dem Kürzel „%(slug)s“.", slug=slug), "slug")
    if values["kind"] and values["kind"] not in OFFICE_KINDS:
        raise AdminError(_("Bitte wählen Sie eine Amtsart aus der Liste."), "kind")
    _check_email(str(values["email"]), "email")


def create_office(commune: Commune, values: dict[str, Any], *, origin: Origin) -> Office:
    """A new office of ``commune``."""
    values = _stripped(values, OFFICE_FIELDS)
    _check_office(commune, values, None)
    office = Office(commune_id=commune.id, **values)
    db.session.add(office)
    db.session.flush()
    record(
        AuditAction.OFFICE_CREATED,
        origin=origin,
        commune_id=commune.id,
        object_type="office",
        object_id=office.slug,
        details={"name": office.name, "kind": office.kind},
    )
    return office


def update_office(office: Office, values: dict[str, Any], *, origin: Origin) -> dict[str, list[Any]]:
    """Change an office; returns what changed."""
    values = _stripped(values, OFFICE_FIELDS)
    _check_office(office.commune, values, office)
    changes = _assign(office, values)
    if changes:
        record(
            AuditAction.OFFICE_CHANGED,
            origin=origin,
            commune_id=office.commune_id,
            object_type="office",
            object_id=office.slug,
            details={"changes": changes},
        )
    return changes


# -- staff accounts and invitations ------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _invitation_mail(user: User, link: str, inviter: str, expires_at: datetime) -> tuple[str, str]:
    with force_locale("de"):
        place = user.commune.name if user.commune is not None else _("des Zweckverbands")
        subject = _("Einladung in den Mitarbeiterbereich – %(place)s", place=place)
        body = "\n".join(
            [
                _("Guten Tag %(name)s,", name=user.name),
                "",
                _(
                    "%(inviter)s hat für Sie ein Konto im Mitarbeiterbereich des Kommunalportals "
                    "angelegt (%(place)s, Rolle: %(role)s).",
                    inviter=inviter,
                    place=place,
                    role=user.role.label,
                ),
                "",
                _("Bitte legen Sie über diesen Link Ihr Passwort fest:"),
                link,
                "",
                _(
                    "Der Link ist bis %(time)s gültig und kann nur einmal benutzt werden.",
                    time=format_deadline(expires_at),
                ),
                _("Ihre Anmeldung: %(email)s", email=user.email),
                "",
                _("Wenn Sie diese Einladung nicht erwartet haben, können Sie diese Nachricht ignorieren."),
                "",
                _("Diese Nachricht wurde automatisch erstellt."),
            ]
        )
    return subject, body + "\n"


def send_invitation(
    user: User, *, link_for: Callable[[str], str], origin: Origin, now: datetime | None = None
) -> Invitation:
    """Issue a new invitation for ``user`` and e-mail it once the transaction commits.

    ``link_for(token)`` makes the absolute URL of the set-password page. Earlier
    invitations of the account stop working.
    """
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    db.session.execute(
        update(Invitation)
        .where(Invitation.user_id == user.id, Invitation.used_at.is_(None))
        .values(expires_at=now)
    )
    invitation = Invitation(
        user_id=user.id, token_hash=_token_hash(token), created_at=now, expires_at=now + INVITATION_LIFETIME
    )
    db.session.add(invitation)
    db.session.flush()
    inviter = origin.user.name if origin.user is not None else _("Die Administration")
    subject, body = _invitation_mail(user, link_for(token), inviter, invitation.expires_at)
    message = compose_mail(user.email, subject, body, headers={"Auto-Submitted": "auto-generated"})
    send_after_commit(db.session, message)
    record(
        AuditAction.USER_INVITED,
        origin=origin,
        commune_id=user.commune_id,
        object_type="user",
        object_id=user.id,
        details={"email": user.email, "expires_at": invitation.expires_at.isoformat()},
        at=now,
    )
    return invitation


def _check_role(actor: User | None, role: Role) -> None:
    if role not in assignable_roles(actor):
        raise AdminError(_("Diese Rolle dürfen Sie nicht vergeben."), "role")


def _check_offices(commune: Commune | None, offices: Sequence[Office]) -> None:
    if any(commune is None or office.commune_id != commune.id for office in offices):
        raise AdminError(_("Die Fachämter müssen zur Kommune des Kontos gehören."), "offices")


def invite_user(
    *,
    commune: Commune | None,
    email: str,
    name: str,
    role: Role,
    offices: Sequence[Office] = (),
    link_for: Callable[[str], str],
    origin: Origin,
) -> User:
    """Create an account without a password and send it an invitation."""
    _check_role(origin.user, role)
    _check_offices(commune, offices)
    try:
        user = accounts.create_user(
            email=email, name=name, role=role, commune=commune, offices=offices, origin=origin
        )
    except accounts.AccountError as exc:
        raise AdminError(str(exc), "email") from exc
    send_invitation(user, link_for=link_for, origin=origin)
    return user


def change_user(user: User, *, name: str, role: Role, offices: Sequence[Office], origin: Origin) -> None:
    """Change an account's name, role and offices within its commune."""
    if not may_manage_user(origin.user, user):
        raise AdminError(_("Dieses Konto dürfen Sie nicht ändern."))
    if role is not user.role:
        if origin.user is user:
            raise AdminError(_("Ihre eigene Rolle können Sie nicht ändern."), "role")
        _check_role(origin.user, role)
    commune = user.commune if role.needs_commune else None
    if role.needs_commune and commune is None:
        raise AdminError(_("Für diese Rolle muss eine Kommune angegeben werden."), "role")
    _check_offices(commune, offices)
    try:
        accounts.update_user(user, name=name, role=role, commune=commune, offices=offices, origin=origin)
    except accounts.AccountError as exc:
        raise AdminError(str(exc)) from exc


def set_user_active(user: User, active: bool, *, origin: Origin) -> None:
    """Disable (ending every session at once) or re-enable an account."""
    if not may_manage_user(origin.user, user):
        raise AdminError(_("Dieses Konto dürfen Sie nicht ändern."))
    if origin.user is user and not active:
        raise AdminError(_("Sie können Ihr eigenes Konto nicht deaktivieren."))
    accounts.set_active(user, active, origin=origin)


def find_invitation(token: str, *, now: datetime | None = None) -> Invitation | None:
    """The invitation of ``token`` if it may still be used (unused, not expired, account active)."""
    if not token or len(token) > 200:
        return None
    invitation = db.session.scalar(
        select(Invitation)
        .where(Invitation.token_hash == _token_hash(token))
        .options(selectinload(Invitation.user))
    )
    now = now or utcnow()
    if invitation is None or invitation.used_at is not None or invitation.expires_at <= now:
        return None
    if not invitation.user.active:
        return None
    return invitation


def accept_invitation(invitation: Invitation, password: str, *, origin: Origin) -> User:
    """Set the account's password through the invitation, which is used up.

    Raises :class:`~app.staff.passwords.PasswordPolicyError` when the password is too weak.
    """
    now = utcnow()
    # Claim the invitation first: of two requests with the same link only one sets a password.
    claimed = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:
        raise AdminError(_("Dieser Link wurde bereits benutzt."))
    user = invitation.user
    accounts.set_password(
        user,
        password,
        origin=Origin(user=user, client_address=origin.client_address, user_agent=origin.user_agent),
        now=now,
    )
    return user


# -- the commune's choice of services ------------------------------------------------------


@dataclass(frozen=True)
class CatalogueEntry:
    """A service of the catalogue as one commune's admin sees it."""

    spec: ServiceSpec
    choice: CommuneService | None
    suggested_office: Office | None

    @property
    def enabled(self) -> bool:
        return self.choice is not None and self.choice.enabled

    @property
    def information_only(self) -> bool:
        return not self.spec.online or self.spec.form is None


@dataclass(frozen=True)
class CatalogueTopic:
    """The catalogue's services of one topic."""

    topic: str
    entries: list[CatalogueEntry] = field(default_factory=list)


def suggested_office(spec: ServiceSpec, offices: Iterable[Office]) -> Office | None:
    """The first active office whose kind is the service's office kind."""
    return next((o for o in offices if o.active and o.kind == spec.office_kind), None)


def commune_choices(commune: Commune) -> dict[str, CommuneService]:
    """The commune's rows of :class:`CommuneService`, by service slug."""
    rows = db.session.scalars(select(CommuneService).where(CommuneService.commune_id == commune.id))
    return {row.service_slug: row for row in rows}


def catalogue_for(commune: Commune) -> list[CatalogueTopic]:
    """The whole catalogue (as this commune sees it) grouped by topic, with the commune's choices."""
    specs = get_catalogue().for_commune(commune.slug)
    choices = commune_choices(commune)
    offices = [o for o in commune.offices if o.active]
    groups: dict[str, list[CatalogueEntry]] = {}
    for spec in specs.values():
        groups.setdefault(spec.topic, []).append(
            CatalogueEntry(spec, choices.get(spec.slug), suggested_office(spec, offices))
        )
    return [
        CatalogueTopic(topic, sorted(entries, key=lambda e: e.spec.title.casefold()))
        for topic, entries in sorted(groups.items(), key=lambda item: item[0].casefold())
    ]


def catalogue_service(commune: Commune, slug: str) -> ServiceSpec | None:
    """One service of the catalogue as this commune sees it, or None."""
    return get_catalogue().get(slug, commune.slug)


@dataclass(frozen=True)
class ServiceSettings:
    """What a commune admin chooses for one service."""

    enabled: bool
    office: Office | None = None
    featured: bool = False
    deliver_by_email: bool = True
    email_to: str = ""
    webhook_url: str = ""
    webhook_secret: str | None = None  # None keeps the stored secret
    retention_days: int | None = None
    fee_override: Decimal | None = None


_CHOICE_FIELDS = (
    "enabled",
    "office_id",
    "featured",
    "deliver_by_email",
    "email_to",
    "webhook_url",
    "retention_days",
    "fee_override",
)


def _choice_state(choice: CommuneService) -> dict[str, Any]:
    state = {key: getattr(choice, key) for key in _CHOICE_FIELDS}
    state["fee_override"] = str(state["fee_override"]) if state["fee_override"] is not None else None
    state["webhook_secret_set"] = bool(choice.webhook_secret_stored)
    return state


def configure_service(
    commune: Commune, spec: ServiceSpec, settings: ServiceSettings, *, origin: Origin
) -> CommuneService:
    """Switch a service on or off for ``commune`` and set its routing and channels.

    The receiving office must be an active office of the commune; an online service
    that is switched on needs one and at least one channel. Information-only services
    are only listed: office and channels are cleared.
    """
    information_only = not spec.online or spec.form is None
    office = settings.office
    if office is not None and (office.commune_id != commune.id or not office.active):
        raise AdminError(_("Bitte wählen Sie ein aktives Fachamt Ihrer Kommune."), "office")
    webhook_url = settings.webhook_url.strip()
    choice = db.session.scalar(
        select(CommuneService).where(
            CommuneService.commune_id == commune.id, CommuneService.service_slug == spec.slug
        )
    )
    # A kept secret stays as stored, not decrypted: saving works whatever the keys.
    has_secret = (
        bool(settings.webhook_secret)
        if settings.webhook_secret is not None
        else choice is not None and bool(choice.webhook_secret_stored)
    )
    if not information_only and settings.enabled:
        if office is None:
            raise AdminError(_("Bitte wählen Sie das Fachamt, das die Anträge empfängt."), "office")
        if not settings.deliver_by_email and not webhook_url:
            raise AdminError(
                _("Bitte wählen Sie mindestens einen Zustellweg: E-Mail oder Webhook."), "deliver_by_email"
            )
        if settings.deliver_by_email and not (settings.email_to or office.email):
            raise AdminError(
                _(
                    "Das Fachamt hat keine E-Mail-Adresse. Bitte geben Sie eine Empfangsadresse an "
                    "oder tragen Sie beim Fachamt eine ein."
                ),
                "email_to",
            )
    _check_email(settings.email_to, "email_to")
    if webhook_url and not has_secret:
        raise AdminError(_("Für den Webhook ist ein Schlüssel zum Signieren nötig."), "webhook_secret")
    if settings.retention_days is not None and not 1 <= settings.retention_days <= 3650:
        raise AdminError(_("Die Aufbewahrungsfrist liegt zwischen 1 und 3650 Tagen."), "retention_days")
    if settings.fee_override is not None and not Decimal(0) <= settings.fee_override < Decimal(100000):
        raise AdminError(_("Die Gebühr liegt zwischen 0 und 99.999,99 Euro."), "fee_override")
    created = choice is None
    if choice is None:
        choice = CommuneService(commune_id=commune.id, service_slug=spec.slug)
        db.session.add(choice)
    before = None if created else _choice_state(choice)
    choice.enabled = settings.enabled
    choice.featured = settings.featured
    if information_only:
        choice.office_id = None
        choice.deliver_by_email = False
        choice.email_to = ""
        choice.webhook_url = None
        choice.webhook_secret = None
        choice.retention_days = None
        choice.fee_override = None
    else:
        choice.office_id = office.id if office is not None else None
        choice.deliver_by_email = settings.deliver_by_email
        choice.email_to = settings.email_to.strip()
        choice.webhook_url = webhook_url or None
        if not webhook_url:
            choice.webhook_secret = None
        elif settings.webhook_secret is not None:
            choice.webhook_secret = settings.webhook_secret
        choice.retention_days = settings.retention_days
        choice.fee_override = settings.fee_override
    db.session.flush()
    after = _choice_state(choice)
    changes = after if before is None else _changes(before, after)
    if settings.webhook_secret is not None and before is not None and before["webhook_secret_set"]:
        changes["webhook_secret"] = ["***", "***"]
    if changes:
        record(
            AuditAction.SERVICE_CHANGED,
            origin=origin,
            commune_id=commune.id,
            object_type="service",
            object_id=spec.slug,
            details={"changes": changes} if not created else {"created": changes},
        )
    return choice


# -- the association: communes -----------------------------------------------------------

COMMUNE_FIELDS = ("name", "official_name", "short_code", "street", "postal_code", "town", "email", "phone")


def _check_commune(values: dict[str, Any], existing: Commune | None) -> None:
    if not values["name"]:
        raise AdminError(_("Bitte geben Sie den Namen der Kommune an."), "name")
    if not values["official_name"]:
        raise AdminError(_("Bitte geben Sie den amtlichen Namen an."), "official_name")
    if not SHORT_CODE.match(values["short_code"]):
        raise AdminError(_("Das Kürzel besteht aus 2 bis 6 Großbuchstaben, z. B. WER."), "short_code")
    clash = db.session.scalar(select(Commune).where(Commune.short_code == values["short_code"]))
    if clash is not None and clash is not existing:
        raise AdminError(
            _("Das Kürzel %(code)s hat schon %(name)s.", code=values["short_code"], name=clash.name),
            "short_code",
        )
    _check_email(values["email"], "email")


def create_commune(
    values: dict[str, Any],
    *,
    slug: str,
    admin_email: str,
    admin_name: str,
    link_for: Callable[[str], str],
    origin: Origin,
) -> Commune:
    """A new member commune with its required pages and its first admin, who is invited by e-mail."""
    # Imported on use: the editors' package is wired by the content feature; the staff area loads without it.
    from app.content.editing.required import ensure_required_pages

    values = {key: str(values[key]).strip() for key in COMMUNE_FIELDS}
    slug = slug.strip()
    if not is_valid_commune_slug(slug):
        raise AdminError(
            _(
                "Die Adresse besteht aus Kleinbuchstaben, Ziffern und Bindestrichen und darf kein "
                "reservierter Name sein (z. B. staff, api, search)."
            ),
            "slug",
        )
    if find_commune(slug) is not None:
        raise AdminError(_("Es gibt schon eine Kommune mit der Adresse „%(slug)s“.", slug=slug), "slug")
    _check_commune(values, None)
    if not accounts.EMAIL_PATTERN.match(admin_email.strip()):
        raise AdminError(_("Bitte geben Sie eine gültige E-Mail-Adresse an."), "admin_email")
    if accounts.find_user(admin_email) is not None:
        raise AdminError(_("Es gibt bereits ein Konto mit dieser E-Mail-Adresse."), "admin_email")
    commune = Commune(slug=slug, active=True, leitweg_ids=[], **values)
    db.session.add(commune)
    db.session.flush()
    _record_commune(
        AuditAction.COMMUNE_CREATED,
        commune,
        {"name": commune.name, "short_code": commune.short_code},
        origin=origin,
    )
    ensure_required_pages(commune)
    invite_user(
        commune=commune,
        email=admin_email,
        name=admin_name,
        role=Role.COMMUNE_ADMIN,
        link_for=link_for,
        origin=origin,
    )
    return commune


def update_commune(commune: Commune, values: dict[str, Any], *, origin: Origin) -> dict[str, list[Any]]:
    """Change a commune's name, official name, short code and contact (the slug stays)."""
    values = {key: str(values[key]).strip() for key in COMMUNE_FIELDS}
    _check_commune(values, commune)
    changes = _assign(commune, values)
    if changes:
        _record_commune(AuditAction.COMMUNE_CHANGED, commune, {"changes": changes}, origin=origin)
    return changes


def set_commune_active(commune: Commune, active: bool, *, origin: Origin) -> None:
    """Deactivate or reactivate a commune.

    A deactivated commune's public pages answer 410 and its staff cannot work in the
    portal (their sessions end now; see :func:`staff_blocked`); every row stays.
    """
    if commune.active == active:
        return
    commune.active = active
    if not active:
        db.session.execute(
            update(User)
            .where(User.commune_id == commune.id)
            .values(auth_generation=User.auth_generation + 1)
            .execution_options(synchronize_session="fetch")
        )
    db.session.flush()
    _record_commune(AuditAction.COMMUNE_CHANGED, commune, {"active": [not active, active]}, origin=origin)


def staff_blocked(user: User | None) -> bool:
    """Whether ``user`` belongs to a deactivated commune and may not work in the portal."""
    return user is not None and user.commune is not None and not user.commune.active


# -- the association: overviews -----------------------------------------------------------


@dataclass(frozen=True)
class ServiceMatrix:
    """Which commune offers which service: services as rows, communes as columns."""

    communes: list[Commune]
    services: list[ServiceSpec]
    offered: frozenset[tuple[int, str]]

    def offers(self, commune: Commune, service: ServiceSpec) -> bool:
        return (commune.id, service.slug) in self.offered


def service_matrix() -> ServiceMatrix:
    """The matrix of the association's catalogue against every commune."""
    communes = list(db.session.scalars(select(Commune).order_by(Commune.name)))
    services = sorted(get_catalogue().services.values(), key=lambda s: s.title.casefold())
    rows = db.session.execute(
        select(CommuneService.commune_id, CommuneService.service_slug).where(CommuneService.enabled)
    )
    return ServiceMatrix(communes, services, frozenset((row[0], row[1]) for row in rows))


def all_users(commune: Commune | None = None, role: Role | None = None) -> list[User]:
    """Every account (of one commune, of one role), by commune and name."""
    stmt = (
        select(User)
        .options(selectinload(User.commune), selectinload(User.offices))
        .order_by(User.commune_id.is_not(None), User.commune_id, User.name)
    )
    if commune is not None:
        stmt = stmt.where(User.commune_id == commune.id)
    if role is not None:
        stmt = stmt.where(User.role == role)
    return list(db.session.scalars(stmt))
