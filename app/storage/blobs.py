"""Content-addressed blob storage on a shared volume.

A blob's key is the SHA-256 of its bytes, so storing the same bytes twice costs
nothing and a stored file can be checked against its key. Writes go to a
temporary file that is fsynced and then renamed into place, so a reader never
sees half a blob. Blobs written during a database transaction that is rolled
back are removed again (unless they existed before), so nothing is left behind.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class StoredBlob:
    """What storing a blob tells the caller."""

    key: str
    size: int
    sha256: str
    created: bool


class BlobStore:
    """Blobs under ``root/ab/cd/<sha256>``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise ValueError(f"not a blob key: {key!r}")
        return self.root / key[:2] / key[2:4] / key

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def put(self, data: bytes | BinaryIO, session: Session | None = None) -> StoredBlob:
        """Store bytes (or a readable stream) durably and return its key.

        With ``session``, a blob that did not exist before is deleted again if
        that session's transaction rolls back.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(prefix=".incoming-", dir=self.root)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in _chunks(data):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            key = digest.hexdigest()
            target = self.path(key)
            created = not target.exists()
            if created:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp_name, target)
                _fsync_dir(target.parent)
            else:
                os.unlink(tmp_name)
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise
        if created and session is not None:
            _remember_for_rollback(session, self, key)
        return StoredBlob(key=key, size=size, sha256=key, created=created)

    def read(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def open(self, key: str) -> BinaryIO:
        return self.path(key).open("rb")

    def delete(self, key: str) -> bool:
        """Remove a blob; callers make sure no row refers to it any more."""
        try:
            self.path(key).unlink()
        except FileNotFoundError:
            return False
        return True

    def verify(self, key: str) -> bool:
        """Whether the stored bytes still hash to their key."""
        digest = hashlib.sha256()
        with self.open(key) as fh:
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                digest.update(chunk)
        return digest.hexdigest() == key


def _chunks(data: bytes | BinaryIO) -> Iterator[bytes]:
    if isinstance(data, bytes | bytearray | memoryview):
        yield bytes(data)
        return
    while True:
        chunk = data.read(_CHUNK)
        if not chunk:
            return
        yield chunk


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_PENDING_KEY = "kommunalportal.new_blobs"


def _remember_for_rollback(session: Session, store: BlobStore, key: str) -> None:
    pending = session.info.setdefault(_PENDING_KEY, [])
    pending.append((store, key))


@event.listens_for(Session, "after_commit")
def _forget_new_blobs(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


@event.listens_for(Session, "after_soft_rollback")
def _remove_new_blobs(session: Session, previous_transaction: object) -> None:
    if session.in_transaction():
        return
    for store, key in session.info.pop(_PENDING_KEY, []):
        store.delete(key)


def blob_store() -> BlobStore:
    """The store configured for the current application (STORAGE_DIR)."""
    return BlobStore(current_app.config["STORAGE_DIR"])
