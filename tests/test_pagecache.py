"""The anonymous page cache: served to visitors without a session, never stale, never personal."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from factories import make_association, make_commune, make_office
from flask import Flask, flash, render_template_string, session
from flask.testing import FlaskClient
from flask_babel import refresh
from sqlalchemy import event, select, text, update
from sqlalchemy.engine import Engine
from staff.builders import log_in, make_user
from werkzeug.test import TestResponse

from app import create_app, pagecache
from app.catalogue.models import CommuneService
from app.content import services as content
from app.content.models import NewsItem, Page, PublicationState
from app.extensions import db
from app.staff.models import Role
from app.submissions.drafts import DRAFT_COOKIE
from app.tenancy.models import Association, Commune
from app.timeutil import utcnow

PUBLISHED = PublicationState.PUBLISHED


@pytest.fixture(scope="module")
def other_worker(app: Flask) -> Flask:
    """A second application on the same database: another gunicorn worker, with its own cache."""
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "STORAGE_DIR": app.config["STORAGE_DIR"],
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "MAIL_ENABLED": False,
            "SERVER_NAME": None,
            "DEMO_MODE": False,
        }
    )


class Statements:
    """Counts the SQL statements of one request: a page served from the cache runs exactly one."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: object) -> None:
        self.count += 1


@pytest.fixture
def statements(app: Flask) -> Iterator[Statements]:
    """Counts on every engine, those of the other applications of a test too."""
    counter = Statements()
    event.listen(Engine, "before_cursor_execute", counter)
    yield counter
    event.remove(Engine, "before_cursor_execute", counter)


def _get(
    client: FlaskClient, url: str, statements: Statements | None = None, **kwargs: object
) -> TestResponse:
    refresh()  # the suite shares one app context per test; Flask-Babel would keep the last locale
    if statements is not None:
        statements.count = 0
    return client.get(url, **kwargs)


def _served_from_cache(client: FlaskClient, url: str, statements: Statements, **kwargs: object) -> bool:
    _get(client, url, statements, **kwargs)
    return statements.count == 1


def _news(commune: Commune, title: str, **fields: object) -> NewsItem:
    fields.setdefault("state", PUBLISHED)
    fields.setdefault("news_date", date.today())
    item = content.create_news_item(commune, title, **fields)
    db.session.commit()
    return item


@pytest.fixture
def commune(app: Flask) -> Commune:
    make_association()
    return make_commune("wer", name="Werneuchen")


# -- what is served from the cache --------------------------------------------------------------


def test_second_request_is_served_from_the_cache_identically(
    client: FlaskClient, commune: Commune, statements: Statements
) -> None:
    _news(commune, "Straßenfest am Markt")
    first = _get(client, "/wer/news/", statements)
    assert statements.count > 1
    second = _get(client, "/wer/news/", statements)
    assert statements.count == 1
    assert second.status_code == first.status_code == 200
    assert second.get_data() == first.get_data()
    assert second.headers.to_wsgi_list() == first.headers.to_wsgi_list()
    assert "Straßenfest am Markt" in second.get_data(as_text=True)


@pytest.mark.parametrize(
    "url",
    ["/wer/", "/wer/news/", "/wer/news/fest", "/wer/events/", "/wer/events/archive", "/wer/contact",
     "/wer/rathaus", "/wer/services/", "/", "/barrierefreiheit", "/leichte-sprache"],
)
def test_every_public_page_is_cached(
    client: FlaskClient, commune: Commune, statements: Statements, url: str
) -> None:
    _news(commune, "Fest", slug="fest")
    content.create_page(commune, "Rathaus", slug="rathaus", state=PUBLISHED)
    db.session.commit()
    first = _get(client, url, statements)
    assert first.status_code == 200
    assert _served_from_cache(client, url, statements)
    assert _get(client, url).get_data() == first.get_data()


def test_search_and_the_feed_are_not_cached(
    client: FlaskClient, commune: Commune, statements: Statements
) -> None:
    for url in ("/wer/search?q=Fest", "/search?q=Fest", "/wer/news/feed.atom"):
        _get(client, url)
        assert not _served_from_cache(client, url, statements), url


