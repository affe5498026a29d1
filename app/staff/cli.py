"""``flask --app wsgi users ...``: staff accounts from the command line.

Exit codes: 0 done, 1 refused (unknown commune or office, weak password, ...),
2 wrong usage (click's own).
"""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from app.extensions import db
from app.staff import services
from app.staff.audit import Origin
from app.staff.models import Role, User
from app.staff.passwords import PasswordPolicyError
from app.tenancy.models import Commune
from app.tenancy.services import find_commune

cli = AppGroup("users", help="Staff accounts: create, set passwords, disable, list.")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise click.ClickException(_("Auf der Standardeingabe kam kein Passwort an."))
        return password
    return click.prompt(_("Passwort"), hide_input=True, confirmation_prompt=_("Passwort wiederholen"))


def _commune(slug: str) -> Commune:
    commune = find_commune(slug)
    if commune is None:
        raise click.ClickException(_("Es gibt keine Kommune mit dem Kürzel „%(slug)s“.", slug=slug))
    return commune


def _user(email: str) -> User:
    user = services.find_user(email)
    if user is None:
        raise click.ClickException(_("Es gibt kein Konto mit der E-Mail-Adresse %(email)s.", email=email))
    return user


@cli.command("create")
@click.option("--email", required=True, help="E-mail address; it is the login name.")
@click.option("--name", required=True, help="Full name as colleagues see it.")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]), help="What the user does.")
@click.option(
    "--commune", "commune_slug", help="Slug of the user's commune (all roles but association_admin)."
)
@click.option("--office", "office_slugs", multiple=True, help="Slug of an office of the commune; repeatable.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def create(
    email: str,
    name: str,
    role: str,
    commune_slug: str | None,
    office_slugs: tuple[str, ...],
    password_stdin: bool,
) -> None:
    """Create a staff account."""
    role_value = Role(role)
    commune = _commune(commune_slug) if commune_slug else None
    if role_value.needs_commune and commune is None:
        raise click.ClickException(_("Die Rolle %(role)s braucht --commune.", role=role_value.value))
    try:
        offices = services.find_offices(commune, office_slugs) if commune and office_slugs else []
        if office_slugs and commune is None:
            raise services.AccountError(_("Fachämter gibt es nur innerhalb einer Kommune."))
        if services.find_user(email) is not None:
            raise services.AccountError(_("Es gibt bereits ein Konto mit dieser E-Mail-Adresse."))
        password = _read_password(password_stdin)
        user = services.create_user(
            email=email,
            name=name,
            role=role_value,
            commune=commune,
            offices=offices,
            password=password,
            origin=Origin.command("users create"),
        )
    except (services.AccountError, PasswordPolicyError) as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(_("Konto %(email)s angelegt (%(role)s).", email=user.email, role=role_value.label))


@cli.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def set_password(email: str, password_stdin: bool) -> None:
    """Set a new password; the account's open sessions end."""
    user = _user(email)
    password = _read_password(password_stdin)
    try:
        services.set_password(user, password, origin=Origin.command("users set-password"))
    except PasswordPolicyError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(_("Neues Passwort für %(email)s gesetzt.", email=user.email))


@cli.command("disable")
@click.argument("email")
def disable(email: str) -> None:
    """Disable an account; it can no longer log in and its sessions end."""
    user = _user(email)
    if not user.active:
        click.echo(_("Das Konto %(email)s ist bereits deaktiviert.", email=user.email))
        return
    services.set_active(user, False, origin=Origin.command("users disable"))
    db.session.commit()
    click.echo(_("Konto %(email)s deaktiviert.", email=user.email))


@cli.command("list")
@click.option("--commune", "commune_slug", help="Only the accounts of this commune.")
def list_users(commune_slug: str | None) -> None:
    """List accounts: e-mail, role, commune, offices, state, 2FA."""
    commune = _commune(commune_slug) if commune_slug else None
    for user in services.list_users(commune):
        columns = [
            user.email,
            user.role.value,
            user.commune.slug if user.commune else "-",
            ",".join(office.slug for office in user.offices) or "-",
            "active" if user.active else "disabled",
            "2fa" if user.two_factor_enabled else "no-2fa",
        ]
        click.echo("\t".join(columns))
