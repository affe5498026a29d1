"""Public pages per second: the portal under gunicorn against a bare Flask + Jinja app.

The portal runs under gunicorn (2 sync workers) on a fresh SQLite database in a temporary
folder, loaded with ``flask portal demo``, twice: as configured by default, with the page cache
of :mod:`app.pagecache` (in-process), and with ``CACHE_TYPE=NullCache`` (every page rendered).
In the same run a bare Flask app (defined below: a layout template and a list of items from a
tiny sqlite query, padded to a similar HTML size) runs under the same gunicorn settings. Each
page is loaded with the same generator for the same duration and concurrency: wrk when
installed (Debian: ``apt-get install wrk``), else a Python load generator with threads and
keep-alive connections. Pages are loaded one after the other, alternating portal and bare, so
they never compete for the CPU.

Printed per page: requests/s, p50 and p95 latency, HTML size, and the ratio portal/bare of
requests/s (target: at least 0.7) for the cached and the uncached portal.

    .venv/bin/python bench/bench_pages.py [--duration 10] [--connections 8] [--rounds 1] [--no-cache]
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, g, render_template
from jinja2 import DictLoader

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent

#: (label, portal path, bare path)
PAGES = (
    ("commune home", "/werneuchen/", "/"),
    ("news list", "/werneuchen/news/", "/news/"),
)

# -- the bare app ---------------------------------------------------------------------------------

_LAYOUT = """<!doctype html>
<html lang="de">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{{ title }} – Werneuchen – Kommunalportal</title>
  <link rel="stylesheet" href="/static/css/portal.css">
  {% for code in ("de", "en", "pl", "dsb") %}
  <link rel="alternate" hreflang="{{ code }}" href="http://localhost{{ path }}?lang={{ code }}">
  {% endfor %}
</head>
<body>
  <a class="skip-link" href="#main">Zum Inhalt springen</a>
  <header class="site-header">
    <div class="wrap site-header__inner">
      <a class="site-header__brand" href="/"><span class="site-header__initials">WE</span>
        <span class="site-header__name">Werneuchen</span></a>
      <nav class="language-switcher" aria-label="Sprache wählen"><ul>
        {% for code, name in languages %}
        <li><a href="{{ path }}?lang={{ code }}" hreflang="{{ code }}" lang="{{ code }}">{{ name }}</a></li>
        {% endfor %}
      </ul></nav>
    </div>
    <nav class="site-nav" aria-label="Hauptnavigation"><ul>
      {% for label, href in nav %}<li><a href="{{ href }}">{{ label }}</a></li>{% endfor %}
    </ul></nav>
  </header>
  <div class="wrap"><main id="main" class="main">
    {% block content %}{% endblock %}
  </main></div>
  <footer class="site-footer"><div class="wrap"><nav aria-label="Rechtliches"><ul class="site-footer__links">
    {% for label in ("Impressum", "Datenschutz", "Barrierefreiheit", "Leichte Sprache", "Kontakt") %}
    <li><a href="/{{ label | lower | replace(' ', '-') }}">{{ label }}</a></li>
    {% endfor %}
  </ul></nav></div></footer>
</body>
</html>
"""

_LIST = """{% extends "layout.html" %}
{% block content %}
<h1>{{ title }}</h1>
<ul class="list-plain news-list">
  {% for item in items %}
  <li>
    <h2 class="news-list__title"><a href="/news/{{ item.slug }}">{{ item.title }}</a></h2>
    <p class="meta"><time datetime="{{ item.day }}">{{ item.day }}</time></p>
    <p>{{ item.lead }}</p>
  </li>
  {% endfor %}
