"""Errors in form definitions: each kind its own type, each carrying file, line and key.

The messages are written for the clerk who edits the YAML file, in German (the source
language of the portal), and name the place of the mistake the way an editor shows it.
"""

from __future__ import annotations


class SpecError(Exception):
    """A mistake in a form definition: where it is (file, line, key) and what is wrong.

    ``str(error)`` reads ``forms/catalogue/x.yaml:12: show_if: <message>``, the format
    editors and CI logs turn into a clickable location.
    """

    def __init__(self, file: str, line: int | None, key: str, message: str) -> None:
        super().__init__(file, line, key, message)
        self.file = file
        self.line = line
        self.key = key
        self.message = message

    def __str__(self) -> str:
        place = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{place}: {self.key}: {self.message}" if self.key else f"{place}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.file!r}, {self.line!r}, {self.key!r}, {self.message!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SpecError):
            return NotImplemented
        return (type(self), self.file, self.line, self.key, self.message) == (
            type(other),
            other.file,
            other.line,
            other.key,
            other.message,
        )

    def __hash__(self) -> int:
        return hash((type(self), self.file, self.line, self.key, self.message))


class YamlSyntaxError(SpecError):
    """The file is not readable YAML (indentation, quotes, tabs) or not a mapping at the top."""


class UnknownKeyError(SpecError):
    """A key the format does not know, usually a typo (the message suggests the closest key)."""


class MissingKeyError(SpecError):
    """A key the format requires is absent."""


class WrongTypeError(SpecError):
    """A value of the wrong kind: text where a number belongs, a list where a mapping belongs."""


class InvalidValueError(SpecError):
    """A value of the right kind that is still not allowed (unknown field type, bad date, ...)."""


class DuplicateNameError(SpecError):
    """A name (field, step, fieldset, option value) used twice where it must be unique."""


class ConditionError(SpecError):
    """A ``show_if`` that refers to an unknown or later field, or that can never be true."""


class PatternError(SpecError):
    """A ``pattern`` that is not a valid regular expression."""


class FeeRuleError(SpecError):
    """A fee rule that refers to an unknown field or cannot be computed."""


class ExtendsError(SpecError):
    """An override whose ``extends`` names a missing service, or that changes a missing part."""


class InvalidSpec(Exception):
    """Raised by the single-definition entry points when a definition has mistakes.

    ``errors`` lists every mistake found, not just the first, so one run of
    ``forms check`` shows a clerk everything to fix.
    """

    def __init__(self, errors: list[SpecError]) -> None:
        super().__init__("\n".join(str(error) for error in errors))
        self.errors = errors
