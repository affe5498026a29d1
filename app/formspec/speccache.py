"""A start-up cache of parsed services, so that unchanged definition files are not parsed again.

Parsing YAML with line numbers and linting costs a few milliseconds per file; with hundreds
of services every worker would pay it at each start. The cache is ONE file per forms/ folder
holding every successfully parsed ServiceSpec, each under the SHA-256 of its definition's
bytes (and of what it depends on) and of this package's source code, so any change to a
file or to the parser misses the cache for that file. Files with mistakes are never cached:
they are parsed (and reported) every time.

The file starts with a header naming the format, the engine's code version and the length
and SHA-256 of the payload; a file whose header or checksum does not match (partly written,
damaged, from another version) is ignored as a whole and rewritten: its entries are never
used. The payload is a pickle of the portal's own objects, like Jinja's bytecode cache: the
cache folder must be writable only by the portal. Writes go to a temporary file that then
replaces the cache (``os.replace``), so workers starting at the same time never read half
a file; the last one to finish wins, and every version written is complete.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from pathlib import Path

from app.formspec.model import ServiceSpec

logger = logging.getLogger(__name__)

#: Names the format; a new layout of the file gets a new magic.
MAGIC = b"kommunalportal formspec cache 2\n"
_DIGEST = 32
_LENGTH = 8
HEADER_SIZE = len(MAGIC) + _DIGEST + _LENGTH + _DIGEST


def _package_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


#: Taken when the engine is imported, so that it names the code this process runs even if
#: the files are replaced (a deployment) while it runs.
_CODE_VERSION = _package_digest()


def code_version() -> str:
    """SHA-256 over this package's source: a new parser invalidates every entry."""
    return _CODE_VERSION


def encode(entries: dict[str, ServiceSpec]) -> bytes:
    """The cache file's bytes for these entries: header, then the pickled entries."""
    payload = pickle.dumps(entries, protocol=pickle.HIGHEST_PROTOCOL)
    return b"".join(
        (
            MAGIC,
            bytes.fromhex(code_version()),
            len(payload).to_bytes(_LENGTH, "big"),
            hashlib.sha256(payload).digest(),
            payload,
        )
    )


def decode(data: bytes) -> dict[str, ServiceSpec] | None:
    """The entries of a cache file, or None unless it is whole, undamaged and of this code."""
    if len(data) < HEADER_SIZE or not data.startswith(MAGIC):
        return None
    view = memoryview(data)
    position = len(MAGIC)
    if view[position : position + _DIGEST] != bytes.fromhex(code_version()):
        return None
    position += _DIGEST
    length = int.from_bytes(view[position : position + _LENGTH], "big")
    position += _LENGTH
    checksum = view[position : position + _DIGEST]
    payload = view[HEADER_SIZE:]
    if len(payload) != length or hashlib.sha256(payload).digest() != checksum:
        return None
    try:
        entries = pickle.loads(payload)
    except Exception:
        logger.warning("ignoring form cache that does not unpickle", exc_info=True)
        return None
    if not isinstance(entries, dict) or not all(
        isinstance(key, str) and isinstance(service, ServiceSpec) for key, service in entries.items()
    ):
        return None
    return entries


class SpecCache:
    """Parsed services by content key, in one file in ``directory``; without a directory it does nothing.

    ``scope`` tells apart the caches of different forms/ folders sharing a directory. Read
    the entries with ``get``, add with ``put``, and call ``save`` once at the end: it
    rewrites the file only if an entry was added or one is no longer used.
    """

    def __init__(self, directory: Path | None, scope: str = "") -> None:
        self.path: Path | None = None
        if directory is not None:
            name = hashlib.sha256(scope.encode()).hexdigest()[:16]
            self.path = Path(directory) / f"catalogue-{name}.cache"
        self._stored: dict[str, ServiceSpec] | None = None
        self.used: dict[str, ServiceSpec] = {}
        self._added = False

    def key(self, *parts: bytes) -> str:
        """The key of a definition: its bytes (and what it depends on) and the code version."""
        digest = hashlib.sha256(code_version().encode())
        for part in parts:
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
        return digest.hexdigest()

    def _entries(self) -> dict[str, ServiceSpec]:
        if self._stored is None:
            self._stored = self._read()
        return self._stored

    def _read(self) -> dict[str, ServiceSpec]:
        if self.path is None:
            return {}
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError:
            logger.warning("could not read form cache %s", self.path, exc_info=True)
            return {}
        entries = decode(data)
        if entries is None:
            logger.warning("ignoring damaged or outdated form cache %s; the files are parsed", self.path)
            return {}
        return entries

    def get(self, key: str) -> ServiceSpec | None:
        """The cached service, or None."""
        service = self._entries().get(key)
        if service is not None:
            self.used[key] = service
        return service

    def put(self, key: str, service: ServiceSpec) -> None:
        """Remember a freshly parsed service for ``save``."""
        if self.path is None:
            return
        self.used[key] = service
        self._added = True

    def save(self) -> None:
        """Write the entries used in this load, if they differ from the file's; entries of
        files that changed or went away are dropped. A failure to write only costs the
        next start some time."""
        if self.path is None or not (self._added or self.used.keys() != self._entries().keys()):
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(
                dir=self.path.parent, prefix=".catalogue-", suffix=".tmp"
            )
        except OSError:
            logger.warning("could not write form cache %s", self.path, exc_info=True)
            return
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(encode(self.used))
            os.replace(temporary, self.path)
        except Exception:
            logger.warning("could not write form cache %s", self.path, exc_info=True)
            return
        finally:
            Path(temporary).unlink(missing_ok=True)
        self._stored = dict(self.used)
        self._added = False
