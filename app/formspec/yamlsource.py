"""Reading YAML so that every value remembers where it was written (file and line).

The parser reports mistakes at the line the clerk has to fix, also after an override has
merged nodes of two files; so locations are kept per mapping key and per list item rather
than per file. The located containers are ordinary dicts and lists (JSON-serialisable) that
carry the locations as attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

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
_MERGE_TAG = "tag:yaml.org,2002:merge"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_SEXAGESIMAL_TAGS = frozenset({"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"})


class _Reader:
    """Turns the composed node tree into located containers.

    Scalars written as plain text are the bulk of a definition: they are returned directly,
    and Location objects are shared per line (a flow mapping such as ``{name: a, type: text}``
    sits on one line), so reading a file allocates little beyond the values themselves.
    """

    def __init__(self, file: str, loader: Any) -> None:
        self.file = file
        self.loader = loader
        self.errors: list[SpecError] = []
        self._locations: dict[int, Location] = {}

    def at(self, node: yaml.Node) -> Location:
        line = node.start_mark.line + 1
        location = self._locations.get(line)
        if location is None:
            location = self._locations[line] = Location(self.file, line)
        return location

    def convert(self, node: yaml.Node) -> Any:
        kind = type(node)
        if kind is yaml.ScalarNode:
            tag = node.tag
            if tag in (_STR_TAG, _TIMESTAMP_TAG):
                # Dates stay text: the parser reads them (and "today", "-18y") itself, and
                # the source must stay JSON-serialisable.
                return node.value
            if tag in _SEXAGESIMAL_TAGS and ":" in node.value:
                # YAML 1.1 reads 18:30 as the base-60 number 1110; a form author means a time.
                return node.value
            value = self.loader.construct_object(node, deep=True)
            # Only JSON scalars: anything else (``!!binary`` bytes) stays the text written,
            # so the parser reports it as a wrong type instead of failing on the source.
            return value if value is None or isinstance(value, str | int | float) else node.value
        if kind is yaml.MappingNode:
            return self.mapping(node)
        if kind is yaml.SequenceNode:
            sequence = LocatedList(location=self.at(node))
            locations = sequence.item_locations
            for item in node.value:
                sequence.append(self.convert(item))
                locations.append(self.at(item))
            return sequence
        return self.loader.construct_object(node, deep=True)

    def mapping(self, node: yaml.MappingNode) -> LocatedDict:
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                self.loader.flatten_mapping(node)
                break
        mapping = LocatedDict(location=self.at(node))
        locations = mapping.key_locations
        shared = self._locations
        for key_node, value_node in node.value:
            if type(key_node) is yaml.ScalarNode and key_node.tag == _STR_TAG:
                key = key_node.value
            else:
                key = self.convert(key_node)
                if not isinstance(key, str):
                    key = str(key)
            if key in mapping:
                first = locations[key].line
                self.errors.append(
                    DuplicateNameError(
                        self.file,
                        key_node.start_mark.line + 1,
                        key,
                        f"Der Schlüssel „{key}“ steht hier zum zweiten Mal (zuerst in Zeile {first}); "
                        "jeder Schlüssel darf nur einmal vorkommen.",
                    )
                )
                continue
            mapping[key] = self.convert(value_node)
            line = key_node.start_mark.line + 1  # self.at(key_node), inlined: the hottest spot
            location = shared.get(line)
            if location is None:
                location = shared[line] = Location(self.file, line)
            locations[key] = location
        return mapping


_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[valid-type,misc]
    """libyaml's parser when PyYAML was built with it (8x faster), else the pure-Python one,
    with a cheaper tag resolver.

    PyYAML resolves the tag of every plain scalar by trying regular expressions in Python;
    a definition repeats the same words (keys, types, true/false) over and over, so each
    distinct text is resolved once and remembered. The result depends on the text alone:
    the safe loader has no path resolvers.
    """

    _plain_tags: ClassVar[dict[str, str]] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0]:
            tag = self._plain_tags.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(self._plain_tags) < _PLAIN_TAGS_KEPT:
                    self._plain_tags[value] = tag
            return tag
        return super().resolve(kind, value, implicit)

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None


assert not _Loader.yaml_path_resolvers, "the resolver shortcuts assume no path resolvers"
#: How many distinct plain texts the resolver remembers (a bound, not a tuning knob).
_PLAIN_TAGS_KEPT = 50_000


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
