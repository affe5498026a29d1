"""Form definitions: start-up compile time, and render+validate throughput against hand-written WTForms.

1. Start-up: ``load_catalogue`` (YAML read with line numbers, lint, frozen specs) plus building the
   WTForms class of every step (``step_form_class``, cache cleared first), for the shipped forms/
   and for 1,000 generated definitions of about 15 fields each (target: at most 1 s for 1,000).
   Cold start parses every file; warm start reads the one cache file of the catalogue. The
   start-up that counts is measured in fresh processes, as a worker starts: import the engine,
   warm-load the catalogue, build every step class (the figures exclude the interpreter's own
   start and the imports, which are printed beside them).
2. One step of 15 fields (text, date, address, e-mail, phone, integer, select, radio, checkbox,
   IBAN, postal code, money, textarea, consent) bound to the same POST data, validated and
   rendered (label and widget of every field), as compiled from YAML and as a hand-written
   WTForms form with the same fields and equivalent validators, interleaved in the same run.
   The ratio is compiled/hand-written throughput (target: at least 0.7).

Figures are medians over repetitions, wall-clock with CPU time beside it (the machine may be
shared). Run:

    .venv/bin/python bench/bench_forms.py [--repeat 7] [--iterations 300] [--generated 1000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stdnum import iban as stdnum_iban
from werkzeug.datastructures import MultiDict
from wtforms import Form
from wtforms.fields import (
    BooleanField,
    DecimalField,
    FormField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from app.formspec import bind_step_form, load_catalogue, step_form_class  # noqa: E402
from app.formspec import compiler as formspec_compiler  # noqa: E402
from app.formspec.parser import parse_service  # noqa: E402
from app.formspec.texts import untranslated  # noqa: E402
from app.formspec.yamlsource import read_yaml  # noqa: E402

TODAY = dt.date(2026, 6, 1)


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} cores (nproc), {model}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; load average {load}"
    )


def line(label: str, wall: float, cpu: float, target: float | None = None) -> None:
    """One figure: wall-clock and CPU milliseconds, and the verdict against a target in seconds."""
    verdict = ""
    if target is not None:
        verdict = f"  -> target <= {target:g} s {'met' if wall <= target else 'NOT met'}"
        if wall > target >= cpu:
            verdict += " (met in CPU time)"
    print(f"  {label:<40} {wall * 1000:8.1f} ms  (CPU {cpu * 1000:7.1f} ms){verdict}")


def timed(function: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of ``function`` over ``repeat`` runs."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        function()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


# -- start-up ------------------------------------------------------------------------


def compile_all(services: list[Any]) -> int:
    """Build every step class from scratch; the number of classes built."""
    formspec_compiler._cache.clear()
    built = 0
    for service in services:
        for step in service.form.steps if service.form else ():
            step_form_class(service, step.name, untranslated)
            built += 1
    return built


FRESH_START = """
import sys, time
wall, cpu = time.perf_counter(), time.process_time()
sys.path.insert(0, {root!r})
from pathlib import Path
from app.formspec import load_catalogue, step_form_class
from app.formspec.texts import untranslated
imported = time.perf_counter()
wall0, cpu0 = time.perf_counter(), time.process_time()
cache = {cache!r}
catalogue = load_catalogue(Path({forms!r}), Path(cache) if cache else None)
wall1, cpu1 = time.perf_counter(), time.process_time()
for service in catalogue.services.values():
    for step in service.form.steps if service.form else ():
        step_form_class(service, step.name, untranslated)
wall2, cpu2 = time.perf_counter(), time.process_time()
print(
    (imported - wall) * 1000, (wall1 - wall0) * 1000, (cpu1 - cpu0) * 1000,
    (wall2 - wall1) * 1000, (cpu2 - cpu1) * 1000, (wall2 - wall0) * 1000, (cpu2 - cpu0) * 1000,
)
"""
FRESH_KEYS = ("import", "load", "load_cpu", "compile", "compile_cpu", "total", "total_cpu")


def fresh_start(forms_dir: Path, cache_dir: Path | None) -> dict[str, float]:
    """One worker's start in a new interpreter: milliseconds for imports, load, compile."""
    cache = str(cache_dir) if cache_dir else ""
    script = FRESH_START.format(root=str(PROJECT_ROOT), forms=str(forms_dir), cache=cache)
    output = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True).stdout
    return dict(zip(FRESH_KEYS, map(float, output.split()), strict=True))


