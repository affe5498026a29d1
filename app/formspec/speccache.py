"""A start-up cache of parsed services, so that unchanged definition files are not parsed again.

Parsing YAML with line numbers and linting costs a few milliseconds per file; with hundreds
of services every worker would pay it at each start. The cache keeps each successfully
parsed ServiceSpec in a file named after the SHA-256 of the definition's bytes and of this
package's source code, so any change to the file or to the parser misses the cache. Files
with mistakes are never cached: they are parsed (and reported) every time.

Entries are pickles of the portal's own objects, like Jinja's bytecode cache: the cache
folder must be writable only by the portal. A damaged or foreign entry is ignored and
replaced. Writes are atomic (temporary file, then rename), so workers starting at the same
time cannot read half an entry.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import pickle
import tempfile
from pathlib import Path

from app.formspec.model import ServiceSpec

logger = logging.getLogger(__name__)

_SUFFIX = ".spec"


@functools.cache
def code_version() -> str:
    """SHA-256 over this package's source: a new parser invalidates every entry."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class SpecCache:
    """Parsed services by content key, in ``directory``; without a directory it does nothing."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = Path(directory) if directory is not None else None
        self.used: set[str] = set()
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)

    def key(self, *parts: bytes) -> str:
        """The key of a definition: its bytes (and what it depends on) and the code version."""
        digest = hashlib.sha256(code_version().encode())
        for part in parts:
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
        return digest.hexdigest()

    def get(self, key: str) -> ServiceSpec | None:
        """The cached service, or None (also for a damaged entry)."""
        if self.directory is None:
            return None
        self.used.add(key)
        try:
            with (self.directory / f"{key}{_SUFFIX}").open("rb") as handle:
                service = pickle.load(handle)
        except FileNotFoundError:
            return None
        except Exception:
            logger.warning("ignoring damaged form cache entry %s", key, exc_info=True)
            return None
        return service if isinstance(service, ServiceSpec) else None

    def put(self, key: str, service: ServiceSpec) -> None:
        """Store a parsed service; a failure to write only costs the next start some time."""
        if self.directory is None:
            return
        self.used.add(key)
        try:
            descriptor, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        except OSError:
            logger.warning("could not write form cache entry %s", key, exc_info=True)
            return
        try:
            with os.fdopen(descriptor, "wb") as handle:
                pickle.dump(service, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, self.directory / f"{key}{_SUFFIX}")
        except OSError:
            logger.warning("could not write form cache entry %s", key, exc_info=True)
        finally:
            Path(temporary).unlink(missing_ok=True)

    def prune(self) -> None:
        """Remove entries of definitions that no longer exist in this form (old versions)."""
        if self.directory is None:
            return
        for path in self.directory.glob(f"*{_SUFFIX}"):
            if path.stem not in self.used:
                path.unlink(missing_ok=True)
