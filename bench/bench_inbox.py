"""Inbox benchmark: 1,000,000 submissions across 400 communes on PostgreSQL.

Creates its own database (``kp_bench_inbox`` unless ``--database`` names another) on the
server of ``--server`` (default ``postgresql://postgres@127.0.0.1:5432``), builds the schema
with the application's metadata, generates the submissions in SQL (``generate_series``:
realistic names, e-mail addresses, addresses and remarks in the answers), builds the
indexes afterwards, and measures with the inbox's own query functions
(:mod:`app.staff.inbox.services`):

- the first inbox page with its counts by status, for a commune admin of a large commune
  (100,000 submissions) and for a clerk of one of its offices;
- page 50 of a filtered list (status "completed", newest first), reached by walking the keyset;
- a full-text search for a surname, and for an e-mail address.

Each figure is the median and the 95th percentile of ``--repeat`` runs after a warm-up.
The database is dropped at the end unless ``--keep``.

    .venv/bin/python bench/bench_inbox.py [--rows 1000000] [--repeat 50] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app
from app.extensions import db
from app.staff.inbox.services import InboxFilter, inbox_page, status_counts
from app.staff.models import Role, User
from app.submissions.models import SubmissionStatus
from app.tenancy.models import Commune, Office

COMMUNES = 400
OFFICES_PER_COMMUNE = 3
LARGE_COMMUNE_ROWS = 100_000
SERVICES = (
    "hund-anmelden",
    "gewerbeanmeldung",
    "gewerbeabmeldung",
    "baumfaellgenehmigung",
    "briefwahl",
    "fundsache-verlustanzeige",
    "kita-anmeldung",
    "akteneinsicht",
    "hund-abmelden",
    "e-rechnung",
)
FIRST_NAMES = (
    "Anna",
    "Emma",
    "Mia",
    "Sophie",
    "Marie",
    "Lena",
    "Lea",
    "Hannah",
    "Laura",
    "Lina",
    "Leonie",
    "Julia",
    "Sarah",
    "Lisa",
    "Katharina",
    "Ben",
    "Paul",
    "Jonas",
    "Elias",
    "Leon",
    "Finn",
    "Noah",
    "Luis",
    "Lukas",
    "Felix",
    "Maximilian",
    "Jan",
    "Tim",
    "Tom",
    "Niklas",
    "Erika",
    "Jürgen",
    "Günter",
    "Bärbel",
    "Sören",
    "Zofia",
    "Łukasz",
    "Małgorzata",
    "Měto",
    "Hanka",
)
LAST_NAMES = (
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Schmitt",
    "Werner",
    "Krause",
    "Meier",
    "Lehmann",
    "Nowak",
    "Kowalski",
    "Wiśniewski",
    "Krawc",
    "Šołta",
    "Nagel",
)
STREETS = (
    "Hauptstraße",
    "Am Markt",
    "Bahnhofstraße",
    "Dorfstraße",
    "Lindenallee",
    "Schulweg",
    "Gartenstraße",
    "Kirchplatz",
)
WORDS = (
    "bitte",
    "Termin",
    "Unterlagen",
    "nachreichen",
    "Hund",
    "Dackel",
    "Schäferhund",
    "Gewerbe",
    "Imbiss",
    "Kiosk",
    "Baum",
    "Eiche",
    "Linde",
    "Briefwahl",
    "Urlaub",
    "Fundsache",
    "Fahrrad",
    "Schlüssel",
    "Geldbörse",
    "Kita",
    "Krippe",
    "Platz",
    "Akteneinsicht",
    "Bauakte",
    "Rechnung",
    "Leitweg",
    "dringend",
    "Rückfrage",
    "telefonisch",
    "erreichbar",
    "vormittags",
)


def _sql_array(values: tuple[str, ...] | list[str]) -> str:
    return "(ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "])"


def _ascii(value: str) -> str:
    """A name as it appears in an e-mail address: lower case, umlauts spelled out, no accents."""
    spelled = value.lower().translate(str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ł": "l"}))
    return "".join(ch for ch in unicodedata.normalize("NFKD", spelled) if ch.isascii())


def create_database(server: str, name: str) -> None:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(server: str, name: str) -> None:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_tenants() -> list[Commune]:
    """400 communes with three offices each, a commune admin and a clerk per office."""
    communes = [
        Commune(
            slug=f"gemeinde-{n:03d}",
            name=f"Gemeinde {n:03d}",
            official_name=f"Gemeinde {n:03d}",
            short_code=f"G{n:03d}",
        )
        for n in range(1, COMMUNES + 1)
    ]
    db.session.add_all(communes)
    db.session.flush()
    offices: dict[int, list[Office]] = {}
    for commune in communes:
        offices[commune.id] = [
            Office(commune_id=commune.id, slug=slug, name=name, kind=slug)
            for slug, name in (
                ("ordnungsamt", "Ordnungsamt"),
                ("bauamt", "Bauamt"),
                ("buergeramt", "Bürgeramt"),
            )
        ]
        db.session.add_all(offices[commune.id])
    db.session.flush()
    for commune in communes:
        db.session.add(
            User(
                email=f"admin@{commune.slug}.example",
                name=f"Admin {commune.name}",
                role=Role.COMMUNE_ADMIN,
                commune=commune,
            )
        )
        for office in offices[commune.id]:
            db.session.add(
                User(
                    email=f"{office.slug}@{commune.slug}.example",
                    name=f"Sachbearbeitung {office.name}",
                    role=Role.CLERK,
                    commune=commune,
                    offices=[office],
                )
            )
    for slug in SERVICES:
        db.session.execute(
            text(
                "INSERT INTO form_definition (version, service_slug, source, created_at) "
                "VALUES (:v, :s, CAST(:src AS json), now())"
            ),
            {"v": f"{slug}-v1".ljust(64, "0"), "s": slug, "src": json.dumps({"slug": slug})},
        )
    db.session.commit()
    return communes


def generate_submissions(rows: int) -> None:
    """``rows`` submissions in one INSERT … SELECT over generate_series (no ORM)."""
    first, last = _sql_array(FIRST_NAMES), _sql_array(LAST_NAMES)
    first_ascii = _sql_array([_ascii(v) for v in FIRST_NAMES])
    last_ascii = _sql_array([_ascii(v) for v in LAST_NAMES])
    streets, words, services = _sql_array(STREETS), _sql_array(WORDS), _sql_array(SERVICES)
    rest = max(rows - LARGE_COMMUNE_ROWS, 0)
    sql = f"""
    INSERT INTO submission (
        id, commune_id, office_id, service_slug, service_title, form_version, reference, reference_year,
        reference_number, tracking_token_hash, status, locale, answers, submitter_name, submitter_email,
        submitted_at, updated_at, completed_at, assignee_id, version)
    SELECT g, c.id, o.id, svc, initcap(replace(svc, '-', ' ')), rpad(svc || '-v1', 64, '0'),
           c.short_code || '-' || yr || '-' || lpad(g::text, 7, '0'), yr, g, md5(g::text),
           st, 'de',
           json_build_object(
               'name', fn || ' ' || ln, 'email', fa || '.' || la || g || '@example.org',
               'anschrift', json_build_object('street', {streets}[1 + g % {len(STREETS)}],
                   'house_number', (1 + g % 97)::text, 'postal_code', lpad((10000 + g % 89999)::text, 5, '0'),
                   'town', c.name),
               'bemerkung', {words}[1 + (g * 7) % {len(WORDS)}] || ' ' || {words}[1 + (g * 13) % {len(WORDS)}]
                   || ' ' || {words}[1 + (g * 31) % {len(WORDS)}],
               'datenschutz', true),
           fn || ' ' || ln, fa || '.' || la || g || '@example.org',
           at, at,
           CASE WHEN st IN ('completed', 'rejected') THEN at + interval '9 days' END,
           CASE WHEN g % 5 = 0 THEN u.id END,
           1
    FROM (
        SELECT g,
               CASE WHEN g <= {LARGE_COMMUNE_ROWS} THEN 1 ELSE 2 + (g % {COMMUNES - 1}) END AS commune_no,
               g % {OFFICES_PER_COMMUNE} AS office_no,
               {services}[1 + (g * 17) % {len(SERVICES)}] AS svc,
               (ARRAY['received','in_progress','in_progress','waiting','completed','completed','completed',
                      'completed','completed','rejected'])[1 + (g * 11) % 10] AS st,
               timestamptz '2024-01-01 06:00+00' + (g::float / {rows} * 730) * interval '1 day'
                   + ((g * 7919) % 36000) * interval '1 second' AS at,
               {first}[1 + (g * 3) % {len(FIRST_NAMES)}] AS fn, {last}[1 + (g * 5) % {len(LAST_NAMES)}] AS ln,
               {first_ascii}[1 + (g * 3) % {len(FIRST_NAMES)}] AS fa,
               {last_ascii}[1 + (g * 5) % {len(LAST_NAMES)}] AS la
        FROM generate_series(1::bigint, {LARGE_COMMUNE_ROWS + rest}) AS g
    ) AS s
    CROSS JOIN LATERAL (SELECT extract(year FROM s.at)::int AS yr) AS y
    JOIN office_map m ON m.commune_no = s.commune_no AND m.office_no = s.office_no
    JOIN commune c ON c.id = m.commune_id
    JOIN office o ON o.id = m.office_id
    JOIN (SELECT m2.office_id AS office, m2.clerk_id AS id FROM office_map m2) AS u ON u.office = o.id
    """
    db.session.execute(
        text(
            "CREATE TEMPORARY TABLE office_map AS "
            "SELECT substr(c.short_code, 2)::int AS commune_no, c.id AS commune_id, "
            "(row_number() OVER (PARTITION BY o.commune_id ORDER BY o.id) - 1)::int AS office_no, "
            "o.id AS office_id, "
            "(SELECT min(user_id) FROM staff_user_office WHERE office_id = o.id) AS clerk_id "
            "FROM office o JOIN commune c ON c.id = o.commune_id"
        )
    )
    db.session.execute(text("SET LOCAL work_mem = '64MB'"))
    db.session.execute(text(sql))
    db.session.execute(text("SELECT setval('submission_id_seq', (SELECT max(id) FROM submission))"))
    db.session.commit()


def drop_secondary_indexes() -> list[str]:
    """Drop the submission table's non-unique indexes (faster loading); returns their DDL."""
    rows = db.session.execute(
        text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i "
            "JOIN pg_class ic ON ic.relname = i.indexname JOIN pg_index x ON x.indexrelid = ic.oid "
            "WHERE i.tablename = 'submission' AND NOT x.indisunique"
        )
    ).all()
    for name, _definition in rows:
        db.session.execute(text(f'DROP INDEX "{name}"'))
    db.session.commit()
    return [definition for _name, definition in rows]