def median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def all_services(forms_dir: Path, cache_dir: Path | None = None) -> list[Any]:
    catalogue = load_catalogue(forms_dir, cache_dir)
    if catalogue.errors:
        raise SystemExit("\n".join(str(error) for error in catalogue.errors))
    services = list(catalogue.services.values())
    for own in catalogue.commune_services.values():
        services.extend(own.values())
    return services


FIELD_TEMPLATES = [
    "- {{name: {n}, type: text, label: Text {i}, max_length: 120}}",
    "- {{name: {n}, type: textarea, label: Text {i}, required: false}}",
    "- {{name: {n}, type: email, label: E-Mail {i}}}",
    "- {{name: {n}, type: phone, label: Telefon {i}, required: false}}",
    "- {{name: {n}, type: integer, label: Zahl {i}, min: 0, max: 99}}",
    "- {{name: {n}, type: decimal, label: Fläche {i}, min: 0, max: 1000, places: 1}}",
    "- {{name: {n}, type: money, label: Betrag {i}, required: false}}",
    "- {{name: {n}, type: date, label: Datum {i}, min: -120y, max: today}}",
    "- {{name: {n}, type: time, label: Uhrzeit {i}, min: '08:00', max: '18:00'}}",
    "- {{name: {n}, type: checkbox, label: Häkchen {i}}}",
    "- {{name: {n}, type: file, label: Datei {i}, max_size: 5 MB, required: false}}",
    "- {{name: {n}, type: iban, label: IBAN {i}}}",
    "- {{name: {n}, type: postal_code, label: PLZ {i}}}",
    "- {{name: {n}, type: address, label: Anschrift {i}}}",
    "- {{name: {n}, type: help, text: Hinweis {i}.}}",
]


def generated_definition(rng: random.Random, number: int) -> str:
    """A valid definition of three steps with about 15 fields, choices and conditions."""
    lines = [
        f"title: Generierter Dienst {number}",
        "short_text: Für den Benchmark erzeugt.",
        f"office_kind: {rng.choice(['buergeramt', 'ordnungsamt', 'bauamt'])}",
        "topic: Benchmark",
        "fees:",
        "  rules:",
        '    - {label: Grundgebühr, amount: "10.00"}',
        '    - {label: je Stück, amount: "2.50", per: f0_1}',
        "form:",
        "  steps:",
    ]
    for step in range(3):
        lines += [f"    - name: schritt-{step}", f"      title: Schritt {step}", "      fieldsets:"]
        for fieldset in range(2):
            lines += [
                f"        - name: gruppe_{step}_{fieldset}",
                f"          legend: Gruppe {fieldset}",
                "          fields:",
            ]
            if step == 0 and fieldset == 0:
                lines += [
                    "            - name: f0_0",
                    "              type: radio",
                    "              label: Art",
                    "              options: [{value: a, label: A}, {value: b, label: B},"
                    " {value: c, label: C}]",
                    "            - {name: f0_1, type: integer, label: Anzahl, min: 1, max: 9}",
                ]
                continue
            for index in range(rng.randint(2, 3)):
                name = f"f{step}_{fieldset}_{index}"
                line = rng.choice(FIELD_TEMPLATES).format(n=name, i=index)
                if step > 0 and rng.random() < 0.3:
                    line = line[:-1] + ", show_if: {field: f0_0, one_of: [a, b]}}"
                lines.append("            " + line)
    lines += [
        "    - name: abschluss",
        "      title: Datenschutz",
        "      fieldsets:",
        "        - name: datenschutz",
        "          fields:",
        "            - {name: datenschutz, type: consent, label: Ich habe die Datenschutzhinweise gelesen.}",
    ]
    return "\n".join(lines) + "\n"


