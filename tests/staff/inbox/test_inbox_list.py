"""The inbox list: scope, filters, full-text search, sorting, keyset pages and status counts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from submission_builders import Place, inbox_answers, make_submission

from app.formspec import ServiceSpec
from app.staff.inbox.services import InboxFilter, SortOrder, inbox_page, status_counts
from app.staff.models import Role
from app.submissions.models import SubmissionStatus
from staff.builders import log_in, make_user

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _references(client: FlaskClient, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, response.text
    return re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a>', response.text)


def test_clerk_sees_only_their_offices_and_a_commune_admin_every_office(
    client: FlaskClient, service: ServiceSpec, place: Place, foreign: Place
) -> None:
    mine = make_submission(service, place.commune, place.office)
    other_office = make_submission(service, place.commune, place.other_office)
    other_commune = make_submission(service, foreign.commune, foreign.office)
    clerk = make_user(Role.CLERK, commune=place.commune, offices=[place.office])
    admin = make_user(Role.COMMUNE_ADMIN, commune=place.commune)

    log_in(client, clerk)
    assert _references(client, f"/staff/{place.commune.slug}/inbox") == [mine.reference]
    client.post("/staff/logout")
    log_in(client, admin)
    seen = _references(client, f"/staff/{place.commune.slug}/inbox")
    assert sorted(seen) == sorted([mine.reference, other_office.reference])
    assert other_commune.reference not in seen


def test_office_filter_narrows_and_a_clerk_asking_for_a_foreign_office_gets_404(
    client: FlaskClient, service: ServiceSpec, place: Place
) -> None:
    first = make_submission(service, place.commune, place.office)
    second = make_submission(service, place.commune, place.other_office)
    admin = make_user(Role.COMMUNE_ADMIN, commune=place.commune)
    log_in(client, admin)
    url = f"/staff/{place.commune.slug}/inbox?office={place.other_office.id}"
    assert _references(client, url) == [second.reference]
    assert first.reference not in _references(client, url)
    client.post("/staff/logout")
    clerk = make_user(Role.CLERK, commune=place.commune, offices=[place.office])
    log_in(client, clerk)
    assert client.get(url).status_code == 404


def test_list_shows_the_columns_in_berlin_time_with_age_and_assignee(
    client: FlaskClient, service: ServiceSpec, place: Place
) -> None:
    clerk = make_user(Role.CLERK, commune=place.commune, offices=[place.office], name="Karla Klerk")
    make_submission(
        service,
        place.commune,
        place.office,
        submitted_at=datetime(2026, 7, 1, 22, 30, tzinfo=UTC),
        assignee_id=clerk.id,
    )
    log_in(client, clerk)
    page = client.get(f"/staff/{place.commune.slug}/inbox").text
    assert "Hundesteuer anmelden" in page
    assert "Erika Mustermann" in page and "erika@example.org" in page
    assert "02.07.26, 00:30" in page  # 22:30 UTC is half past midnight in Berlin (summer time)
    assert "Eingegangen" in page and "Karla Klerk" in page
    assert re.search(r"\d+ Tage", page)


def test_filters_by_status_service_assignee_and_date_range(service: ServiceSpec, place: Place) -> None:
    admin = make_user(Role.COMMUNE_ADMIN, commune=place.commune)
    colleague = make_user(Role.CLERK, commune=place.commune, offices=[place.office])
    received = make_submission(service, place.commune, place.office, submitted_at=START)
    in_progress = make_submission(
        service,
        place.commune,
        place.office,
        status=SubmissionStatus.IN_PROGRESS,
        submitted_at=START + timedelta(days=2),
        assignee_id=admin.id,
    )
    waiting = make_submission(
        service,
        place.commune,
        place.office,
        status=SubmissionStatus.WAITING,
        submitted_at=START + timedelta(days=4),
        assignee_id=colleague.id,
    )

    def refs(**criteria: object) -> set[str]:
        page = inbox_page(admin, place.commune, InboxFilter(**criteria))  # type: ignore[arg-type]
        return {row.reference for row in page.rows}

    assert refs(status=SubmissionStatus.IN_PROGRESS) == {in_progress.reference}
    assert refs(service_slug="inboxtest") == {received.reference, in_progress.reference, waiting.reference}
    assert refs(service_slug="anderes") == set()
    assert refs(assignee_id=admin.id) == {in_progress.reference}
    assert refs(unassigned=True) == {received.reference}
    assert refs(since=START + timedelta(days=1), until=START + timedelta(days=3)) == {in_progress.reference}


def test_assignee_filter_mine_and_unassigned_through_the_page(
    client: FlaskClient, service: ServiceSpec, place: Place
) -> None:
    clerk = make_user(Role.CLERK, commune=place.commune, offices=[place.office])
    mine = make_submission(service, place.commune, place.office, assignee_id=clerk.id)
    nobodys = make_submission(service, place.commune, place.office)
    log_in(client, clerk)
    base = f"/staff/{place.commune.slug}/inbox"
    assert _references(client, base + "?assignee=me") == [mine.reference]
    assert _references(client, base + "?assignee=none") == [nobodys.reference]


def test_date_range_is_read_in_berlin_days(client: FlaskClient, service: ServiceSpec, place: Place) -> None:
    clerk = make_user(Role.CLERK, commune=place.commune, offices=[place.office])
    # 23:30 UTC on 1 July is already 2 July in Berlin.
    late = make_submission(
        service, place.commune, place.office, submitted_at=datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
    )
    log_in(client, clerk)
    base = f"/staff/{place.commune.slug}/inbox"
    assert _references(client, base + "?since=2026-07-02&until=2026-07-02") == [late.reference]
    assert _references(client, base + "?since=2026-07-01&until=2026-07-01") == []


def test_full_text_search_finds_reference_name_email_and_answers(service: ServiceSpec, place: Place) -> None:
    admin = make_user(Role.COMMUNE_ADMIN, commune=place.commune)
    erika = make_submission(service, place.commune, place.office)
    jurgen = make_submission(
        service,
        place.commune,
        place.office,
        inbox_answers(name="Jürgen Groß", email="j.gross@beispiel.de", bemerkung="Dackel namens Waldemar"),
    )

    def found(query: str) -> set[str]:
        return {row.reference for row in inbox_page(admin, place.commune, InboxFilter(query=query)).rows}

    assert found("Erika") == {erika.reference}
    assert found("mustermann erika") == {erika.reference}
    assert found("j.gross@beispiel.de") == {jurgen.reference}
    assert found("Waldemar") == {jurgen.reference}
    assert found("Wald") == {jurgen.reference}  # terms are prefixes
    assert found(jurgen.reference) == {jurgen.reference}
    assert found(jurgen.reference[:-2]) >= {jurgen.reference}
    assert found("Erika Waldemar") == set()
    assert found("'); DROP TABLE submission; --") == set()
    assert found("100% _ \\ :* & | !") == set()


def test_search_through_the_page_and_a_query_of_syntax_only_shows_everything(
    client: FlaskClient, service: ServiceSpec, place: Place
) -> None:
    clerk = make_user(Role.CLERK, commune=place.commune, offices=[place.office])
    first = make_submission(service, place.commune, place.office)
    second = make_submission(service, place.commune, place.office, inbox_answers(name="Zofia Nowak"))
    log_in(client, clerk)
    base = f"/staff/{place.commune.slug}/inbox"
    assert _references(client, base + "?q=nowak") == [second.reference]
    assert sorted(_references(client, base + "?q=%26%26")) == sorted([first.reference, second.reference])


def test_sorting_by_submitted_reference_and_status(service: ServiceSpec, place: Place) -> None:
    admin = make_user(Role.COMMUNE_ADMIN, commune=place.commune)
    made = [
        make_submission(
            service, place.commune, place.office, submitted_at=START + timedelta(hours=h), status=s
        )
        for h, s in (
            (3, SubmissionStatus.RECEIVED),
            (1, SubmissionStatus.WAITING),
            (2, SubmissionStatus.COMPLETED),
        )
    ]

    def order(sort: SortOrder) -> list[str]:
        return [row.reference for row in inbox_page(admin, place.commune, InboxFilter(sort=sort)).rows]

    by_time = sorted(made, key=lambda s: s.submitted_at)
    assert order(SortOrder.NEWEST) == [s.reference for s in reversed(by_time)]
    assert order(SortOrder.OLDEST) == [s.reference for s in by_time]
    assert order(SortOrder.REFERENCE) == sorted(s.reference for s in made)
    assert order(SortOrder.STATUS) == [made[2].reference, made[0].reference, made[1].reference]


def test_keyset_pages_walk_forward_and_back_without_gaps_or_repeats(
    service: ServiceSpec, place: Place
) -> None:
    admin = make_user(Role.COMMUNE_ADMIN, commune=place.commune)
    same_time = START + timedelta(days=1)
    made = [
        make_submission(
            service,
            place.commune,
            place.office,
            # Ties on the time: the id decides, and no row may be lost between pages.
            submitted_at=same_time if n % 3 == 0 else START + timedelta(minutes=n),
        )
        for n in range(12)
    ]
    for sort in SortOrder:
        criteria = InboxFilter(sort=sort)
        pages = [inbox_page(admin, place.commune, criteria, size=5)]
        while pages[-1].next_cursor:
            pages.append(inbox_page(admin, place.commune, criteria, after=pages[-1].next_cursor, size=5))
        seen = [row.reference for page in pages for row in page.rows]
        assert len(pages) == 3 and [len(p.rows) for p in pages] == [5, 5, 2], sort
        assert sorted(seen) == sorted(s.reference for s in made), sort
        assert pages[0].previous_cursor is None
        back = inbox_page(admin, place.commune, criteria, before=pages[2].previous_cursor, size=5)
        assert [r.reference for r in back.rows] == [r.reference for r in pages[1].rows], sort
        first = inbox_page(admin, place.commune, criteria, before=back.previous_cursor, size=5)
        assert [r.reference for r in first.rows] == [r.reference for r in pages[0].rows], sort
        assert first.previous_cursor is None and first.next_cursor is not None


def test_keyset_links_on_the_page_and_a_tampered_cursor_shows_the_first_page(
    client: FlaskClient, service: ServiceSpec, place: Place, monkeypatch: object
) -> None:
    import app.staff.inbox.services as inbox_services

    monkeypatch.setattr(inbox_services, "PAGE_SIZE", 2)  # type: ignore[attr-defined]
    clerk = make_user(Role.CLERK, commune=place.commune, offices=[place.office])
    for n in range(5):
        make_submission(service, place.commune, place.office, submitted_at=START + timedelta(hours=n))
    log_in(client, clerk)
    base = f"/staff/{place.commune.slug}/inbox"
    first = client.get(base + "?status=received").text
    next_url = re.search(r'<a rel="next" href="([^"]+)"', first)
    assert next_url is not None
    second = client.get(next_url.group(1).replace("&amp;", "&"))
    assert second.status_code == 200 and "status=received" in next_url.group(1)
    for cursor in ("kaputt", "W10", "WyJ4Iiwi", "eyJhIjogMX0", "x" * 500):
        response = client.get(base + f"?after={cursor}")
        assert response.status_code == 200
        assert _references(client, base) == _references(client, base + f"?after={cursor}")


def test_counts_by_status_ignore_the_status_filter_but_keep_the_others(
    client: FlaskClient, service: ServiceSpec, place: Place
) -> None:
    clerk = make_user(Role.CLERK, commune=place.commune, offices=[place.office])
    for status in (SubmissionStatus.RECEIVED, SubmissionStatus.RECEIVED, SubmissionStatus.COMPLETED):
        make_submission(service, place.commune, place.office, status=status)
    make_submission(service, place.commune, place.other_office)  # not the clerk's
    make_submission(service, place.commune, place.office, inbox_answers(name="Zofia Nowak"))
    counts = status_counts(clerk, place.commune, InboxFilter(status=SubmissionStatus.COMPLETED))
    assert counts[SubmissionStatus.RECEIVED] == 3 and counts[SubmissionStatus.COMPLETED] == 1
    assert counts[SubmissionStatus.WAITING] == 0
    assert status_counts(clerk, place.commune, InboxFilter(query="Nowak"))[SubmissionStatus.RECEIVED] == 1
    log_in(client, clerk)
    page = client.get(f"/staff/{place.commune.slug}/inbox?status=completed").text
    assert 'data-status-count="received">3<' in page and 'data-status-count="completed">1<' in page


def test_forged_filter_values_are_refused_with_a_message_and_show_no_foreign_rows(
    client: FlaskClient, service: ServiceSpec, place: Place
) -> None:
    clerk = make_user(Role.CLERK, commune=place.commune, offices=[place.office])
    make_submission(service, place.commune, place.office)
    log_in(client, clerk)
    base = f"/staff/{place.commune.slug}/inbox"
    for query in ("status=frozen", "sort=drop", "since=2026-13-01", "assignee=42", "service=%27"):
        response = client.get(f"{base}?{query}")
        assert response.status_code == 200, query
        assert "Es gibt ein Problem" in response.text, query
    response = client.get(f"{base}?since=2026-07-02&until=2026-07-01")
    assert "Das Ende des Zeitraums liegt vor seinem Anfang." in response.text
    assert client.get(f"{base}?office=abc").status_code == 404


def test_counts_stop_at_the_limit_and_the_page_says_more_than(
    client: FlaskClient, service: ServiceSpec, place: Place, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app.staff.inbox.services as inbox_services

    monkeypatch.setattr(inbox_services, "COUNT_LIMIT", 2)
    clerk = make_user(Role.CLERK, commune=place.commune, offices=[place.office])
    for _ in range(4):
        make_submission(service, place.commune, place.office)
    make_submission(service, place.commune, place.office, status=SubmissionStatus.WAITING)
    counts = status_counts(clerk, place.commune, InboxFilter())
    assert counts[SubmissionStatus.RECEIVED] == 3 and counts[SubmissionStatus.WAITING] == 1
    log_in(client, clerk)
    page = client.get(f"/staff/{place.commune.slug}/inbox").text
    assert 'data-status-count="received">mehr als 2<' in page
    assert 'data-status-count="waiting">1<' in page
    assert "mehr als 3" in page


def test_assignee_filter_offers_colleagues_of_the_clerk_s_offices_only(
    client: FlaskClient, service: ServiceSpec, place: Place, foreign: Place
) -> None:
    clerk = make_user(Role.CLERK, commune=place.commune, offices=[place.office], name="Karla Klerk")
    colleague = make_user(Role.CLERK, commune=place.commune, offices=[place.office], name="Kollege Kunz")
    other = make_user(Role.CLERK, commune=place.commune, offices=[place.other_office], name="Bau Bert")
    stranger = make_user(Role.CLERK, commune=foreign.commune, offices=[foreign.office], name="Fremd Fritz")
    theirs = make_submission(service, place.commune, place.office, assignee_id=colleague.id)
    make_submission(service, place.commune, place.office, assignee_id=clerk.id)
    log_in(client, clerk)
    base = f"/staff/{place.commune.slug}/inbox"
    page = client.get(base).text
    assert "Kollege Kunz" in page and "Bau Bert" not in page and "Fremd Fritz" not in page
    assert _references(client, f"{base}?assignee={colleague.id}") == [theirs.reference]
    for forged in (other.id, stranger.id):
        assert "Es gibt ein Problem" in client.get(f"{base}?assignee={forged}").text
