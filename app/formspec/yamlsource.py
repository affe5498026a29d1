"""Reading YAML so that every value remembers where it was written (file and line).

The parser reports mistakes at the line the clerk has to fix, also after an override has
merged nodes of two files; so locations are kept per mapping key and per list item rather
than per file. The located containers are ordinary dicts and lists (JSON-serialisable) that
carry the locations as attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from app.formspec.errors import DuplicateNameError, SpecError, YamlSyntaxError


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a definition file (line counted from 1)."""

    file: str
    line: int | None


class LocatedDict(dict[str, Any]):
    """A mapping read from YAML, with the location of itself and of each key."""

    location: Location
    key_locations: dict[str, Location]

    def __init__(self, *args: Any, location: Location, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.location = location
        self.key_locations = {}

    def where(self, key: str) -> Location:
        """Where ``key`` was written (the mapping's own place if the key is absent)."""
        return self.key_locations.get(key, self.location)


class LocatedList(list[Any]):
    """A sequence read from YAML, with the location of itself and of each item."""

    location: Location
    item_locations: list[Location]

    def __init__(self, *args: Any, location: Location) -> None:
        super().__init__(*args)
        self.location = location
        self.item_locations = []

    def where(self, index: int) -> Location:
        """Where item ``index`` was written."""
        if 0 <= index < len(self.item_locations):
            return self.item_locations[index]
        return self.location


def location_of(container: Any, key: str | int, default_file: str) -> Location:
    """The location of ``container[key]``, also for plain containers (a stored source)."""
    if isinstance(container, LocatedDict) and isinstance(key, str):
        return container.where(key)
    if isinstance(container, LocatedList) and isinstance(key, int):
        return container.where(key)
    if isinstance(container, LocatedDict | LocatedList):
        return container.location
    return Location(default_file, None)


_STR_TAG = "tag:yaml.org,2002:str"
_SEXAGESIMAL_TAGS = frozenset({"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"})


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


class _Reader:
    def __init__(self, file: str, loader: Any) -> None:
        self.file = file
        self.loader = loader
        self.errors: list[SpecError] = []

    def convert(self, node: yaml.Node) -> Any:
        location = Location(self.file, _line(node))
        if isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)
            mapping = LocatedDict(location=location)
            for key_node, value_node in node.value:
                key = self.convert(key_node)
                if not isinstance(key, str):
                    key = str(key)
                if key in mapping:
                    first = mapping.key_locations[key].line
                    self.errors.append(
                        DuplicateNameError(
                            self.file,
                            _line(key_node),
                            key,
                            f"Der Schlüssel „{key}“ steht hier zum zweiten Mal (zuerst in Zeile {first}); "
                            "jeder Schlüssel darf nur einmal vorkommen.",
                        )
                    )
                    continue
                mapping[key] = self.convert(value_node)
                mapping.key_locations[key] = Location(self.file, _line(key_node))
            return mapping
        if isinstance(node, yaml.SequenceNode):
            sequence = LocatedList(location=location)
            for item in node.value:
                sequence.append(self.convert(item))
                sequence.item_locations.append(Location(self.file, _line(item)))
            return sequence
        if node.tag == _STR_TAG:
            return node.value
        if node.tag in _SEXAGESIMAL_TAGS and ":" in node.value:
            # YAML 1.1 reads 18:30 as the base-60 number 1110; a form author means a time.
            return node.value
        if node.tag == "tag:yaml.org,2002:timestamp":
            # Dates stay text: the parser reads them (and "today", "-18y") itself, and
            # the source must stay JSON-serialisable.
            return node.value
        return self.loader.construct_object(node, deep=True)


#: libyaml's parser when PyYAML was built with it (8x faster), else the pure-Python one.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(text: str, file: str) -> tuple[Any, list[SpecError]]:
    """Parse YAML text into located containers; syntax mistakes come back as errors."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, [YamlSyntaxError(file, 1, "", "Die Datei ist leer.")]
        reader = _Reader(file, loader)
        return reader.convert(node), reader.errors
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = error.problem or error.context or "unlesbar"
        return None, [
            YamlSyntaxError(
                file,
                line,
                "",
                f"Die Datei ist kein gültiges YAML ({problem}). Häufige Ursachen: Tabulatoren statt "
                "Leerzeichen, uneinheitliche Einrückung, ein Doppelpunkt im Text ohne Anführungszeichen.",
            )
        ]
    except yaml.YAMLError as error:
        return None, [YamlSyntaxError(file, None, "", f"Die Datei ist kein gültiges YAML ({error}).")]
    finally:
        loader.dispose()


def to_plain(value: Any) -> Any:
    """A copy of located containers as plain dicts and lists (for storing a source)."""
    if isinstance(value, dict):
        return {key: to_plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_plain(item) for item in value]
    return value
