"""Uploaded files: the media type by content (never by name or browser claim), size, hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Protocol

import filetype

#: Media types recognised from text content, which carries no magic number.
TEXT_MEDIA_TYPES = frozenset({"text/plain", "text/csv", "application/xml", "application/json"})

_SNIFF_BYTES = 8192


class FileStorageLike(Protocol):
    """What an upload looks like (werkzeug's FileStorage): a name and a readable stream."""

    filename: str | None
    stream: Any


@dataclass(frozen=True, slots=True)
class UploadInfo:
    """An upload as the caller stores it: metadata (by content) and the bytes."""

    filename: str
    media_type: str
    size: int
    sha256: str
    data: bytes

    def metadata(self, storage_key: str) -> dict[str, Any]:
        """The answer value for this file once stored under ``storage_key``."""
        return {
            "filename": self.filename,
            "media_type": self.media_type,
            "size": self.size,
            "sha256": self.sha256,
            "storage_key": storage_key,
        }


def _looks_like_text(data: bytes) -> str | None:
    if b"\x00" in data[:_SNIFF_BYTES]:
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    return text


def detect_media_type(data: bytes, filename: str | None = None) -> str | None:
    """The media type of ``data`` judged by its bytes; None if unknown (e.g. random binary).

    Binary formats are recognised by their magic numbers (``filetype``). Text (UTF-8, no NUL
    bytes) is XML when it starts with ``<``, JSON when it parses as a JSON object or array,
    CSV when the file name ends in ``.csv``, else plain text.
    """
    kind = filetype.guess(data[:_SNIFF_BYTES])
    if kind is not None:
        return str(kind.mime)
    text = _looks_like_text(data)
    if text is None or not text.strip():
        return None
    stripped = text.lstrip()
    if stripped.startswith("<"):
        return "application/xml"
    if stripped[0] in "[{":
        try:
            json.loads(text)
        except ValueError:
            pass
        else:
            return "application/json"
    if filename and filename.lower().endswith(".csv"):
        return "text/csv"
    return "text/plain"


def read_upload(storage: FileStorageLike) -> bytes:
    """All bytes of an upload, leaving its stream rewound for whoever reads it next."""
    stream = storage.stream
    stream.seek(0)
    data: bytes = stream.read()
    stream.seek(0)
    return data


def is_empty_upload(storage: Any) -> bool:
    """True for the empty part browsers send when no file was chosen."""
    return storage is None or isinstance(storage, str) or not getattr(storage, "filename", None)


def inspect_upload(storage: FileStorageLike) -> UploadInfo:
    """Read an upload: file name (without path), media type by content, size, SHA-256, bytes."""
    data = read_upload(storage)
    name = (storage.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    return UploadInfo(
        filename=name,
        media_type=detect_media_type(data, name) or "application/octet-stream",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
    )
