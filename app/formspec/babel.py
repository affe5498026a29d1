"""Babel extractor for form definitions: every text a citizen reads in forms/*.yaml.

Registered in pyproject.toml as the "formspec" extractor; a babel.cfg section
``[formspec: forms/**.yaml]`` makes ``pybabel extract`` collect titles, labels, hints,
option labels, legends, topics, help and description texts. Legal citations, names and
values are not translated.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

from app.formspec.yamlsource import LocatedDict, LocatedList, read_yaml

logger = logging.getLogger(__name__)

#: Keys whose text value is shown to citizens or clerks and therefore translated.
TRANSLATABLE_KEYS = frozenset(
    {
        "title",
        "short_text",
        "description",
        "audience",
        "processing_time",
        "topic",
        "intro",
        "legend",
        "label",
        "hint",
        "text",
        "pattern_message",
    }
)
#: Keys whose list items are translated texts.
TRANSLATABLE_LIST_KEYS = frozenset({"required_documents"})


def _context(mapping: Mapping[str, Any]) -> str:
    name = mapping.get("name") if isinstance(mapping.get("name"), str) else mapping.get("value")
    return f" ({name})" if isinstance(name, str) else ""


def _walk(node: Any) -> Iterator[tuple[int, str, list[str]]]:
    if isinstance(node, LocatedDict):
        for key, value in node.items():
            line = node.where(key).line or 0
            if key in TRANSLATABLE_KEYS and isinstance(value, str) and value.strip():
                yield line, value.strip(), [f"{key}{_context(node)}"]
            elif key in TRANSLATABLE_LIST_KEYS and isinstance(value, LocatedList):
                for index, item in enumerate(value):
                    if isinstance(item, str) and item.strip():
                        yield value.where(index).line or line, item.strip(), [key]
            else:
                yield from _walk(value)
    elif isinstance(node, LocatedList):
        for item in node:
            yield from _walk(item)


def extract_formspec(
    fileobj: IO[bytes],
    keywords: Collection[str],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """Yield (lineno, funcname, message, comments) for every translatable text of a definition.

    The texts are taken as written (stripped), exactly as the compiler passes them to
    gettext. A file that is not valid YAML yields nothing and is logged.
    """
    name = getattr(fileobj, "name", "<form definition>")
    try:
        text = fileobj.read().decode(str(options.get("encoding", "utf-8")))
    except UnicodeDecodeError:
        logger.warning("%s: not UTF-8, nothing extracted", name)
        return
    data, errors = read_yaml(text, str(name))
    if data is None:
        for error in errors:
            logger.warning("nothing extracted: %s", error)
        return
    for lineno, message, comments in _walk(data):
        yield lineno, None, message, comments