</ul>
{% endblock %}
"""

_LANGUAGES = (("de", "Deutsch"), ("en", "English"), ("pl", "Polski"), ("dsb", "Dolnoserbšćina"))
_NAV = [
    ("Startseite", "/"),
    ("Nachrichten", "/news/"),
    ("Veranstaltungen", "/events/"),
    ("Dokumente", "/documents/"),
    ("Rathaus und Verwaltung", "/rathaus"),
    ("Leben in Werneuchen", "/leben"),
    ("Wirtschaft und Bauen", "/wirtschaft"),
    ("Suche", "/search"),
]


def _bare_db() -> sqlite3.Connection:
    if "db" not in g:
        g.db = sqlite3.connect(os.environ["BARE_DB"])
        g.db.row_factory = sqlite3.Row
    return g.db


def bare_app() -> Flask:
    """A bare Flask + Jinja app: one layout, one sqlite query per page. gunicorn's target."""
    app = Flask(__name__)
    app.jinja_loader = DictLoader({"layout.html": _LAYOUT, "list.html": _LIST})
    items_per_page = int(os.environ.get("BARE_ITEMS", "10"))

    @app.teardown_appcontext
    def _close(_exc: BaseException | None) -> None:
        conn = g.pop("db", None)
        if conn is not None:
            conn.close()

    def _page(title: str, path: str) -> str:
        rows = _bare_db().execute(
            "SELECT slug, title, day, lead FROM news ORDER BY day DESC LIMIT ?", (items_per_page,)
        )
        return render_template(
            "list.html", title=title, path=path, nav=_NAV, languages=_LANGUAGES, items=rows.fetchall()
        )

    app.add_url_rule("/", "home", lambda: _page("Stadt Werneuchen", "/"))
    app.add_url_rule("/news/", "news", lambda: _page("Nachrichten", "/news/"))
    return app


def _make_bare_db(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE news (id INTEGER PRIMARY KEY, slug TEXT, title TEXT, day TEXT, lead TEXT)")
    conn.executemany(
        "INSERT INTO news (slug, title, day, lead) VALUES (?, ?, ?, ?)",
        [
            (
                f"meldung-{n}",
                f"Meldung Nummer {n} aus dem Rathaus",
                f"2026-11-{n + 1:02d}",
                "Ein Vorspann von etwa dieser Länge, wie ihn die Redaktion über jede Nachricht schreibt.",
            )
            for n in range(30)
        ],
    )
    conn.commit()
    conn.close()


# -- servers and load -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_gunicorn(target: str, env: dict[str, str], chdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    proc = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--chdir", str(chdir), "--log-level", "warning", target],
        env=env,
    )
    # Ready when a worker answers (the socket is open before the workers have loaded the app).
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if _get(port, "/", timeout=5)[0] == 200:
                return proc, port
        except OSError:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise SystemExit(f"gunicorn {target} did not start")


def _get(port: int, path: str, timeout: float = 30) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, body


@dataclass
class Figures:
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    errors: int


