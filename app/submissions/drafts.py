"""Drafts: applications being filled in, kept server-side until submitted or expired.

The citizen holds an unguessable token (``secrets.token_urlsafe(32)``) in a cookie
and in a resume link; the database keeps only its SHA-256, so a leaked database
row does not open anybody's draft. A draft lives ``DRAFT_LIFETIME_DAYS`` from its
last save. The functions here add to the session; the caller commits, except
:func:`purge_expired_drafts`, which is a job of its own.

Uploaded files live in the content-addressed blob store, referenced from the
answers by their ``storage_key``. A blob may be shared (the same bytes uploaded
twice, or kept by a submission), so it is deleted only when nothing refers to it
any more: no other draft's answers and no ``storage_key``/``*_key`` column of any
table (attachments, PDFs, coats of arms, documents, ...).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import String, Text, cast, delete, select

from app.extensions import db
from app.formspec import ServiceSpec, clean_answers, missing_steps, visible_steps
from app.storage import blob_store
from app.submissions.models import Draft
from app.tenancy.models import Commune
from app.timeutil import utcnow

log = logging.getLogger(__name__)

#: Name of the cookie that carries the draft token (scoped to the service's path).
DRAFT_COOKIE = "kp_draft"


def new_token() -> str:
    """A fresh, unguessable draft token (the citizen's key to the draft)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """What the database keeps of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def draft_lifetime() -> timedelta:
    """How long a draft lives after its last save (DRAFT_LIFETIME_DAYS)."""
    return timedelta(days=int(current_app.config["DRAFT_LIFETIME_DAYS"]))


def create_draft(
    commune: Commune, service: ServiceSpec, *, locale: str, now: datetime | None = None
) -> tuple[Draft, str]:
    """A new, empty draft of ``service`` in ``commune`` and the token that opens it."""
    now = now or utcnow()
    token = new_token()
    draft = Draft(
        token_hash=hash_token(token),
        commune_id=commune.id,
        service_slug=service.slug,
        form_version=service.version,
        answers={},
        completed_steps=[],
        locale=locale,
        created_at=now,
        updated_at=now,
        expires_at=now + draft_lifetime(),
    )
    # Inserted by the next flush: the step that creates it saves its answers in the same INSERT.
    db.session.add(draft)
    return draft, token


@contextmanager
def keeping_loaded() -> Iterator[None]:
    """Commits of ``db.session`` inside leave its objects loaded instead of expiring them.

    For the flow's writes, which go on to use exactly the values they have just stored (the
    draft and its commune after a step, the submission with its attachments after the submit):
    reading them all back after the commit would only cost round trips.
    """
    session = db.session()
    previous = session.expire_on_commit
    session.expire_on_commit = False
    try:
        yield
    finally:
        session.expire_on_commit = previous


def find_draft(
    token: str | None, commune: Commune, service_slug: str, *, now: datetime | None = None
) -> Draft | None:
    """The unexpired draft this token opens for this commune's service, or None.

    Submitted drafts are found too (``submission_id`` set), so a repeated submit
    can be recognised; the caller decides what to do with them.
    """
    if not token or len(token) > 128:
        return None
    now = now or utcnow()
    return db.session.scalar(
        select(Draft).where(
            Draft.token_hash == hash_token(token),
            Draft.commune_id == commune.id,
            Draft.service_slug == service_slug,
            Draft.expires_at > now,
        )
    )


def sync_form_version(draft: Draft, service: ServiceSpec) -> bool:
    """Bring a draft filled against an older version of the form up to the current one.

    Answers the form no longer asks (or now hides) are dropped, and every step is
    marked incomplete, so the citizen walks the steps again with the kept answers
    prefilled and each step is validated against the current definition before it
    counts. Returns True when the version had changed.
    """
    if draft.form_version == service.version:
        return False
    draft.answers = clean_answers(service, draft.answers or {})
    draft.completed_steps = []
    draft.form_version = service.version
    return True


def step_field_names(service: ServiceSpec, step_name: str) -> set[str]:
    """The names of the fields one step asks."""
    if service.form is None:
        return set()
    step = service.form.step(step_name)
    return {field.name for field in step.fields()} if step is not None else set()


def save_step(
    draft: Draft,
    service: ServiceSpec,
    step_name: str,
    answers: dict[str, Any],
    *,
    locale: str | None = None,
    now: datetime | None = None,
) -> set[str]:
    """Store the answers of one validated step and mark it complete.

    The step's earlier answers are replaced (a field left empty now is gone), then
    answers of parts the new answers hide are dropped, and steps that are hidden
    now no longer count as complete. The draft's lifetime starts again. Returns the
    storage keys of files no longer referenced by this draft (for
    :func:`release_blobs` after the commit).
    """
    now = now or utcnow()
    before = storage_keys(draft.answers or {})
    names = step_field_names(service, step_name)
    merged = {key: value for key, value in (draft.answers or {}).items() if key not in names}
    merged.update(answers)
    merged = clean_answers(service, merged)
    draft.answers = merged
    done = set(draft.completed_steps or []) | {step_name}
    shown = visible_steps(service.form, merged) if service.form is not None else []
    draft.completed_steps = [step.name for step in shown if step.name in done]
    if locale:
        draft.locale = locale
    draft.updated_at = now
    draft.expires_at = now + draft_lifetime()
    return before - storage_keys(merged)


def keep_uploads(draft: Draft, uploads: dict[str, Any], *, now: datetime | None = None) -> set[str]:
    """Store file answers of a step that is not complete yet (its other answers failed).

    The step is not marked complete. Returns the storage keys no longer referenced by
    this draft (files these uploads replace), for :func:`release_blobs` after the commit.
    """
    now = now or utcnow()
    before = storage_keys(draft.answers or {})
    draft.answers = {**(draft.answers or {}), **uploads}
    draft.updated_at = now
    draft.expires_at = now + draft_lifetime()
    return before - storage_keys(draft.answers)


def stored_files(answers: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The file metadata stored for field ``name`` (none, one or several files)."""
    value = answers.get(name)
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


def first_incomplete_step(service: ServiceSpec, draft: Draft | None) -> str | None:
    """The first visible step the citizen has not completed (None: ready to check).

    A step counts as complete when it was continued from and none of its required
    answers is missing; this catches steps skipped by editing the URL.
    """
    if service.form is None:
        return None
    answers = draft.answers if draft is not None else {}
    completed = set(draft.completed_steps or []) if draft is not None else set()
    missing = set(missing_steps(service, answers))
    for step in visible_steps(service.form, answers):
        if step.name not in completed or step.name in missing:
            return step.name
    return None


def storage_keys(answers: dict[str, Any]) -> set[str]:
    """The blob keys of every uploaded file in a set of answers."""
    return {key for key in _walk_keys(answers.values())}


def _walk_keys(values: Iterable[Any]) -> Iterator[str]:
    for value in values:
        if isinstance(value, dict):
            key = value.get("storage_key")
            if isinstance(key, str):
                yield key
        elif isinstance(value, list):
            yield from _walk_keys(value)


def _key_columns() -> Iterator[Any]:
    """Every column outside the draft table that may hold a blob key."""
    for table in db.metadata.sorted_tables:
        if table.name == Draft.__tablename__:
            continue
        for column in table.columns:
            if isinstance(column.type, String) and (
                column.name == "storage_key" or column.name.endswith("_key")
            ):
                yield column


def blob_referenced(key: str) -> bool:
    """Whether any row (a draft's answers, an attachment, a PDF, ...) still refers to ``key``."""
    for column in _key_columns():
        if db.session.execute(select(column).where(column == key).limit(1)).first() is not None:
            return True
    # The JSON text is only a pre-filter; the answers are then read to be sure.
    candidates = db.session.scalars(select(Draft.answers).where(cast(Draft.answers, Text).contains(key)))
    return any(key in storage_keys(answers or {}) for answers in candidates)


def release_blobs(keys: Iterable[str]) -> int:
    """Delete the blobs among ``keys`` that nothing refers to any more; call after a commit.

    Returns how many were deleted.
    """
    store = blob_store()
    deleted = 0
    for key in sorted(set(keys)):
        if not blob_referenced(key) and store.delete(key):
            deleted += 1
    return deleted


@dataclass(frozen=True)
class PurgeResult:
    """What :func:`purge_expired_drafts` removed."""

    drafts: int
    blobs: int


def purge_expired_drafts(now: datetime | None = None) -> PurgeResult:
    """Delete every draft past its lifetime, then the uploaded files only they referred to.

    Commits. Blobs are deleted after the commit, so a failed commit leaves no draft
    pointing at a missing file.
    """
    now = now or utcnow()
    expired = list(db.session.execute(select(Draft.id, Draft.answers).where(Draft.expires_at <= now)))
    if not expired:
        return PurgeResult(drafts=0, blobs=0)
    keys: set[str] = set()
    for _id, answers in expired:
        keys |= storage_keys(answers or {})
    # Re-checking the expiry spares a draft saved (and so extended) in the meantime;
    # its files stay, since release_blobs sees it still refers to them.
    db.session.execute(
        delete(Draft).where(Draft.id.in_([row.id for row in expired]), Draft.expires_at <= now)
    )
    db.session.commit()
    blobs = release_blobs(keys)
    log.info("purged %d expired drafts and %d files", len(expired), blobs)
    return PurgeResult(drafts=len(expired), blobs=blobs)
