"""End-to-end submissions per second: gunicorn (2 workers) on PostgreSQL, through the real flow.

Each submission is what a citizen's browser sends for a one-page form of 30 fields with one
200 KB attachment: the POST of the step (validation by the compiled WTForms class, the upload
checked by content and stored in the blob store, the draft saved) and the POST of the check
page (``submit_draft``: one transaction with the reference number, answers, attachment row,
history entry and outbox row; then the PDF/A-3b rendered and stored). Deliveries stay in the
outbox (``DELIVERY_ATTEMPT_AFTER_COMMIT=0``): sending them is the worker's job, not the request's.

The script creates its own database (``kp_bench_submit_<pid>``) and storage folder, starts
gunicorn, warms it up, times ``--runs`` runs of ``--submissions`` submissions sent by
``--clients`` concurrent HTTP clients, checks that every one was stored with its PDF and outbox
row, prints the figures (median over the runs) and the machine, and drops the database.

    .venv/bin/python bench/bench_submit.py [--submissions 200] [--clients 8] [--runs 3]
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import requests
import yaml
from sqlalchemy import func, select

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from app import create_app  # noqa: E402
from app.catalogue.models import CommuneService  # noqa: E402
from app.config import normalise_database_url  # noqa: E402
from app.delivery.models import Delivery, DeliveryState  # noqa: E402
from app.extensions import db  # noqa: E402
from app.submissions.models import Submission  # noqa: E402
from app.tenancy.models import Commune, Office  # noqa: E402

SLUG = "bench-antrag"
ATTACHMENT_SIZE = 200 * 1024

def _options(*pairs: str) -> list[dict[str, str]]:
    return [{"value": value, "label": label} for value, label in zip(pairs[::2], pairs[1::2], strict=True)]


#: A one-step form of 30 fields of every common kind, the last but one an upload.
FIELDS: list[dict[str, Any]] = [
    {"name": "anrede", "type": "select", "label": "Anrede",
     "options": _options("frau", "Frau", "herr", "Herr", "divers", "Divers")},
    {"name": "vorname", "type": "text", "label": "Vorname", "autocomplete": "given-name"},
    {"name": "nachname", "type": "text", "label": "Nachname", "autocomplete": "family-name"},
    {"name": "geburtsdatum", "type": "date", "label": "Geburtsdatum", "autocomplete": "bday"},
    {"name": "geburtsort", "type": "text", "label": "Geburtsort"},
    {"name": "staatsangehoerigkeit", "type": "text", "label": "Staatsangehörigkeit"},
    {"name": "anschrift", "type": "address", "label": "Anschrift"},
    {"name": "telefon", "type": "phone", "label": "Telefon", "autocomplete": "tel"},
    {"name": "email", "type": "email", "label": "E-Mail-Adresse", "autocomplete": "email"},
    {"name": "firma", "type": "text", "label": "Firma", "autocomplete": "organization"},
    {"name": "rechtsform", "type": "select", "label": "Rechtsform",
     "options": _options("ek", "Einzelunternehmen", "gmbh", "GmbH", "ug", "UG")},
    {"name": "handelsregister", "type": "text", "label": "Handelsregisternummer", "required": False},
    {"name": "steuernummer", "type": "text", "label": "Steuernummer"},
    {"name": "iban", "type": "iban", "label": "IBAN"},
    {"name": "kontoinhaber", "type": "text", "label": "Kontoinhaber"},
    {"name": "beginn", "type": "date", "label": "Beginn der Tätigkeit"},
    {"name": "mitarbeiter", "type": "integer", "label": "Zahl der Beschäftigten", "min": 0, "max": 10000},
    {"name": "flaeche", "type": "decimal", "label": "Betriebsfläche in m²", "places": 2},
    {"name": "umsatz", "type": "money", "label": "Erwarteter Jahresumsatz"},
    {"name": "oeffnung", "type": "time", "label": "Öffnet um"},
    {"name": "art", "type": "radio", "label": "Art der Tätigkeit",
     "options": _options("handel", "Handel", "handwerk", "Handwerk", "dienst", "Dienstleistung")},
    {"name": "zustellung", "type": "radio", "label": "Bescheid per",
     "options": _options("post", "Post", "email", "E-Mail")},
    {"name": "kategorien", "type": "multicheckbox", "label": "Tätigkeiten",
     "options": _options("a", "Einzelhandel", "b", "Großhandel", "c", "Onlinehandel")},
    {"name": "eilig", "type": "checkbox", "label": "Eilbearbeitung gewünscht"},
    {"name": "newsletter", "type": "checkbox", "label": "Informationen per E-Mail", "required": False},
    {"name": "beschreibung", "type": "textarea", "label": "Beschreibung der Tätigkeit"},
    {"name": "anmerkung", "type": "textarea", "label": "Anmerkung", "required": False},
    {"name": "plz_betrieb", "type": "postal_code", "label": "Postleitzahl der Betriebsstätte"},
    {"name": "nachweis", "type": "file", "label": "Nachweis", "accept": ["image/png", "application/pdf"],
     "max_size": 1048576},
    {"name": "datenschutz", "type": "consent", "label": "Ich habe die Datenschutzhinweise gelesen."},
]
FORM: dict[str, Any] = {
    "slug": SLUG,
    "title": "Benchmark-Antrag mit 30 Feldern",
    "short_text": "Ein Antrag für den Durchsatztest.",
    "description": "Dreißig Felder auf einer Seite und eine Anlage.",
    "office_kind": "gewerbeamt",
    "topic": "Benchmark",
    "processing_time": "zwei Wochen",
    "online": True,
    "fees": {"rules": [{"label": "Verwaltungsgebühr", "amount": "26.00"}]},
    "form": {
        "steps": [
            {
                "name": "antrag",
                "title": "Ihre Angaben",
                "fieldsets": [
                    {"name": "person", "legend": "Person", "fields": FIELDS[:9]},
                    {"name": "betrieb", "legend": "Betrieb", "fields": FIELDS[9:]},
                ],
            }
        ]
    },
}

ANSWERS: dict[str, Any] = {
    "anrede": "frau",
    "vorname": "Małgorzata",
    "nachname": "Groß-Kowalska",
    "geburtsdatum-day": "14",
    "geburtsdatum-month": "3",
    "geburtsdatum-year": "1985",
    "geburtsort": "Chóśebuz",
    "staatsangehoerigkeit": "polnisch",
    "anschrift-street": "Am Markt",
    "anschrift-house_number": "1a",
    "anschrift-postal_code": "16356",
    "anschrift-town": "Werneuchen",
    "telefon": "033398 8160",
    "email": "m.kowalska@example.org",
    "firma": "Zażółć Handel UG",
    "rechtsform": "ug",
    "steuernummer": "048/123/45678",
    "iban": "DE89 3704 0044 0532 0130 00",
    "kontoinhaber": "Małgorzata Groß-Kowalska",
    "beginn-day": "1",
    "beginn-month": "12",
    "beginn-year": "2026",
    "mitarbeiter": "3",
    "flaeche": "84.50",
    "umsatz": "120000.00",
    "oeffnung": "08:30",
    "art": "handel",
    "zustellung": "email",
    "kategorien": ["a", "c"],
    "eilig": "y",
    "beschreibung": "Einzel- und Onlinehandel mit Lebensmitteln aus der Lausitz.\nDolnoserbšćina: Łužyca.",
    "anmerkung": "Bitte Bescheid per E-Mail.",
    "plz_betrieb": "16356",
    "datenschutz": "y",
}


def attachment() -> bytes:
    """A valid PNG of about 200 KB (random pixels compress badly, so the size stays)."""
    from PIL import Image

    side = int((ATTACHMENT_SIZE / 3) ** 0.5)
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; load average {load}"
    )


def prepare(database_url: str, storage: Path, forms: Path) -> str:
    """Schema, a commune that offers the bench form, its office; returns the form's URL."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "STORAGE_DIR": str(storage),
            "FORMS_DIR": str(forms),
            "DEMO_MODE": False,
        }
    )
    with app.app_context():
        db.create_all()
        commune = Commune(slug="benchstadt", name="Benchstadt", official_name="Stadt Benchstadt",
                          short_code="BEN", street="Am Markt 1", postal_code="16356", town="Benchstadt")
        db.session.add(commune)
        db.session.flush()
        office = Office(commune_id=commune.id, slug="gewerbeamt", name="Gewerbeamt", kind="gewerbeamt",
                        email="gewerbeamt@benchstadt.example")
        db.session.add(office)
        db.session.flush()
        db.session.add(CommuneService(commune_id=commune.id, service_slug=SLUG, office_id=office.id))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return f"/benchstadt/services/{SLUG}"