def test_head_is_answered_from_the_entry_of_get_and_keeps_one_for_get(
    client: FlaskClient, commune: Commune, statements: Statements
) -> None:
    get = _get(client, "/wer/")
    head = client.head("/wer/")
    assert head.status_code == 200 and head.get_data() == b""
    assert head.headers["Content-Length"] == get.headers["Content-Length"]
    assert head.headers["Content-Security-Policy"] == get.headers["Content-Security-Policy"]

    client.head("/wer/contact")
    assert _served_from_cache(client, "/wer/contact", statements)
    assert "Kontakt" in _get(client, "/wer/contact").get_data(as_text=True)


def test_not_found_pages_are_not_cached(
    client: FlaskClient, commune: Commune, statements: Statements
) -> None:
    assert _get(client, "/wer/no-such-page").status_code == 404
    assert not _served_from_cache(client, "/wer/no-such-page", statements)
    assert _get(client, "/wer/news/no-such-item").status_code == 404
    assert not _served_from_cache(client, "/wer/news/no-such-item", statements)


def test_a_deactivated_commune_answers_410_at_once(client: FlaskClient, commune: Commune) -> None:
    assert _get(client, "/wer/").status_code == 200
    commune.active = False
    db.session.commit()
    assert _get(client, "/wer/").status_code == 410


# -- languages ----------------------------------------------------------------------------------


def test_lang_parameter_sets_its_cookie_on_every_cached_response(
    client: FlaskClient, commune: Commune, statements: Statements
) -> None:
    first = _get(client, "/wer/?lang=en")
    client.delete_cookie("lang")
    second = _get(client, "/wer/?lang=en", statements)
    assert statements.count == 1
    assert second.headers.to_wsgi_list() == first.headers.to_wsgi_list()
    assert "lang=en" in second.headers["Set-Cookie"]
    assert second.headers["Content-Language"] == "en"
    assert '<html lang="en">' in second.get_data(as_text=True)


def test_each_language_has_its_own_entry(client: FlaskClient, commune: Commune) -> None:
    german = _get(client, "/wer/contact", headers={"Accept-Language": "de"})
    english = _get(client, "/wer/contact", headers={"Accept-Language": "en"})
    again = _get(client, "/wer/contact", headers={"Accept-Language": "de"})
    assert german.headers["Content-Language"] == again.headers["Content-Language"] == "de"
    assert english.headers["Content-Language"] == "en"
    assert '<html lang="en">' in english.get_data(as_text=True)
    assert again.get_data() == german.get_data()
    assert {"Accept-Language", "Cookie"} <= set(again.vary)


# -- who never gets a cached page ----------------------------------------------------------------


def _change_title_behind_the_cache(item: NewsItem, title: str) -> None:
    """A change the ORM does not see: cached pages keep the old title, fresh ones show the new."""
    db.session.execute(update(NewsItem).where(NewsItem.id == item.id).values(title=title))
    db.session.commit()


def test_logged_in_staff_bypass_the_cache(client: FlaskClient, commune: Commune) -> None:
    item = _news(commune, "Alter Titel", slug="meldung")
    anonymous = client.application.test_client()
    assert "Alter Titel" in _get(anonymous, "/wer/news/meldung").get_data(as_text=True)
    user = make_user(Role.COMMUNE_ADMIN, commune=commune)
    assert log_in(client, user).status_code == 302
    _change_title_behind_the_cache(item, "Neuer Titel")
    assert "Alter Titel" in _get(anonymous, "/wer/news/meldung").get_data(as_text=True)
    assert "Neuer Titel" in _get(client, "/wer/news/meldung").get_data(as_text=True)


