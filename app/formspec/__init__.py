"""Declarative forms: forms/*.yaml → ServiceSpec (frozen, typed) → WTForms classes.

Core package: no Flask, no database, no other app package. Nothing else in the portal reads
the YAML files; everything reads the objects defined here. The format itself is described
in forms/README.md (and, for editors, forms/schema.json).

Loading and linting
    ``load_catalogue(forms_dir, cache_dir=None) -> Catalogue`` parses
    ``forms/catalogue/*.yaml`` (the association's services) and ``forms/<commune-slug>/*.yaml``
    (overrides with ``extends: <slug>`` and a commune's own services). A broken file never
    raises: it is skipped and its errors are in ``Catalogue.errors`` (list of SpecError).
    Pass ``cache_dir`` (e.g. ``<instance>/formspec-cache``, writable only by the portal) to
    skip parsing unchanged files at the next start (speccache.py).
    ``Catalogue.services`` maps slug → ServiceSpec (the catalogue as the association ships
    it); ``Catalogue.for_commune(commune_slug)`` the same with that commune's overrides
    applied and its own services added; ``Catalogue.get(slug, commune_slug=None)`` one
    service or None. ``lint_paths(paths) -> list[SpecError]`` checks files or folders (what
    ``flask --app wsgi forms check`` runs). ``SpecError`` has ``file``, ``line``, ``key``,
    ``message``; ``str()`` is ``"forms/catalogue/x.yaml:12: show_if: <message>"``; its
    subclasses name the kind of mistake (UnknownKeyError, ConditionError, ...).

The service (ServiceSpec, see model.py)
    slug, title, short_text, description (Markdown), audience, required_documents,
    fees (FeeSpec: text + rules, or None), legal_basis, processing_time, office_kind (matched
    against Office.kind), leika_key, topic, online, form (FormSpec or None for
    information-only services), version (SHA-256 of the canonical source), source (the
    merged definition as a JSON-serialisable dict: store it with each submission),
    retention_days, commune (None for the catalogue's own), extends.
    ``ServiceSpec.from_source(source)`` rebuilds one from a stored source.
    FormSpec.steps → StepSpec(name, title, intro, show_if, fieldsets) → FieldsetSpec(name,
    legend, show_if, fields) → FieldSpec(name, type: FieldType, label, hint, required,
    show_if, autocomplete, options, ...). Condition(field, operator, values).

Answers
    The answers of one application are ONE FLAT dict over all steps: field name → JSON
    value (field names are unique within a form). Values: text-like types → str (an IBAN
    compact, upper case: "DE89370400440532013000"); integer → int; decimal and money → str
    with "." ("12.50"); date → "YYYY-MM-DD"; time → "HH:MM"; select/radio → option value;
    multicheckbox → list of option values; checkbox/consent → bool; address → {"street",
    "house_number", "postal_code", "town"}; file → {"filename", "media_type", "size",
    "sha256", "storage_key"} (a list of those when ``multiple``). Empty optional answers are
    not stored; help fields never are. Hidden parts are neither validated nor stored.

The citizen's steps (compiler.py)
    ``step_form_class(service, step_name, gettext, language=german) -> type[StepForm]``
    builds the WTForms class of one step once and caches it per (version, step, gettext,
    language). ``gettext`` is the injected translation callable, called as
    ``gettext(msgid, **variables)`` (pass flask_babel's ``lazy_gettext``): labels, hints,
    options and error messages go through it. ``language`` is the injected callable that
    names the reader's language when a message is worded (pass the web layer's current
    language): dates and times in messages are written its way by Babel ("01.01.2026",
    "Jan 1, 2026", "1 sty 2026"; "08:00", "8:00 AM").
    Bind it with ``bind_step_form(form_class, formdata, answers, today=None)``:
    ``formdata`` is the POSTed data INCLUDING the uploads (a CombinedMultiDict of
    request.files and request.form), or None to show the step prefilled from ``answers``
    (the flat answers so far, which also feed show_if inside the step). ``today`` fixes the
    date for relative date limits (tests). ``form.validate()`` validates only the visible
    fields; a tampered option value is rejected, unknown POST keys are ignored.
    Every form field is named after its FieldSpec; ``form.field_specs`` maps name →
    FieldSpec. ``form.layout()`` gives what to render: a list of (FieldsetSpec, [bound
    fields]) without the parts that answers of EARLIER steps hide; parts whose show_if
    refers to a field of the same step are rendered (no JavaScript needed: they are simply
    ignored when their condition is false) and ``form.condition_of(name)`` returns their
    Condition for the progressive-enhancement script (data attributes). Help fields appear
    in the layout (render ``spec.text`` as Markdown). Date and address fields are single
    WTForms fields with sub-inputs (``field.subfields``: name, id, label, value,
    autocomplete, inputmode, width); their errors are in ``field.errors`` like any field's
    and ``field.id`` is the id of their first sub-input (for the error summary link).
    File fields keep the uploaded FileStorage objects; a required file field is satisfied
    by an upload stored earlier (present in ``answers``).

    ``step_answers(service, step_name, form, answers) -> dict`` the answers of that step
    from a validated form (visible fields only). File fields hold the new FileStorage (or a
    list of them) for the caller to store and replace with the metadata dict above — use
    ``inspect_upload(storage) -> UploadInfo`` (filename, media_type by content, size,
    sha256, data) — or the earlier metadata when nothing new was uploaded.
    ``clean_answers(service, answers) -> dict`` drops answers of parts hidden now and keys
    the form does not know (after a Change). ``missing_steps(service, answers) ->
    list[str]`` names the visible steps whose required answers are missing.
    ``visible_steps(form, answers)``, ``visible_fields(form, answers)`` and
    ``is_visible(part, answers)`` evaluate show_if (a hidden field's answer counts as none).
    After ``validate()``, ``form.visible_names`` lists the fields that were shown and
    checked, each with ``field.answer``; ``form.existing_files(name)`` the stored uploads of
    a file field (for "Hochgeladen: …"). ``FieldSpec.links_privacy_notice`` is True for
    consent fields (the template adds the commune's privacy-notice link to the label).

Outputs
    ``compute_fees(service, answers) -> FeeResult`` (lines of (label, Decimal), total).
    ``summarise(service, answers, gettext=None, locale="de") -> list[SummarySection]``:
    step → fieldsets → rows (name, label, display text, stored value, type), for the check
    page, the PDF, the staff view and e-mails alike; visible questions left empty read
    "Keine Angabe". Pass a non-lazy gettext: the texts are plain strings. Fee line labels
    are German source texts; translate them with the same gettext when showing them.
    ``data_schema(service) -> dict`` JSON Schema 2020-12 of the answers document.

Tooling
    ``app.formspec.cli:cli`` is the click group ``forms``: ``forms check [PATHS...]`` (lint,
    exit status 1 on errors) and ``forms schema`` (rewrites forms/schema.json from the
    parser's keys). ``app.formspec.babel:extract_formspec`` is the Babel extractor for
    forms/*.yaml (registered in pyproject.toml, used by babel.cfg).
"""

