"""Loading the catalogue from forms/ and linting definition files."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from app.formspec.errors import SpecError
from app.formspec.model import ServiceSpec


@dataclass(frozen=True)
class Catalogue:
    """The association's services, the communes' overrides and own services, and the errors."""

    services: Mapping[str, ServiceSpec]
    commune_services: Mapping[str, Mapping[str, ServiceSpec]] = field(default_factory=dict)
    errors: list[SpecError] = field(default_factory=list)

    def for_commune(self, commune_slug: str) -> Mapping[str, ServiceSpec]:
        """The catalogue as this commune sees it: its overrides applied, its services added."""
        return {**self.services, **self.commune_services.get(commune_slug, {})}

    def get(self, service_slug: str, commune_slug: str | None = None) -> ServiceSpec | None:
        """One service (as the commune sees it, if given), or None."""
        services = self.for_commune(commune_slug) if commune_slug else self.services
        return services.get(service_slug)


def load_catalogue(forms_dir: Path) -> Catalogue:
    """Parse forms_dir/catalogue/*.yaml and forms_dir/<commune>/*.yaml; never raises for a bad file."""
    raise NotImplementedError


def lint_paths(paths: Iterable[Path]) -> list[SpecError]:
    """Every mistake in the given files or folders of form definitions."""
    raise NotImplementedError
