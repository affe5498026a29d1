"""``flask users ...`` with click's CliRunner."""

from __future__ import annotations

import pytest
from factories import make_commune, make_office
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from app.extensions import db
from app.staff import passwords, services
from app.staff.models import AuditAction, AuditEntry, Role

from .builders import make_user

GOOD = "Kiefern am Werbellinsee 7"


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def test_create_a_clerk_with_offices_from_stdin(runner: FlaskCliRunner) -> None:
    commune = make_commune("werneuchen")
    make_office(commune, "buergeramt")
    make_office(commune, "bauamt")
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Clara@Werneuchen.example",
            "--name",
            "Clara Clerk",
            "--role",
            "clerk",
            "--commune",
            "werneuchen",
            "--office",
            "buergeramt",
            "--office",
            "bauamt",
            "--password-stdin",
        ],
        input=GOOD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "clara@werneuchen.example" in result.output
    user = services.find_user("clara@werneuchen.example")
    assert user is not None
    assert user.role is Role.CLERK and user.commune_id == commune.id
    assert sorted(o.slug for o in user.offices) == ["bauamt", "buergeramt"]
    assert passwords.verify_password(user.password_hash, GOOD)[0]
    entry = db.session.scalar(select(AuditEntry))
    assert entry is not None and entry.action is AuditAction.USER_CREATED
    assert entry.user_agent == "cli: users create"


def test_create_prompts_for_the_password_twice(runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["users", "create", "--email", "v@example.org", "--name", "V", "--role", "association_admin"],
        input=f"{GOOD}\n{GOOD}\n",
    )
    assert result.exit_code == 0, result.output
    assert services.find_user("v@example.org") is not None


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--role", "clerk", "--commune", "gibt-es-nicht"], GOOD, "keine Kommune"),
        (["--role", "clerk"], GOOD, "braucht --commune"),
        (["--role", "clerk", "--commune", "werneuchen", "--office", "zoo"], GOOD, "kein Fachamt zoo"),
        (["--role", "association_admin", "--commune", "werneuchen"], GOOD, "keiner einzelnen Kommune"),
        (["--role", "editor", "--commune", "werneuchen"], "kurz", "mindestens 12 Zeichen"),
        (["--role", "editor", "--commune", "werneuchen"], "passwort1234", "sehr häufig"),
        (["--role", "editor", "--commune", "werneuchen"], "", "kein Passwort"),
    ],
)
def test_create_refuses_with_a_clear_message_and_exit_code_1(
    runner: FlaskCliRunner, args: list[str], stdin: str, message: str
) -> None:
    make_commune("werneuchen")
    result = runner.invoke(
        args=["users", "create", "--email", "x@example.org", "--name", "X", *args, "--password-stdin"],
        input=stdin + "\n",
    )
    assert result.exit_code == 1
    assert message in result.output
    assert services.find_user("x@example.org") is None


def test_create_refuses_an_existing_address(runner: FlaskCliRunner) -> None:
    make_user(Role.ASSOCIATION_ADMIN, email="da@example.org")
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "DA@example.org",
            "--name",
            "X",
            "--role",
            "association_admin",
            "--password-stdin",
        ],
        input=GOOD + "\n",
    )
    assert result.exit_code == 1
    assert "bereits ein Konto" in result.output


def test_an_unknown_role_is_a_usage_error(runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["users", "create", "--email", "x@example.org", "--name", "X", "--role", "chef"]
    )
    assert result.exit_code == 2


def test_set_password_ends_sessions_and_refuses_weak_ones(runner: FlaskCliRunner) -> None:
    user = make_user(Role.ASSOCIATION_ADMIN)
    weak = runner.invoke(args=["users", "set-password", user.email, "--password-stdin"], input="kurz\n")
    assert weak.exit_code == 1 and "mindestens 12 Zeichen" in weak.output
    done = runner.invoke(
        args=["users", "set-password", user.email.upper(), "--password-stdin"], input=GOOD + "\n"
    )
    assert done.exit_code == 0, done.output
    db.session.refresh(user)
    assert passwords.verify_password(user.password_hash, GOOD)[0]
    assert user.auth_generation == 2
    unknown = runner.invoke(args=["users", "set-password", "nie@example.org", "--password-stdin"], input=GOOD)
    assert unknown.exit_code == 1 and "kein Konto" in unknown.output


def test_disable(runner: FlaskCliRunner) -> None:
    user = make_user(Role.ASSOCIATION_ADMIN)
    result = runner.invoke(args=["users", "disable", user.email])
    assert result.exit_code == 0
    db.session.refresh(user)
    assert not user.active
    again = runner.invoke(args=["users", "disable", user.email])
    assert again.exit_code == 0 and "bereits deaktiviert" in again.output
    assert runner.invoke(args=["users", "disable", "nie@example.org"]).exit_code == 1


def test_list_all_or_one_commune(runner: FlaskCliRunner) -> None:
    a, b = make_commune("alpha"), make_commune("beta")
    office = make_office(a, "buergeramt")
    make_user(Role.CLERK, commune=a, offices=[office], email="c@alpha.example")
    make_user(Role.EDITOR, commune=b, email="e@beta.example")
    make_user(Role.ASSOCIATION_ADMIN, email="v@example.org")
    everyone = runner.invoke(args=["users", "list"])
    assert everyone.exit_code == 0
    lines = everyone.output.splitlines()
    assert lines[0].split("\t")[:3] == ["v@example.org", "association_admin", "-"]
    assert "c@alpha.example\tclerk\talpha\tbuergeramt\tactive\tno-2fa" in lines
    only_alpha = runner.invoke(args=["users", "list", "--commune", "alpha"])
    assert only_alpha.output.splitlines() == ["c@alpha.example\tclerk\talpha\tbuergeramt\tactive\tno-2fa"]
    assert runner.invoke(args=["users", "list", "--commune", "gamma"]).exit_code == 1
