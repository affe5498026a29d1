"""Who sees what: the permission rules and the view helpers, across two communes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from factories import make_commune, make_office
from flask import Flask
from flask.testing import FlaskClient
from flask_login import login_user
from sqlalchemy import select
from werkzeug.exceptions import Forbidden, NotFound

from app.extensions import db
from app.staff import permissions
from app.staff.auth import association_scope, commune_scope, office_scope
from app.staff.models import Role, User
from app.staff.navigation import (
    EXTENSION_KEY,
    StaffSection,
    add_staff_section,
    association_links,
    commune_links,
)
from app.staff.permissions import Permission, may, may_see_commune, may_see_office
from app.tenancy.models import Commune, Office

from .builders import log_in, make_user


@dataclass
class World:
    a: Commune
    b: Commune
    a1: Office
    a2: Office
    b1: Office
    association_admin: User
    admin_a: User
    clerk_a1: User
    editor_a: User
    clerk_b1: User


@pytest.fixture
def world(app: Flask) -> World:
    a = make_commune("amt-a", name="Gemeinde A")
    b = make_commune("amt-b", name="Gemeinde B")
    a1, a2, b1 = make_office(a, "buergeramt"), make_office(a, "bauamt"), make_office(b, "buergeramt")
    return World(
        a=a,
        b=b,
        a1=a1,
        a2=a2,
        b1=b1,
        association_admin=make_user(Role.ASSOCIATION_ADMIN),
        admin_a=make_user(Role.COMMUNE_ADMIN, commune=a),
        clerk_a1=make_user(Role.CLERK, commune=a, offices=[a1]),
        editor_a=make_user(Role.EDITOR, commune=a),
        clerk_b1=make_user(Role.CLERK, commune=b, offices=[b1]),
    )


def test_who_sees_which_commune(world: World) -> None:
    w = world
    assert may_see_commune(w.association_admin, w.a) and may_see_commune(w.association_admin, w.b)
    for user in (w.admin_a, w.clerk_a1, w.editor_a):
        assert may_see_commune(user, w.a)
        assert not may_see_commune(user, w.b)
    assert not may_see_commune(None, w.a)


def test_who_sees_which_office(world: World) -> None:
    w = world
    assert all(may_see_office(w.association_admin, o) for o in (w.a1, w.a2, w.b1))
    assert may_see_office(w.admin_a, w.a1) and may_see_office(w.admin_a, w.a2)
    assert not may_see_office(w.admin_a, w.b1)
    assert may_see_office(w.clerk_a1, w.a1)
    assert not may_see_office(w.clerk_a1, w.a2)
    assert not may_see_office(w.clerk_a1, w.b1)
    assert not may_see_office(w.editor_a, w.a1)


def test_a_clerk_keeps_no_office_of_another_commune(world: World) -> None:
    """Even a mis-assigned office of a foreign commune does not open that commune."""
    w = world
    w.clerk_a1.offices.append(w.b1)
    db.session.commit()
    assert not may_see_office(w.clerk_a1, w.b1)
    assert permissions.visible_offices(w.clerk_a1, w.b) == []


@pytest.mark.parametrize(
    ("role_name", "allowed"),
    [
        ("association_admin", set(Permission)),
        ("admin_a", set(Permission) - {Permission.MANAGE_ASSOCIATION}),
        (
            "clerk_a1",
            {Permission.VIEW_SUBMISSIONS, Permission.PROCESS_SUBMISSIONS, Permission.EXPORT_SUBMISSIONS},
        ),
        ("editor_a", {Permission.EDIT_CONTENT}),
    ],
)
def test_permissions_by_role_in_the_own_commune(
    world: World, role_name: str, allowed: set[Permission]
) -> None:
    user = getattr(world, role_name)
    assert {p for p in Permission if may(user, p, world.a)} == allowed
    if user.role is not Role.ASSOCIATION_ADMIN:
        assert not any(may(user, p, world.b) for p in Permission)
        assert not may(user, Permission.MANAGE_ASSOCIATION)


def test_editors_publish_only_where_the_commune_allows_it(world: World) -> None:
    assert not may(world.editor_a, Permission.PUBLISH_CONTENT, world.a)
    world.a.editors_may_publish = True
    db.session.commit()
    assert may(world.editor_a, Permission.PUBLISH_CONTENT, world.a)


def test_a_disabled_account_may_nothing(world: World) -> None:
    world.admin_a.active = False
    db.session.commit()
    assert not may_see_commune(world.admin_a, world.a)
    assert not any(may(world.admin_a, p, world.a) for p in Permission)


def test_office_filter_narrows_queries_to_the_users_offices(world: World) -> None:
    w = world

    def visible(user: User, commune: Commune) -> set[str]:
        stmt = select(Office.slug).where(
            Office.commune_id == commune.id, permissions.office_filter(user, commune, Office.id)
        )
        return set(db.session.scalars(stmt))

    assert visible(w.association_admin, w.a) == {"buergeramt", "bauamt"}
    assert visible(w.admin_a, w.a) == {"buergeramt", "bauamt"}
    assert visible(w.clerk_a1, w.a) == {"buergeramt"}
    assert visible(w.editor_a, w.a) == set()
    assert visible(w.admin_a, w.b) == set()
    assert visible(w.clerk_b1, w.a) == set()


def test_visible_communes(world: World) -> None:
    assert [c.slug for c in permissions.visible_communes(world.association_admin)] == ["amt-a", "amt-b"]
    assert permissions.visible_communes(world.clerk_a1) == [world.a]


@contextmanager
def _as(app: Flask, user: User) -> Iterator[None]:
    """A staff request context with ``user`` logged in."""
    with app.test_request_context("/staff/"):
        login_user(user)
        yield


def test_commune_scope_answers_404_for_foreign_and_unknown_communes(app: Flask, world: World) -> None:
    with _as(app, world.admin_a):
        assert commune_scope("amt-a") is world.a
        with pytest.raises(NotFound):
            commune_scope("amt-b")
        with pytest.raises(NotFound):
            commune_scope("gibt-es-nicht")
        with pytest.raises(NotFound):
            association_scope()


def test_commune_scope_answers_403_for_a_missing_permission_in_the_own_commune(
    app: Flask, world: World
) -> None:
    with _as(app, world.clerk_a1):
        assert commune_scope("amt-a", Permission.VIEW_SUBMISSIONS) is world.a
        with pytest.raises(Forbidden):
            commune_scope("amt-a", Permission.MANAGE_USERS)
        with pytest.raises(NotFound):
            commune_scope("amt-b", Permission.VIEW_SUBMISSIONS)


def test_office_scope(app: Flask, world: World) -> None:
    with _as(app, world.clerk_a1):
        assert office_scope(world.a, "buergeramt") is world.a1
        assert office_scope(world.a, world.a1.id) is world.a1
        assert office_scope(world.a, str(world.a1.id)) is world.a1
        for foreign in ("bauamt", world.a2.id, world.b1.id, "gibt-es-nicht"):
            with pytest.raises(NotFound):
                office_scope(world.a, foreign)
        with pytest.raises(NotFound):
            office_scope(world.b, "buergeramt")


@pytest.mark.parametrize(
    ("user_name", "path", "status"),
    [
        ("association_admin", "/staff/amt-a/audit", 200),
        ("association_admin", "/staff/amt-b/audit", 200),
        ("association_admin", "/staff/association/audit", 200),
        ("admin_a", "/staff/amt-a/audit", 200),
        ("admin_a", "/staff/amt-b/audit", 404),
        ("admin_a", "/staff/gibt-es-nicht/audit", 404),
        ("admin_a", "/staff/association/audit", 404),
        ("clerk_a1", "/staff/amt-a/audit", 403),
        ("clerk_a1", "/staff/amt-b/audit", 404),
        ("editor_a", "/staff/amt-a/audit", 403),
        ("clerk_b1", "/staff/amt-a/audit", 404),
        ("clerk_b1", "/staff/association/audit", 404),
    ],
)
def test_audit_pages_by_role(
    client: FlaskClient, world: World, user_name: str, path: str, status: int
) -> None:
    log_in(client, getattr(world, user_name))
    assert client.get(path).status_code == status


def test_dashboard_lists_only_the_users_workplaces(client: FlaskClient, world: World) -> None:
    log_in(client, world.clerk_a1)
    page = client.get("/staff/").get_data(as_text=True)
    assert "Gemeinde A" in page
    assert "Gemeinde B" not in page
    assert world.a1.name in page
    assert world.a2.name not in page


def test_who_may_manage_whose_account(world: World) -> None:
    w = world
    assert permissions.may_manage_user(w.association_admin, w.clerk_b1)
    assert permissions.may_manage_user(w.association_admin, w.admin_a)
    assert permissions.may_manage_user(w.admin_a, w.clerk_a1)
    assert permissions.may_manage_user(w.admin_a, w.editor_a)
    assert not permissions.may_manage_user(w.admin_a, w.clerk_b1)
    assert not permissions.may_manage_user(w.admin_a, w.association_admin)
    assert not permissions.may_manage_user(w.clerk_a1, w.editor_a)
    assert not permissions.may_manage_user(w.editor_a, w.clerk_a1)


def test_which_roles_an_admin_may_give(world: World) -> None:
    assert permissions.assignable_roles(world.association_admin) == list(Role)
    assert Role.ASSOCIATION_ADMIN not in permissions.assignable_roles(world.admin_a)
    assert permissions.assignable_roles(world.clerk_a1) == []


def test_navigation_links_only_sections_that_exist_and_are_allowed(app: Flask, world: World) -> None:
    saved = list(app.extensions[EXTENSION_KEY])
    add_staff_section(app, StaffSection("nowhere.index", "Nirgendwo", Permission.VIEW_SUBMISSIONS, order=1))
    try:
        with _as(app, world.admin_a):
            admin_links = [link.endpoint for link in commune_links(world.admin_a, world.a)]
            assert "staff.commune_audit" in admin_links
            assert "nowhere.index" not in admin_links
            assert "staff.commune_audit" not in [
                link.endpoint for link in commune_links(world.clerk_a1, world.a)
            ]
            assert association_links(world.admin_a) == []
            assert "/staff/association/audit" in [
                link.url for link in association_links(world.association_admin)
            ]
    finally:
        app.extensions[EXTENSION_KEY] = saved