_WRK_SCRIPT = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format("BENCH %d %f %f %f %d\\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, errors))
end
"""


def _load_wrk(wrk: str, url: str, duration: int, connections: int, script: Path) -> Figures:
    out = subprocess.run(
        [wrk, "-t2", f"-c{connections}", f"-d{duration}s", "-s", str(script), url],
        check=True, capture_output=True, text=True,
    ).stdout
    match = re.search(r"BENCH (\d+) ([\d.]+) ([\d.]+) ([\d.]+) (\d+)", out)
    if match is None:
        raise SystemExit(f"unexpected wrk output:\n{out}")
    requests, seconds, p50, p95, errors = match.groups()
    return Figures(int(requests) / float(seconds), float(p50), float(p95), int(errors))


def _load_python(port: int, path: str, duration: int, connections: int) -> Figures:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.monotonic() + duration

    def client() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        failed = 0
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    failed += 1
            except OSError:
                failed += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            mine.append((time.perf_counter() - started) * 1000)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors += failed

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    cuts = statistics.quantiles(latencies, n=100)
    return Figures(len(latencies) / elapsed, cuts[49], cuts[94], errors)


def _machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores (nproc), {model}, Python {platform.python_version()}, load average {load}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per page and app")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections")
    parser.add_argument("--rounds", type=int, default=1, help="repeat and report the median")
    parser.add_argument(
        "--python-load", action="store_true", help="use the Python generator even if wrk exists"
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="measure only the portal without its page cache"
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="kp_bench_pages_"))
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"sqlite:///{workdir / 'portal.db'}",
        STORAGE_DIR=str(workdir / "storage"),
        DEMO_MODE="1",
        LOG_LEVEL="WARNING",
        BARE_DB=str(workdir / "bare.db"),
        PYTHONPATH=str(PROJECT_ROOT),
    )
    env.pop("PORTAL_ENV", None)
    servers: list[subprocess.Popen[bytes]] = []
    try:
        subprocess.run(
            [str(VENV_BIN / "python"), "-c",
             "from app import create_app; from app.extensions import db\n"
             "app = create_app()\nwith app.app_context(): db.create_all()"],
            env=env, check=True, cwd=PROJECT_ROOT,
        )
        subprocess.run(
            [str(VENV_BIN / "flask"), "--app", "wsgi", "portal", "demo"],
            env=env, check=True, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL,
        )
        portals: dict[str, int] = {}
        variants = (("portal-nc", "NullCache"),) if args.no_cache else (
            ("portal", "SimpleCache"), ("portal-nc", "NullCache")
        )
        for name, cache_type in variants:
            server, port = _start_gunicorn("wsgi:app", {**env, "CACHE_TYPE": cache_type}, PROJECT_ROOT)
            servers.append(server)
            portals[name] = port

        # Pad the bare page to about the portal's size: same layout weight, more list items.
        any_port = next(iter(portals.values()))
        sizes = {label: len(_get(any_port, path)[1]) for label, path, _ in PAGES}
        _make_bare_db(workdir / "bare.db")
        env["BARE_ITEMS"] = str(max(5, min(30, round(max(sizes.values()) / 420))))
        bare, bare_port = _start_gunicorn("bench_pages:bare_app()", env, PROJECT_ROOT / "bench")
        servers.append(bare)

        wrk = None if args.python_load else shutil.which("wrk")
        script = workdir / "report.lua"
        script.write_text(_WRK_SCRIPT)

        def load(port: int, path: str) -> Figures:
            status, _ = _get(port, path)
            if status != 200:
                raise SystemExit(f"{path} answered {status}")
            for _ in range(20):  # warm-up: imports, template compilation, SQLite page cache
                _get(port, path)
            if wrk:
                url = f"http://127.0.0.1:{port}{path}"
                return _load_wrk(wrk, url, args.duration, args.connections, script)
            return _load_python(port, path, args.duration, args.connections)

        generator = "wrk" if wrk else "Python threads"
        print(f"Machine: {_machine()}")
        print(f"Load: {generator}, {args.connections} connections, {args.duration} s per page, "
              f"{args.rounds} round(s); gunicorn 2 sync workers each; SQLite; demo data")
        print("portal: page cache on (default, SimpleCache); portal-nc: CACHE_TYPE=NullCache")
        print()
        header = f"{'page':<14} {'app':<9} {'HTML':>8} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8}"
        print(header)
        print("-" * len(header))
        for label, portal_path, bare_path in PAGES:
            apps = [(name, port, portal_path) for name, port in portals.items()]
            apps.append(("bare", bare_port, bare_path))
            runs: dict[str, list[Figures]] = {name: [] for name, _, _ in apps}
            for _ in range(args.rounds):
                for name, port, path in apps:
                    runs[name].append(load(port, path))
            medians = {}
            for name, port, path in apps:
                figs = runs[name]
                rps = statistics.median(f.requests_per_second for f in figs)
                p50 = statistics.median(f.p50_ms for f in figs)
                p95 = statistics.median(f.p95_ms for f in figs)
                errors = sum(f.errors for f in figs)
                size = len(_get(port, path)[1])
                medians[name] = rps
                note = f"  ({errors} errors)" if errors else ""
                print(f"{label:<14} {name:<9} {size:>7}B {rps:>9.1f} {p50:>8.1f} {p95:>8.1f}{note}")
            for name in portals:
                ratio = medians[name] / medians["bare"]
                print(f"{label:<14} ratio {name}/bare: {ratio:.2f} (target >= 0.7)")
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