# -- render + validate -------------------------------------------------------------------

STEP_YAML = """
title: Benchmark
short_text: Ein Schritt mit 15 Feldern.
office_kind: buergeramt
topic: Benchmark
form:
  steps:
    - name: angaben
      title: Angaben
      fieldsets:
        - name: person
          legend: Person
          fields:
            - {name: nachname, type: text, label: Familienname, autocomplete: family-name}
            - {name: vorname, type: text, label: Vornamen, autocomplete: given-name}
            - {name: geburtsdatum, type: date, label: Geburtsdatum, min: -120y, max: -18y}
            - {name: anschrift, type: address, label: Anschrift}
            - {name: email, type: email, label: E-Mail-Adresse}
            - {name: telefon, type: phone, label: Telefon, required: false}
        - name: antrag
          legend: Antrag
          fields:
            - {name: anzahl, type: integer, label: Anzahl, min: 1, max: 10}
            - name: art
              type: select
              label: Art
              options: [{value: einfach, label: Einfach}, {value: erweitert, label: Erweitert}]
            - name: zustellung
              type: radio
              label: Zustellung
              options: [{value: post, label: Post}, {value: abholung, label: Abholung}]
            - {name: eilig, type: checkbox, label: Eilig}
            - {name: iban, type: iban, label: IBAN}
            - {name: plz, type: postal_code, label: Postleitzahl}
            - {name: betrag, type: money, label: Betrag, min: 0, max: 1000, required: false}
            - {name: nachricht, type: textarea, label: Nachricht, max_length: 2000, required: false}
            - {name: datenschutz, type: consent, label: Ich habe die Datenschutzhinweise gelesen.}
"""

POST = MultiDict(
    {
        "nachname": "Mustermann",
        "vorname": "Erika",
        "geburtsdatum-day": "12",
        "geburtsdatum-month": "8",
        "geburtsdatum-year": "1964",
        "anschrift-street": "Am Markt",
        "anschrift-house_number": "5a",
        "anschrift-postal_code": "16356",
        "anschrift-town": "Werneuchen",
        "email": "erika@example.de",
        "telefon": "033398 12345",
        "anzahl": "2",
        "art": "erweitert",
        "zustellung": "post",
        "eilig": "y",
        "iban": "DE89 3704 0044 0532 0130 00",
        "plz": "16356",
        "betrag": "12.50",
        "nachricht": "Bitte schnell bearbeiten.",
        "datenschutz": "y",
    }
)

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$"
PHONE = r"^\+?[0-9][0-9 ()/.\-]*[0-9]$"
POSTAL_CODE = r"^[0-9]{5}$"


def iban_check(form: Form, field: Any) -> None:
    try:
        stdnum_iban.validate(field.data or "")
    except stdnum_iban.ValidationError as error:
        raise ValidationError("Die IBAN ist ungültig.") from error


class HandDate(Form):
    """Day, month, year; the date and its range checked as a whole."""

    day = StringField("Tag", [InputRequired()])
    month = StringField("Monat", [InputRequired()])
    year = StringField("Jahr", [InputRequired()])

    def validate(self, extra_validators: Any = None) -> bool:
        if not super().validate(extra_validators):
            return False
        try:
            value = dt.date(int(self.year.data), int(self.month.data), int(self.day.data))
        except ValueError:
            self.year.errors = ["Kein gültiges Datum."]
            return False
        if (
            not dt.date(TODAY.year - 120, TODAY.month, TODAY.day)
            <= value
            <= dt.date(TODAY.year - 18, TODAY.month, TODAY.day)
        ):
            self.year.errors = ["Datum außerhalb des Bereichs."]
            return False
        return True


class HandAddress(Form):
    street = StringField("Straße", [InputRequired(), Length(max=100)])
    house_number = StringField("Hausnummer", [InputRequired(), Length(max=100)])
    postal_code = StringField("Postleitzahl", [InputRequired(), Regexp(POSTAL_CODE)])
    town = StringField("Ort", [InputRequired(), Length(max=100)])


