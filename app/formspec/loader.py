"""Loading the catalogue from forms/ and linting definition files.

forms/catalogue/<slug>.yaml holds the association's services; forms/<commune-slug>/*.yaml
a commune's overrides (``extends: <slug>``) and its own services. A broken file is skipped
and its mistakes are collected and logged; the other services load.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from app.formspec.errors import ExtendsError, SpecError, YamlSyntaxError
from app.formspec.model import ServiceSpec
from app.formspec.overrides import apply_override
from app.formspec.parser import parse_service, suggest
from app.formspec.speccache import SpecCache
from app.formspec.yamlsource import Location, location_of, read_yaml

logger = logging.getLogger(__name__)

CATALOGUE_DIR = "catalogue"
_COMMUNE_DIR = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class Catalogue:
    """The association's services, the communes' overrides and own services, and the errors."""

    services: Mapping[str, ServiceSpec]
    commune_services: Mapping[str, Mapping[str, ServiceSpec]] = field(default_factory=dict)
    errors: list[SpecError] = field(default_factory=list)
    files_checked: int = 0

    def for_commune(self, commune_slug: str) -> Mapping[str, ServiceSpec]:
        """The catalogue as this commune sees it: its overrides applied, its own services added."""
        own = self.commune_services.get(commune_slug)
        if not own:
            return self.services
        return MappingProxyType({**self.services, **own})

    def get(self, service_slug: str, commune_slug: str | None = None) -> ServiceSpec | None:
        """One service (as the commune sees it, if a commune is given), or None."""
        if commune_slug is not None:
            own = self.commune_services.get(commune_slug, {})
            if service_slug in own:
                return own[service_slug]
        return self.services.get(service_slug)


def _definition_files(folder: Path) -> list[Path]:
    with os.scandir(folder) as entries:
        names = sorted(
            entry.name for entry in entries if entry.name.endswith((".yaml", ".yml")) and entry.is_file()
        )
    return [folder / name for name in names]


def _display(path: Path, root: Path) -> str:
    """The file name as messages show it: relative to the folder that holds forms/."""
    return os.path.relpath(path, root.parent)


def _read(data: bytes | None, file: str) -> tuple[Any, list[SpecError]]:
    if data is None:
        return None, [YamlSyntaxError(file, None, "", "Die Datei ist nicht lesbar.")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, [YamlSyntaxError(file, None, "", "Die Datei ist nicht in UTF-8 gespeichert.")]
    return read_yaml(text, file)


def _bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _commune_folders(root: Path) -> list[Path]:
    return sorted(
        path
        for path in root.iterdir()
        if path.is_dir() and path.name != CATALOGUE_DIR and _COMMUNE_DIR.match(path.name)
    )


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a catalogue is built.

    Loading allocates hundreds of thousands of long-lived objects and frees none of them
    in cycles; every few hundred allocations the collector would otherwise walk the whole
    (growing) heap again, which costs more than the loading itself. Reference counting
    still frees everything as usual; the collector's state is restored afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            # The new objects are long-lived: move them straight to the oldest generation
            # (freeze + unfreeze moves lists, it scans nothing) instead of letting the next
            # young collections walk all of them. They stay collectable as usual. Skipped
            # when someone froze objects on purpose (unfreeze would release theirs).
            gc.freeze()
            gc.unfreeze()
        if enabled:
            gc.enable()


class _Sources:
    """The definitions overrides extend, by slug: the located YAML of the catalogue files.

    A catalogue service taken from the cache is read again (with line numbers) only when
    an override of it has to be parsed.
    """

    def __init__(self) -> None:
        self.parsed: dict[str, Any] = {}
        self.unread: dict[str, tuple[bytes, str, ServiceSpec]] = {}

    def __contains__(self, slug: object) -> bool:
        return slug in self.parsed or slug in self.unread

    def __getitem__(self, slug: str) -> Any:
        if slug not in self.parsed:
            content, file, service = self.unread.pop(slug)
            data, problems = _read(content, file)
            # Bytes that parsed before parse again; the stored source is the fallback.
            self.parsed[slug] = service.source if problems else data
        return self.parsed[slug]


def load_catalogue(forms_dir: Path, cache_dir: Path | None = None) -> Catalogue:
    """Parse forms_dir/catalogue/*.yaml and forms_dir/<commune>/*.yaml; never raises for a bad file.

    A file with mistakes is skipped (an override of a broken or missing catalogue service
    too); every mistake is in ``Catalogue.errors`` and logged as a warning. With a
    ``cache_dir`` (e.g. instance/formspec-cache, writable only by the portal), services whose
    files are unchanged since the last start come from the cache instead of being parsed
    again (see SpecCache).
    """
    with _collector_paused():
        return _load_catalogue(Path(forms_dir).resolve(), cache_dir)


def _load_catalogue(root: Path, cache_dir: Path | None) -> Catalogue:
    cache = SpecCache(cache_dir, scope=str(root))
    errors: list[SpecError] = []
    sources = _Sources()
    services: dict[str, ServiceSpec] = {}
    files_checked = 0
    catalogue_state = hashlib.sha256()
    catalogue_dir = root / CATALOGUE_DIR
    for path in _definition_files(catalogue_dir) if catalogue_dir.is_dir() else []:
        files_checked += 1
        file = os.path.join(root.name, CATALOGUE_DIR, path.name)
        content = _bytes(path)
        key = cache.key(path.name.encode(), content or b"")
        catalogue_state.update(key.encode())
        cached = cache.get(key)
        if cached is not None and content is not None:
            services[cached.slug] = cached
            sources.unread[cached.slug] = (content, file, cached)
            continue
        data, problems = _read(content, file)
        if not problems and isinstance(data, dict) and "extends" in data:
            problems = [
                ExtendsError(
                    *_where(data, "extends", file),
                    "extends",
                    "Dateien im Katalog erweitern keine anderen Dienste; „extends“ gehört in den "
                    "Ordner einer Gemeinde (forms/<gemeinde>/).",
                )
            ]
        if not problems:
            service, problems = parse_service(data, path.stem, file)
            if service is not None:
                services[service.slug] = service
                sources.parsed[service.slug] = data
                cache.put(key, service)
        errors.extend(problems)

    commune_services: dict[str, dict[str, ServiceSpec]] = {}
    state = catalogue_state.hexdigest().encode()
    for folder in _commune_folders(root) if root.is_dir() else []:
        own: dict[str, ServiceSpec] = {}
        for path in _definition_files(folder):
            files_checked += 1
            file = os.path.join(root.name, folder.name, path.name)
            content = _bytes(path)
            # An override depends on the catalogue service it extends: any change there
            # invalidates the commune's cached entries.
            key = cache.key(folder.name.encode(), path.name.encode(), content or b"", state)
            cached = cache.get(key)
            if cached is not None and content is not None:
                own[cached.slug] = cached
                continue
            service, problems = _load_commune_file(content, path.stem, file, folder.name, sources, services)
            errors.extend(problems)
            if service is not None:
                own[service.slug] = service
                cache.put(key, service)
        if own:
            commune_services[folder.name] = MappingProxyType(own)  # type: ignore[assignment]

    cache.save()
    for error in errors:
        logger.warning("form definition skipped: %s", error)
    return Catalogue(
        services=MappingProxyType(services),
        commune_services=MappingProxyType(commune_services),
        errors=errors,
        files_checked=files_checked,
    )


def _where(data: Any, key: str, file: str) -> tuple[str, int | None]:
    location: Location = location_of(data, key, file)
    return location.file, location.line


def _load_commune_file(
    content: bytes | None,
    slug: str,
    file: str,
    commune: str,
    raw: _Sources,
    services: Mapping[str, ServiceSpec],
) -> tuple[ServiceSpec | None, list[SpecError]]:
    data, problems = _read(content, file)
    if problems:
        return None, problems
    if not isinstance(data, dict) or "extends" not in data:
        return parse_service(data, slug, file, commune=commune)
    extends = data["extends"]
    if not isinstance(extends, str) or extends not in raw:
        guess = suggest(str(extends), services)
        hint = f" – meinten Sie „{guess}“?" if guess else ""
        return None, [
            ExtendsError(
                *_where(data, "extends", file),
                "extends",
                f"Anpassung: „extends: {extends}“ nennt keinen (fehlerfreien) Dienst im Katalog "
                f"forms/{CATALOGUE_DIR}/{hint}",
            )
        ]
    merged, problems = apply_override(raw[extends], data, file)
    if merged is None:
        return None, problems
    return parse_service(merged, slug, file, commune=commune, extends=extends)


@dataclass(frozen=True)
class LintReport:
    """The outcome of checking definition files: how many were read, and every mistake."""

    files_checked: int
    errors: list[SpecError]


def _forms_root(path: Path) -> Path | None:
    """The forms/ folder a definition file belongs to (its grandparent holding catalogue/)."""
    candidate = path.resolve().parent.parent
    return candidate if (candidate / CATALOGUE_DIR).is_dir() else None


def check_paths(paths: Iterable[Path]) -> LintReport:
    """Check forms/ folders or single files; a file is checked within its forms/ folder.

    A forms/ folder (one holding catalogue/) is checked whole; any other folder means its
    *.yaml files. Overrides are resolved against the catalogue next to them.
    """
    whole_roots: list[Path] = []
    files_by_root: dict[Path, set[Path]] = {}
    loose: list[Path] = []
    errors: list[SpecError] = []
    for path in paths:
        path = Path(path)
        if path.is_dir() and (path / CATALOGUE_DIR).is_dir():
            whole_roots.append(path.resolve())
            continue
        if path.is_dir():
            candidates = _definition_files(path)
        elif path.is_file():
            candidates = [path]
        else:
            errors.append(YamlSyntaxError(str(path), None, "", "Die Datei oder der Ordner existiert nicht."))
            continue
        for candidate in candidates:
            root = _forms_root(candidate)
            if root is None:
                loose.append(candidate)
            else:
                files_by_root.setdefault(root, set()).add(candidate.resolve())
    files_checked = 0
    for root in dict.fromkeys(whole_roots):
        catalogue = load_catalogue(root)
        files_checked += catalogue.files_checked
        errors.extend(catalogue.errors)
    for root, files in files_by_root.items():
        if root in whole_roots:
            continue
        wanted = {_display(file, root) for file in files}
        catalogue = load_catalogue(root)
        files_checked += len(files)
        errors.extend(error for error in catalogue.errors if error.file in wanted)
    for path in loose:
        files_checked += 1
        file = str(path)
        data, problems = _read(_bytes(path), file)
        if not problems and isinstance(data, dict) and "extends" in data:
            problems = [
                ExtendsError(
                    *_where(data, "extends", file),
                    "extends",
                    "Anpassung: die Datei liegt nicht in forms/<gemeinde>/ neben einem Katalog; "
                    "„extends“ lässt sich so nicht auflösen.",
                )
            ]
        if not problems:
            _, problems = parse_service(data, path.stem, file)
        errors.extend(problems)
    return LintReport(files_checked=files_checked, errors=errors)


def lint_paths(paths: Iterable[Path]) -> list[SpecError]:
    """Every mistake in the given files or folders of form definitions (empty: all fine)."""
    return check_paths(paths).errors