def start_server(
    env: dict[str, str], port: int, workers: int, threads: int, log: Path
) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn",
                "--workers", str(workers),
                "--threads", str(threads),
                "--bind", f"127.0.0.1:{port}",
                "--chdir", str(PROJECT_ROOT),
                # The clients post without fetching the forms' CSRF tokens first.
                "app:create_app({'WTF_CSRF_ENABLED': False})",
            ],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def worker_cpu_seconds(master: int) -> float:
    """User and system CPU time of the gunicorn master's worker processes so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return float("nan")
    for pid in children:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the server at {url} did not come up")


def submit_one(base: str, upload: bytes) -> float:
    """One citizen's two POSTs; returns the seconds they took."""
    started = time.perf_counter()
    with requests.Session() as browser:
        step = browser.post(
            f"{base}/apply/antrag",
            data=ANSWERS,
            files={"nachweis": ("Gewerbenachweis Łužyca.png", upload, "image/png")},
            allow_redirects=False,
            timeout=120,
        )
        if step.status_code not in (302, 303) or not step.headers["Location"].endswith("/check"):
            raise RuntimeError(f"step answered {step.status_code}: {step.text[:800]}")
        check = browser.post(f"{base}/check", allow_redirects=False, timeout=120)
        if check.status_code != 303 or "/confirmation" not in check.headers["Location"]:
            raise RuntimeError(f"submit answered {check.status_code}: {check.text[:800]}")
    return time.perf_counter() - started