class HandWritten(Form):
    """The same step written by hand with WTForms' own fields and validators."""

    nachname = StringField("Familienname", [InputRequired(), Length(max=250)])
    vorname = StringField("Vornamen", [InputRequired(), Length(max=250)])
    geburtsdatum = FormField(HandDate, "Geburtsdatum", separator="-")
    anschrift = FormField(HandAddress, "Anschrift", separator="-")
    email = StringField("E-Mail-Adresse", [InputRequired(), Length(max=254), Regexp(EMAIL)])
    telefon = StringField("Telefon", [Optional(), Length(max=30), Regexp(PHONE)])
    anzahl = IntegerField("Anzahl", [InputRequired(), NumberRange(1, 10)])
    art = SelectField(
        "Art", choices=[("", "Bitte auswählen"), ("einfach", "Einfach"), ("erweitert", "Erweitert")]
    )
    zustellung = RadioField("Zustellung", choices=[("post", "Post"), ("abholung", "Abholung")])
    eilig = BooleanField("Eilig")
    iban = StringField("IBAN", [InputRequired(), iban_check])
    plz = StringField("Postleitzahl", [InputRequired(), Regexp(POSTAL_CODE)])
    betrag = DecimalField("Betrag", [Optional(), NumberRange(0, 1000)], places=2)
    nachricht = TextAreaField("Nachricht", [Optional(), Length(max=2000)])
    datenschutz = BooleanField("Ich habe die Datenschutzhinweise gelesen.", [DataRequired()])


def render(form: Form) -> str:
    return "".join(str(field.label) + str(field()) for field in form)


def run_compiled(form_class: Any, iterations: int) -> None:
    for _ in range(iterations):
        form = bind_step_form(form_class, POST, {}, today=TODAY)
        if not form.validate():
            raise SystemExit(f"compiled form rejected the benchmark data: {form.errors}")
        render(form)