def test_a_session_is_never_kept_in_the_cache(client: FlaskClient, commune: Commune) -> None:
    item = _news(commune, "Alter Titel", slug="meldung")
    with client.session_transaction() as data:
        data["_flashes"] = [("info", "Gespeichert.")]
    flashed = _get(client, "/wer/news/meldung").get_data(as_text=True)
    assert "Gespeichert." in flashed
    _change_title_behind_the_cache(item, "Neuer Titel")
    anonymous = client.application.test_client()
    page = _get(anonymous, "/wer/news/meldung").get_data(as_text=True)
    assert "Neuer Titel" in page and "Gespeichert." not in page


def test_draft_holders_bypass_the_cache(client: FlaskClient, commune: Commune) -> None:
    item = _news(commune, "Alter Titel", slug="meldung")
    _get(client, "/wer/news/meldung")
    _change_title_behind_the_cache(item, "Neuer Titel")
    assert "Alter Titel" in _get(client, "/wer/news/meldung").get_data(as_text=True)
    client.set_cookie(DRAFT_COOKIE, "a-draft-token")
    assert "Neuer Titel" in _get(client, "/wer/news/meldung").get_data(as_text=True)


@pytest.fixture
def probe_app(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """An application with a page that does what no public page does (yet): the cache must refuse it."""
    probe = create_app({**app.config, "SECRET_KEY": "probe-secret"})

    @probe.get("/probe/<behaviour>")
    def probe_page(behaviour: str) -> tuple[str, int] | object:
        db.session.execute(text("SELECT 1"))  # so that rendering it runs more than the cache's query
        if behaviour == "cookie":
            response = probe.make_response("Seite")
            response.set_cookie("tracking", "1")
            return response
        if behaviour == "flash":
            flash("Gespeichert.")
        if behaviour == "session":
            session["seen"] = True
        if behaviour == "nonce":
            return render_template_string('<script nonce="{{ csp_nonce() }}">1</script>')
        if behaviour == "private":
            response = probe.make_response("Seite")
            response.cache_control.private = True
            return response
        return ("Seite", 500) if behaviour == "error" else "Seite"

    monkeypatch.setattr(pagecache, "CACHED_ENDPOINTS", pagecache.CACHED_ENDPOINTS | {"probe_page"})
    return probe


@pytest.mark.parametrize("behaviour", ["cookie", "flash", "session", "nonce", "private", "error"])
def test_responses_that_are_personal_or_failed_are_not_kept(
    probe_app: Flask, statements: Statements, behaviour: str
) -> None:
    make_association()
    client = probe_app.test_client()
    client.get(f"/probe/{behaviour}")
    client = probe_app.test_client()  # no cookie the first answer may have set
    assert not _served_from_cache(client, f"/probe/{behaviour}", statements)


def test_a_plain_probe_page_is_kept(probe_app: Flask, statements: Statements) -> None:
    make_association()
    probe_app.test_client().get("/probe/plain")
    assert _served_from_cache(probe_app.test_client(), "/probe/plain", statements)


def test_a_nonce_is_in_the_policy_of_its_response(probe_app: Flask) -> None:
    make_association()
    response = probe_app.test_client().get("/probe/nonce")
    nonce = response.get_data(as_text=True).split('nonce="')[1].split('"')[0]
    assert f"'nonce-{nonce}'" in response.headers["Content-Security-Policy"]


# -- invalidation across workers ----------------------------------------------------------------


def _both_see(app: Flask, other_worker: Flask, url: str) -> tuple[str, str]:
    pages = []
    for worker in (app, other_worker):
        with worker.app_context():
            pages.append(_get(worker.test_client(), url).get_data(as_text=True))
            db.session.remove()
    return pages[0], pages[1]


def test_an_edit_in_one_worker_shows_in_every_worker(
    app: Flask, other_worker: Flask, commune: Commune
) -> None:
    item = _news(commune, "Alter Titel", slug="meldung")
    for url in ("/wer/news/meldung", "/wer/news/", "/wer/"):
        assert all("Alter Titel" in page for page in _both_see(app, other_worker, url))
    with other_worker.app_context():
        other = db.session.get(NewsItem, item.id)
        other.title = "Neuer Titel"
        db.session.commit()
        db.session.remove()
    for url in ("/wer/news/meldung", "/wer/news/", "/wer/"):
        pages = _both_see(app, other_worker, url)
        assert all("Neuer Titel" in page and "Alter Titel" not in page for page in pages), url


def test_publish_and_retract_show_in_every_worker(app: Flask, other_worker: Flask, commune: Commune) -> None:
    item = _news(commune, "Geheimer Plan", slug="plan", state=PublicationState.PRIVATE)
    assert all("Geheimer Plan" not in page for page in _both_see(app, other_worker, "/wer/news/"))
    content.publish(item)
    db.session.commit()
    assert all("Geheimer Plan" in page for page in _both_see(app, other_worker, "/wer/news/"))
    with other_worker.app_context():
        content.retract(db.session.get(NewsItem, item.id))
        db.session.commit()
        db.session.remove()
    assert all("Geheimer Plan" not in page for page in _both_see(app, other_worker, "/wer/news/"))


def test_deleting_an_item_shows_in_every_worker(app: Flask, other_worker: Flask, commune: Commune) -> None:
    item = _news(commune, "Bald weg", slug="weg")
    assert all("Bald weg" in page for page in _both_see(app, other_worker, "/wer/news/"))
    db.session.delete(item)
    db.session.commit()
    assert all("Bald weg" not in page for page in _both_see(app, other_worker, "/wer/news/"))


def test_profile_offices_and_services_show_in_every_worker(
    app: Flask, other_worker: Flask, commune: Commune
) -> None:
    office = make_office(commune, name="Ordnungsamt")
    assert all("Ordnungsamt" in page for page in _both_see(app, other_worker, "/wer/contact"))
    office.name = "Bürgeramt"
    db.session.commit()
    assert all("Bürgeramt" in page for page in _both_see(app, other_worker, "/wer/contact"))

    commune.phone = "033398 99999"
    db.session.commit()
    assert all("033398 99999" in page for page in _both_see(app, other_worker, "/wer/contact"))

    assert all("Hundesteuer" not in page for page in _both_see(app, other_worker, "/wer/services/"))
    db.session.add(CommuneService(commune_id=commune.id, service_slug="hund-anmelden", office_id=office.id))
    db.session.commit()
    assert all("Hundesteuer" in page for page in _both_see(app, other_worker, "/wer/services/"))


def test_the_portal_home_follows_the_association_and_its_communes(
    app: Flask, other_worker: Flask, commune: Commune
) -> None:
    assert all("Werneuchen" in page for page in _both_see(app, other_worker, "/"))
    commune.name = "Stadt Werneuchen an der Panke"
    db.session.commit()
    assert all("Werneuchen an der Panke" in page for page in _both_see(app, other_worker, "/"))
    association = db.session.scalars(select(Association)).one()
    association.name = "Zweckverband Digitales Barnim"
    db.session.commit()
    assert all("Digitales Barnim" in page for page in _both_see(app, other_worker, "/"))


# -- time ---------------------------------------------------------------------------------------


def _wait_until(moment: object) -> None:
    while utcnow() <= moment:  # type: ignore[operator]
        time.sleep(0.05)


def test_scheduled_publication_and_expiry_show_without_any_edit(
    app: Flask, other_worker: Flask, commune: Commune
) -> None:
    soon = utcnow() + timedelta(seconds=1.5)
    _news(commune, "Ab gleich", slug="ab-gleich", effective_at=soon)
    _news(commune, "Nur kurz", slug="nur-kurz", expires_at=soon)
    for page in _both_see(app, other_worker, "/wer/news/"):
        assert "Nur kurz" in page and "Ab gleich" not in page
    _wait_until(soon)
    for page in _both_see(app, other_worker, "/wer/news/"):
        assert "Ab gleich" in page and "Nur kurz" not in page


def test_next_scheduled_change_is_the_first_effective_expiry_or_event_end(commune: Commune) -> None:
    now = utcnow()
    assert pagecache.next_scheduled_change(commune.id, now) is None
    content.create_event(commune, "Konzert", starts_at=now + timedelta(days=1), state=PUBLISHED)
    event_end = now + timedelta(days=1)
    db.session.commit()
    assert pagecache.next_scheduled_change(commune.id, now) == event_end
    _news(commune, "Bald", effective_at=now + timedelta(hours=5))
    _news(commune, "Entwurf", effective_at=now + timedelta(hours=1), state=PublicationState.PRIVATE)
    assert pagecache.next_scheduled_change(commune.id, now) == now + timedelta(hours=5)
    content.create_page(commune, "Aushang", expires_at=now + timedelta(hours=2), state=PUBLISHED)
    db.session.commit()
    assert pagecache.next_scheduled_change(commune.id, now) == now + timedelta(hours=2)
    other = make_commune()
    _news(other, "Anderswo", effective_at=now + timedelta(minutes=1))
    assert pagecache.next_scheduled_change(commune.id, now) == now + timedelta(hours=2)


# -- generations --------------------------------------------------------------------------------


def _generations(commune: Commune) -> tuple[str, str]:
    db.session.expire_all()
    association = db.session.scalars(select(Association)).one()
    return db.session.get(Commune, commune.id).content_generation, association.content_generation


def test_content_changes_give_only_their_commune_a_new_generation(commune: Commune) -> None:
    other = make_commune()
    before, association = _generations(commune)
    other_before, _ = _generations(other)
    page = content.create_page(commune, "Rathaus", state=PUBLISHED)
    db.session.commit()
    after, association_after = _generations(commune)
    assert after != before
    assert association_after == association
    assert _generations(other)[0] == other_before
    page.body = "Neu"
    db.session.commit()
    assert _generations(commune)[0] != after


def test_an_office_changed_or_deleted_after_a_commit_changes_the_generation(commune: Commune) -> None:
    office = make_office(commune, name="Ordnungsamt")  # committed: every attribute expired
    before = _generations(commune)[0]
    office.name = "Bürgeramt"
    db.session.commit()
    after = _generations(commune)[0]
    assert after != before
    db.session.delete(office)  # expired again by the commit
    db.session.commit()
    assert _generations(commune)[0] != after


def test_unrelated_changes_keep_the_generation(commune: Commune) -> None:
    before = _generations(commune)
    make_user(Role.CLERK, commune=commune)
    assert _generations(commune) == before


def test_a_page_deleted_with_its_parent_changes_the_generation(commune: Commune) -> None:
    parent = content.create_page(commune, "Rathaus", state=PUBLISHED)
    content.create_page(commune, "Bürgermeister", parent=parent, state=PUBLISHED)
    db.session.commit()
    before = _generations(commune)[0]
    db.session.delete(db.session.get(Page, parent.id))
    db.session.commit()
    assert _generations(commune)[0] != before


# -- configuration ------------------------------------------------------------------------------


def test_an_unreachable_redis_never_breaks_a_page(app: Flask, commune: Commune) -> None:
    broken = create_app(
        {**app.config, "CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": "redis://127.0.0.1:1/0"}
    )
    with broken.app_context():
        response = broken.test_client().get("/wer/")
        db.session.remove()
    assert response.status_code == 200
    assert "Werneuchen" in response.get_data(as_text=True)


def test_null_cache_turns_the_cache_off(app: Flask, commune: Commune, statements: Statements) -> None:
    off = create_app({**app.config, "CACHE_TYPE": "NullCache"})
    with off.app_context():
        off.test_client().get("/wer/")
        assert not _served_from_cache(off.test_client(), "/wer/", statements)
        db.session.remove()


def test_the_release_fingerprint_follows_the_form_definitions(app: Flask, tmp_path: Path) -> None:
    forms = tmp_path / "forms"
    (forms / "catalogue").mkdir(parents=True)
    (forms / "catalogue" / "a.yaml").write_text("title: A\n")
    probe = Flask(__name__)
    probe.config.update({**app.config, "FORMS_DIR": str(forms)})
    before = pagecache.release_fingerprint(probe)
    (forms / "catalogue" / "a.yaml").write_text("title: B\n")
    assert pagecache.release_fingerprint(probe) != before