def run(base: str, upload: bytes, submissions: int, clients: int) -> tuple[float, list[float]]:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        latencies = list(pool.map(lambda _: submit_one(base, upload), range(submissions)))
    return time.perf_counter() - started, latencies


def stored(database_url: str, storage: Path, forms: Path) -> tuple[int, int, dict[str, int]]:
    """Submissions, those with a PDF, and outbox rows per channel in the benchmark database."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "STORAGE_DIR": str(storage),
                      "FORMS_DIR": str(forms)})
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Submission)) or 0
        pdfs = db.session.scalar(select(func.count()).where(Submission.pdf_key.is_not(None))) or 0
        outbox = {
            str(channel): number
            for channel, number in db.session.execute(
                select(Delivery.channel, func.count()).group_by(Delivery.channel)
            )
        }
        db.session.remove()
        db.engine.dispose()
    return count, pdfs, outbox


def delivered_count(database_url: str, storage: Path, forms: Path) -> int:
    """Outbox rows delivered so far."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "STORAGE_DIR": str(storage),
                      "FORMS_DIR": str(forms)})
    with app.app_context():
        number = db.session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.state == DeliveryState.DELIVERED)
        ) or 0
        db.session.remove()
        db.engine.dispose()
    return number


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=200, help="submissions per run")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker (gthread)")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL database to create and drop the benchmark database from")
    args = parser.parse_args()

    name = f"kp_bench_submit_{os.getpid()}"
    admin = args.admin_url
    database_url = normalise_database_url(admin.rsplit("/", 1)[0] + "/" + name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    workdir = Path(tempfile.mkdtemp(prefix="bench-submit-"))
    server: subprocess.Popen[bytes] | None = None
    try:
        forms, storage = workdir / "forms", workdir / "storage"
        (forms / "catalogue").mkdir(parents=True)
        (forms / "catalogue" / f"{SLUG}.yaml").write_text(
            yaml.safe_dump(FORM, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
        path = prepare(database_url, storage, forms)
        port = 8700 + os.getpid() % 1000
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": database_url,
                "STORAGE_DIR": str(storage),
                "FORMS_DIR": str(forms),
                "RATELIMIT_ENABLED": "0",
                "MAIL_ENABLED": "0",
                "DELIVERY_ATTEMPT_AFTER_COMMIT": "0",
                "DEMO_MODE": "0",
                "LOG_LEVEL": "WARNING",
                "PYTHONPATH": str(PROJECT_ROOT),
            }
        )
        server = start_server(env, port, args.workers, args.threads, workdir / "gunicorn.log")
        url = f"http://127.0.0.1:{port}"
        wait_for(url)
        base = url + path
        upload = attachment()
        run(base, upload, args.warmup, args.clients)

        rates, medians, p95s, cpus = [], [], [], []
        print(f"machine: {machine()}")
        print(f"{args.submissions} submissions per run, {args.clients} clients, gunicorn {args.workers} "
              f"workers x {args.threads} threads, attachment {len(upload)} bytes")
        for number in range(1, args.runs + 1):
            cpu_before = worker_cpu_seconds(server.pid)
            elapsed, latencies = run(base, upload, args.submissions, args.clients)
            cpu = (worker_cpu_seconds(server.pid) - cpu_before) / args.submissions * 1000
            cpus.append(cpu)
            rate = args.submissions / elapsed
            latencies.sort()
            median = statistics.median(latencies) * 1000
            p95 = latencies[int(0.95 * (len(latencies) - 1))] * 1000
            rates.append(rate)
            medians.append(median)
            p95s.append(p95)
            print(f"run {number}: {rate:6.1f} submissions/s  (latency median {median:6.0f} ms, "
                  f"p95 {p95:6.0f} ms; gunicorn CPU {cpu:5.1f} ms per submission)")
        total = args.warmup + args.runs * args.submissions
        count, pdfs, outbox = stored(database_url, storage, forms)
        rows = ", ".join(f"{number} {channel}" for channel, number in sorted(outbox.items()))
        print(f"stored: {count} submissions, {pdfs} PDFs, outbox rows {rows} (expected {total} each)")
        # What the requests leave to the outbox worker (the office's e-mail and the citizen's
        # confirmation, each with the PDF; MAIL_ENABLED=0 composes and logs them): its CPU
        # belongs to a submission's cost as much as the request's does.
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "deliveries", "work", "--once",
                        "--batch-size", "1000"], env=env, cwd=PROJECT_ROOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        worker_ms = ((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)) * 1000
        delivered = delivered_count(database_url, storage, forms)
        print(f"outbox worker: {delivered} deliveries sent in one process, CPU {worker_ms:.0f} ms in all "
              f"(start-up included), {worker_ms / total:.1f} ms per submission")
        cpu = statistics.median(cpus)
        print(f"median over {args.runs} runs: {statistics.median(rates):.1f} submissions/s "
              f"(latency median {statistics.median(medians):.0f} ms, p95 {statistics.median(p95s):.0f} ms); "
              f"target >= 40/s")
        print(f"gunicorn workers' CPU: {cpu:.1f} ms per submission, i.e. at most "
              f"{1000 * (os.cpu_count() or 1) / cpu:.0f} submissions/s on {os.cpu_count()} idle cores "
              f"before PostgreSQL and the clients take their share")
        whole = cpu + worker_ms / total
        print(f"request + outbox worker: {whole:.1f} ms CPU per submission, i.e. at most "
              f"{1000 * (os.cpu_count() or 1) / whole:.0f} submissions/s on {os.cpu_count()} idle cores")
        if not (count == pdfs == total and outbox and all(number == total for number in outbox.values())):
            raise SystemExit("not every submission was stored with its PDF and outbox rows")
        if delivered != sum(outbox.values()):
            raise SystemExit("the worker did not deliver every outbox row")
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