from __future__ import annotations

from app.formspec.answers import clean_answers, missing_steps, step_answers, summarise
from app.formspec.compiler import StepForm, bind_step_form, step_form_class
from app.formspec.conditions import is_visible, visible_fields, visible_steps
from app.formspec.dataschema import data_schema
from app.formspec.errors import (
    ConditionError,
    DuplicateNameError,
    ExtendsError,
    FeeRuleError,
    InvalidSpec,
    InvalidValueError,
    MissingKeyError,
    PatternError,
    SpecError,
    UnknownKeyError,
    WrongTypeError,
    YamlSyntaxError,
)
from app.formspec.fees import compute_fees
from app.formspec.loader import Catalogue, lint_paths, load_catalogue
from app.formspec.model import (
    FIM_DATATYPES,
    Condition,
    ConditionOperator,
    DateBound,
    FeeLine,
    FeeResult,
    FeeRule,
    FeeSpec,
    FieldsetSpec,
    FieldSpec,
    FieldType,
    FormSpec,
    Option,
    ServiceSpec,
    StepSpec,
    SummaryFieldset,
    SummaryRow,
    SummarySection,
)
from app.formspec.uploads import UploadInfo, detect_media_type, inspect_upload

__all__ = [
    "FIM_DATATYPES",
    "Catalogue",
    "Condition",
    "ConditionError",
    "ConditionOperator",
    "DateBound",
    "DuplicateNameError",
    "ExtendsError",
    "FeeLine",
    "FeeResult",
    "FeeRule",
    "FeeRuleError",
    "FeeSpec",
    "FieldSpec",
    "FieldType",
    "FieldsetSpec",
    "FormSpec",
    "InvalidSpec",
    "InvalidValueError",
    "MissingKeyError",
    "Option",
    "PatternError",
    "ServiceSpec",
    "SpecError",
    "StepForm",
    "StepSpec",
    "SummaryFieldset",
    "SummaryRow",
    "SummarySection",
    "UnknownKeyError",
    "UploadInfo",
    "WrongTypeError",
    "YamlSyntaxError",
    "bind_step_form",
    "clean_answers",
    "compute_fees",
    "data_schema",
    "detect_media_type",
    "inspect_upload",
    "is_visible",
    "lint_paths",
    "load_catalogue",
    "missing_steps",
    "step_answers",
    "step_form_class",
    "summarise",
    "visible_fields",
    "visible_steps",
]
