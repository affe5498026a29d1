"""Drafts as domain objects: tokens, lookup, saving steps, expiry and the purge of their files."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from factories import make_commune, make_office
from flask import Flask
from sqlalchemy import select
from submission_builders import PROBE, png_bytes, serving, write_probe_forms

from app.extensions import db
from app.formspec import Catalogue, ServiceSpec
from app.storage import blob_store
from app.submissions.drafts import (
    create_draft,
    find_draft,
    first_incomplete_step,
    hash_token,
    purge_expired_drafts,
    save_step,
    storage_keys,
)
from app.submissions.models import Attachment, Draft, FormDefinition, Submission
from app.tenancy.models import Commune
from app.timeutil import utcnow


@pytest.fixture
def catalogue(app: Flask, tmp_path: Path) -> Iterator[Catalogue]:
    with serving(app, write_probe_forms(tmp_path / "forms")) as served:
        yield served


@pytest.fixture
def spec(catalogue: Catalogue) -> ServiceSpec:
    return catalogue.services[PROBE]


@pytest.fixture
def commune(catalogue: Catalogue) -> Commune:
    return make_commune("teststadt")


def stored_photo(seed: int) -> dict[str, Any]:
    data = png_bytes(seed)
    blob = blob_store().put(data)
    return {
        "filename": f"foto-{seed}.png",
        "media_type": "image/png",
        "size": len(data),
        "sha256": blob.sha256,
        "storage_key": blob.key,
    }


def draft_with_photo(commune: Commune, spec: ServiceSpec, photo: dict[str, Any], *, expired: bool) -> Draft:
    draft, _token = create_draft(commune, spec, locale="de")
    save_step(draft, spec, "person", {"name": "Erika", "rolle": "privat"})
    save_step(draft, spec, "anliegen", {"art": "muell", "bild": photo})
    if expired:
        draft.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    return draft


def test_a_draft_is_found_by_its_token_only_for_its_commune_and_service(
    commune: Commune, spec: ServiceSpec
) -> None:
    draft, token = create_draft(commune, spec, locale="de")
    db.session.commit()
    assert draft.token_hash == hash_token(token) != token
    assert find_draft(token, commune, PROBE) == draft
    assert find_draft(token + "x", commune, PROBE) is None
    assert find_draft(token, commune, "anderer-dienst") is None
    assert find_draft(token, make_commune("nachbarort"), PROBE) is None
    assert find_draft(None, commune, PROBE) is None
    assert find_draft("x" * 500, commune, PROBE) is None


def test_a_draft_expires_after_its_lifetime_since_the_last_save(
    app: Flask, commune: Commune, spec: ServiceSpec
) -> None:
    start = utcnow()
    draft, token = create_draft(commune, spec, locale="de", now=start)
    lifetime = timedelta(days=app.config["DRAFT_LIFETIME_DAYS"])
    assert draft.expires_at == start + lifetime
    later = start + timedelta(days=3)
    save_step(draft, spec, "person", {"name": "Erika", "rolle": "privat"}, now=later)
    db.session.commit()
    assert draft.expires_at == later + lifetime
    assert find_draft(token, commune, PROBE, now=later + lifetime - timedelta(seconds=1)) == draft
    assert find_draft(token, commune, PROBE, now=later + lifetime) is None


def test_saving_a_step_replaces_its_answers_and_tracks_completion(
    commune: Commune, spec: ServiceSpec
) -> None:
    draft, _token = create_draft(commune, spec, locale="de")
    save_step(draft, spec, "person", {"name": "Erika", "email": "e@example.org", "rolle": "firma"})
    assert first_incomplete_step(spec, draft) == "firma"
    save_step(draft, spec, "firma", {"firmenname": "Muster GmbH"})
    save_step(draft, spec, "person", {"name": "Erika", "rolle": "privat"})
    assert draft.answers == {"name": "Erika", "rolle": "privat"}
    assert draft.completed_steps == ["person"]
    assert first_incomplete_step(spec, draft) == "anliegen"


def test_purge_deletes_expired_drafts_and_the_files_only_they_use(
    commune: Commune, spec: ServiceSpec
) -> None:
    own = stored_photo(1)
    expired_id = draft_with_photo(commune, spec, own, expired=True).id
    kept = stored_photo(2)
    live_id = draft_with_photo(commune, spec, kept, expired=False).id
    result = purge_expired_drafts()
    assert (result.drafts, result.blobs) == (1, 1)
    assert db.session.get(Draft, expired_id) is None
    assert db.session.get(Draft, live_id) is not None
    assert not blob_store().exists(own["storage_key"])
    assert blob_store().exists(kept["storage_key"])
    assert purge_expired_drafts().drafts == 0


def test_purge_keeps_a_file_another_draft_still_uses(commune: Commune, spec: ServiceSpec) -> None:
    shared = stored_photo(3)
    draft_with_photo(commune, spec, shared, expired=True)
    draft_with_photo(commune, spec, shared, expired=False)
    assert purge_expired_drafts().blobs == 0
    assert blob_store().exists(shared["storage_key"])


def test_purge_keeps_a_file_a_submission_keeps_as_attachment(commune: Commune, spec: ServiceSpec) -> None:
    shared = stored_photo(4)
    draft_with_photo(commune, spec, shared, expired=True)
    office = make_office(commune)
    db.session.add(FormDefinition(version=spec.version, service_slug=PROBE, source=spec.source))
    submission = Submission(
        commune_id=commune.id,
        office_id=office.id,
        service_slug=PROBE,
        service_title=spec.title,
        form_version=spec.version,
        reference="TST-2026-000001",
        reference_year=2026,
        reference_number=1,
        tracking_token_hash="0" * 64,
        answers={},
    )
    submission.attachments.append(
        Attachment(
            field_name="bild",
            filename=shared["filename"],
            media_type="image/png",
            size=shared["size"],
            sha256=shared["sha256"],
            storage_key=shared["storage_key"],
        )
    )
    db.session.add(submission)
    db.session.commit()
    result = purge_expired_drafts()
    assert (result.drafts, result.blobs) == (1, 0)
    assert blob_store().exists(shared["storage_key"])
    assert list(db.session.scalars(select(Draft))) == []


def test_storage_keys_are_found_in_single_and_multiple_file_answers() -> None:
    answers = {
        "a": {"storage_key": "k1", "filename": "x"},
        "b": [{"storage_key": "k2"}, {"storage_key": "k3"}],
        "c": "text",
        "d": {"street": "Am Markt"},
    }
    assert storage_keys(answers) == {"k1", "k2", "k3"}