def timed(run: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Median and 95th percentile in milliseconds (after two warm-up runs)."""
    for _ in range(2):
        run()
        db.session.rollback()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000)
        db.session.rollback()
    samples.sort()
    return statistics.median(samples), samples[max(0, round(0.95 * len(samples)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--server", default=os.environ.get("BENCH_SERVER", "postgresql://postgres@127.0.0.1:5432")
    )
    parser.add_argument("--database", default="kp_bench_inbox")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    args = parser.parse_args()

    create_database(args.server, args.database)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"{args.server.replace('postgresql://', 'postgresql+psycopg://')}/{args.database}",
            "DEMO_MODE": False,
        }
    )
    try:
        with app.app_context():
            run_benchmark(args.rows, args.repeat)
            db.session.remove()
            db.engine.dispose()
    finally:
        if not args.keep:
            drop_database(args.server, args.database)


def run_benchmark(rows: int, repeat: int) -> None:
    started = time.perf_counter()
    db.create_all()
    definitions = drop_secondary_indexes()
    communes = make_tenants()
    tenants_done = time.perf_counter()
    generate_submissions(rows)
    loaded = time.perf_counter()
    for definition in definitions:
        # Generous memory and both cores for the index builds (this session only).
        db.session.execute(text("SET maintenance_work_mem = '1GB'"))
        db.session.execute(text("SET max_parallel_maintenance_workers = 2"))
        db.session.execute(text(definition))
        db.session.commit()
    indexed = time.perf_counter()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE submission"))
    analysed = time.perf_counter()
    count = db.session.scalar(text("SELECT count(*) FROM submission"))
    print(f"generated {count:,} submissions in {COMMUNES} communes")
    print(
        f"  tenants {tenants_done - started:.1f} s, rows {loaded - tenants_done:.1f} s, "
        f"indexes {indexed - loaded:.1f} s, vacuum/analyse {analysed - indexed:.1f} s"
    )

    large = communes[0]
    admin = db.session.scalar(select(User).where(User.email == f"admin@{large.slug}.example"))
    clerk = db.session.scalar(select(User).where(User.email == f"ordnungsamt@{large.slug}.example"))
    small = communes[200]
    small_admin = db.session.scalar(select(User).where(User.email == f"admin@{small.slug}.example"))
    assert admin is not None and clerk is not None and small_admin is not None
    large_rows = db.session.scalar(
        text("SELECT count(*) FROM submission WHERE commune_id = :c"), {"c": large.id}
    )

    def first_page(user: User, commune: Commune) -> Callable[[], Any]:
        def run() -> None:
            inbox_page(user, commune, InboxFilter())
            status_counts(user, commune, InboxFilter())

        return run

    completed = InboxFilter(status=SubmissionStatus.COMPLETED)
    cursor = None
    for _ in range(49):
        cursor = inbox_page(admin, large, completed, after=cursor).next_cursor
    assert cursor is not None
    page_50 = inbox_page(admin, large, completed, after=cursor)
    assert len(page_50.rows) == 50

    def fiftieth() -> None:
        inbox_page(admin, large, completed, after=cursor)

    def search(query: str, user: User, commune: Commune) -> Callable[[], Any]:
        def run() -> None:
            inbox_page(user, commune, InboxFilter(query=query))

        return run

    some_email = db.session.scalar(
        text("SELECT submitter_email FROM submission WHERE commune_id = :c ORDER BY id DESC LIMIT 1"),
        {"c": large.id},
    )
    newest_reference = str(
        db.session.scalar(
            text("SELECT reference FROM submission WHERE office_id = :o ORDER BY id DESC LIMIT 1"),
            {"o": clerk.offices[0].id},
        )
    )
    reference_prefix = newest_reference[:-3]
    surname_hits = len(inbox_page(admin, large, InboxFilter(query="Schulz")).rows)
    measurements = [
        (f"first inbox page + counts, commune admin ({large_rows:,} submissions)", first_page(admin, large)),
        ("first inbox page + counts, clerk of one office", first_page(clerk, large)),
        (
            f"first inbox page + counts, commune admin ({rows // COMMUNES:,}-ish)",
            first_page(small_admin, small),
        ),
        ("page 50 of status=completed (keyset), commune admin", fiftieth),
        (f"full-text search 'Schulz' ({surname_hits} shown), commune admin", search("Schulz", admin, large)),
        ("full-text search 'Schulz Anna', commune admin", search("Schulz Anna", admin, large)),
        ("full-text search of an e-mail address, commune admin", search(str(some_email), admin, large)),
        (f"reference prefix search '{reference_prefix}', clerk", search(reference_prefix, clerk, large)),
    ]
    print()
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPU(s), Python {platform.python_version()}")
    print(f"server:  {db.session.scalar(text('SELECT version()'))}")
    print(f"{'query':<72} {'median':>9} {'p95':>9}")
    for label, run in measurements:
        median, p95 = timed(run, repeat)
        print(f"{label:<72} {median:>6.1f} ms {p95:>6.1f} ms")


if __name__ == "__main__":
    main()