def run_hand_written(iterations: int) -> None:
    for _ in range(iterations):
        form = HandWritten(POST)
        if not form.validate():
            raise SystemExit(f"hand-written form rejected the benchmark data: {form.errors}")
        render(form)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--generated", type=int, default=1000)
    args = parser.parse_args()

    print(f"Machine: {machine()}")
    forms_dir = PROJECT_ROOT / "forms"
    services = all_services(forms_dir)
    steps = compile_all(services)
    load_wall, load_cpu = timed(lambda: load_catalogue(forms_dir), args.repeat)
    compile_wall, compile_cpu = timed(lambda: compile_all(services), args.repeat)
    print(f"\nShipped forms ({len(services)} services, {steps} steps):")
    line("load_catalogue (YAML, lint, specs)", load_wall, load_cpu)
    line("build all step classes", compile_wall, compile_cpu)

    rng = random.Random(20261125)
    with tempfile.TemporaryDirectory() as tmp:
        generated_dir = Path(tmp) / "forms"
        cache_dir = Path(tmp) / "cache"
        (generated_dir / "catalogue").mkdir(parents=True)
        for number in range(args.generated):
            text = generated_definition(rng, number)
            (generated_dir / "catalogue" / f"generiert-{number:04}.yaml").write_text(text, encoding="utf-8")
        generated = all_services(generated_dir)
        fields = sum(len(list(service.form.fields())) for service in generated)
        texts = [
            (path, path.read_text(encoding="utf-8"))
            for path in sorted((generated_dir / "catalogue").iterdir())
        ]
        repeat = max(3, args.repeat // 2)
        read_wall, read_cpu = timed(lambda: [read_yaml(text, str(path)) for path, text in texts], repeat)
        parsed = [(path, read_yaml(text, str(path))[0]) for path, text in texts]
        spec_wall, spec_cpu = timed(
            lambda: [parse_service(data, path.stem, str(path)) for path, data in parsed], repeat
        )
        # Free what only the figures above needed, as a real start would not hold it.
        parsed, texts, generated = [], [], []
        cold_wall, cold_cpu = timed(lambda: load_catalogue(generated_dir), repeat)
        load_catalogue(generated_dir, cache_dir)
        warm_wall, warm_cpu = timed(lambda: load_catalogue(generated_dir, cache_dir), repeat)
        warm = all_services(generated_dir, cache_dir)
        built = compile_all(warm)
        gen_wall, gen_cpu = timed(lambda: compile_all(warm), repeat)
        source_wall, source_cpu = timed(
            lambda: [service.source for service in all_services(generated_dir, cache_dir)], repeat
        )
        warm = []
        fresh = [fresh_start(generated_dir, cache_dir) for _ in range(args.repeat)]
        fresh_cold = [fresh_start(generated_dir, None) for _ in range(repeat)]
    print(f"\n{args.generated} generated definitions ({fields} fields, {built} steps):")
    line("read YAML with line numbers", read_wall, read_cpu)
    line("lint + frozen specs", spec_wall, spec_cpu)
    line("cold start: load_catalogue, no cache", cold_wall, cold_cpu)
    line("warm start: load_catalogue, cache", warm_wall, warm_cpu, target=1.0)
    line("compile: build all step classes", gen_wall, gen_cpu, target=1.0)
    line("warm start + compile everything", warm_wall + gen_wall, warm_cpu + gen_cpu, target=1.0)
    line("cold start + compile everything", cold_wall + gen_wall, cold_cpu + gen_cpu, target=1.0)
    line("warm start + decode every source", source_wall, source_cpu)
    print(
        f"\nFresh worker processes (median of {args.repeat} warm, {repeat} cold starts; "
        f"the imports before took {median(fresh, 'import'):.0f} ms):"
    )
    line("warm start: load_catalogue, cache", median(fresh, "load") / 1000, median(fresh, "load_cpu") / 1000)
    line(
        "compile: build all step classes",
        median(fresh, "compile") / 1000,
        median(fresh, "compile_cpu") / 1000,
    )
    line(
        "warm start + compile everything",
        median(fresh, "total") / 1000,
        median(fresh, "total_cpu") / 1000,
        target=1.0,
    )
    line(
        "cold start + compile everything",
        median(fresh_cold, "total") / 1000,
        median(fresh_cold, "total_cpu") / 1000,
        target=1.0,
    )

    data, errors = read_yaml(STEP_YAML, "bench")
    service, errors = parse_service(data, "benchmark", "bench")
    if service is None:
        raise SystemExit("\n".join(str(error) for error in errors))
    form_class = step_form_class(service, "angaben", untranslated)
    run_compiled(form_class, 20)
    run_hand_written(20)
    compiled, hand = [], []
    for _ in range(args.repeat):
        compiled.append(timed(lambda: run_compiled(form_class, args.iterations), 1))
        hand.append(timed(lambda: run_hand_written(args.iterations), 1))
    compiled_wall = statistics.median(wall for wall, _ in compiled)
    compiled_cpu = statistics.median(cpu for _, cpu in compiled)
    hand_wall = statistics.median(wall for wall, _ in hand)
    hand_cpu = statistics.median(cpu for _, cpu in hand)
    ratio = hand_wall / compiled_wall
    ratio_cpu = hand_cpu / compiled_cpu
    each = 1e6 / args.iterations
    print(
        f"\nRender + validate one step of 15 fields "
        f"({args.iterations} forms per run, median of {args.repeat}):"
    )
    print(
        f"  compiled from YAML    {args.iterations / compiled_wall:7.0f} forms/s"
        f"  ({compiled_wall * each:6.0f} µs each, CPU {compiled_cpu * each:6.0f} µs)"
    )
    print(
        f"  hand-written WTForms  {args.iterations / hand_wall:7.0f} forms/s"
        f"  ({hand_wall * each:6.0f} µs each, CPU {hand_cpu * each:6.0f} µs)"
    )
    verdict = "met" if ratio >= 0.7 else "NOT met"
    print(
        f"  ratio compiled/hand-written throughput: {ratio:.2f} (CPU {ratio_cpu:.2f}); "
        f"target >= 0.7 {verdict}"
    )


if __name__ == "__main__":
    main()
