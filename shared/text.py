"""Validated text: what a citizen, a gateway or a member of staff may type into a free-text field.

Three kinds, each an `Annotated` pydantic string type:

- `Text`: multi-line prose (a description, an explanation, a note, a comment). Keeps newlines and
  tabs; CR LF, CR and the Unicode line and paragraph separators become a newline.
- `Line`: one line (a title, an address, a reason, an id or a category path). A tab becomes a
  space; a line break is refused.
- `Name`: one line that names someone or something (a citizen's name, a unit's, an area's).
  Besides a `Line`'s rules, every invisible formatting character (zero-width space and joiner,
  soft hyphen, BOM …) is removed and runs of spaces become one, so two names that look the same
  are the same.

All three: normalised to NFC; C0/C1 control characters (NUL and the like) and unpaired surrogates
refused, as PostgreSQL cannot store them and no one can see them; bidirectional embedding,
override and isolate controls (U+202A–U+202E, U+2066–U+2069) removed, so text cannot display
reversed; spaces and invisible characters at either end removed; and text that has characters
but none visible (only zero-width spaces, say) refused. An error is a pydantic error, so the 422
names the field.

Lengths: pydantic applies a length constraint written *after* one of these rules to the cleaned
value with an unhelpful message, so a sized field puts its constraint first and the rule last:
`Annotated[str, Field(min_length=1, max_length=100), LINE]`. An unsized field (a query
parameter, say) uses `Line`, `Text` or `Name` as they are.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

Kind = Literal["text", "line", "name"]

# Bidirectional embedding, override and isolate controls: they reorder what follows them.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Letters and marks that render as nothing (Hangul fillers, the braille blank, variation
# selectors): invisible although their category says otherwise.
_BLANK = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")
_LINE_BREAKS = re.compile("\r\n|[\r\u2028\u2029\x85]")
_SPACES = re.compile(r"\s+")
_ALLOWED_CONTROLS: dict[Kind, frozenset[str]] = {
    "text": frozenset("\n\r\t\x85"),  # line breaks become "\n"
    "line": frozenset("\t"),  # becomes a space
    "name": frozenset("\t"),
}


def is_invisible(char: str) -> bool:
    """Renders as nothing, or as blank space: format characters (Cf), separators (Z*),
    whitespace, blank letters and variation selectors."""
    if char in _BLANK or char.isspace():
        return True
    if "\ufe00" <= char <= "\ufe0f" or "\U000e0100" <= char <= "\U000e01ef":
        return True
    return unicodedata.category(char) in ("Cf", "Zs", "Zl", "Zp")


def _strip_invisible(value: str) -> str:
    start, end = 0, len(value)
    # A variation selector at the start has no character before it to vary: it goes too.
    while start < end and (_edge_invisible(value[start]) or is_invisible(value[start])):
        start += 1
    while end > start and _edge_invisible(value[end - 1]):
        end -= 1
    return value[start:end]


def _edge_invisible(char: str) -> bool:
    # Variation selectors stay: at the end they belong to the emoji before them.
    return char in _BLANK or char.isspace() or unicodedata.category(char) in ("Cf", "Zs")


def _refuse_controls(value: str, kind: Kind) -> None:
    """Positions are the sender's: counted in the value as it came."""
    for position, char in enumerate(value):
        category = unicodedata.category(char)
        if kind != "text" and (char in "\n\r\x85" or category in ("Zl", "Zp")):
            raise PydanticCustomError(
                "line_break",
                "must be a single line; found a line break at position {position}",
                {"position": position},
            )
        if category == "Cc" and char not in _ALLOWED_CONTROLS[kind]:
            raise PydanticCustomError(
                "control_character",
                "must not contain control characters; found U+{code} at position {position}",
                {"code": f"{ord(char):04X}", "position": position},
            )
        if category == "Cs":
            raise PydanticCustomError(
                "surrogate_character",
                "must be valid Unicode; found an unpaired surrogate U+{code} at position "
                "{position}",
                {"code": f"{ord(char):04X}", "position": position},
            )


def clean(value: str, kind: Kind) -> str:
    """The text as stored, or a `PydanticCustomError` saying what is wrong with it."""
    if value == "":
        return value  # an empty value is the field's length constraint's to judge
    _refuse_controls(value, kind)
    text = "".join(c for c in value if c not in BIDI_CONTROLS)
    if kind == "text":
        text = _LINE_BREAKS.sub("\n", text)
    else:
        text = text.replace("\t", " ")
    if kind == "name":
        text = _SPACES.sub(" ", "".join(c for c in text if unicodedata.category(c) != "Cf"))
    text = unicodedata.normalize("NFC", _strip_invisible(text))
    if not any(not is_invisible(c) for c in text):
        raise PydanticCustomError(
            "invisible_only",
            "must contain visible characters, not only spaces or invisible ones",
        )
    return text


@dataclass(frozen=True)
class _Rule:
    kind: Kind

    def __call__(self, value: Any) -> Any:
        return clean(value, self.kind) if isinstance(value, str) else value


TEXT = AfterValidator(_Rule("text"))
LINE = AfterValidator(_Rule("line"))
NAME = AfterValidator(_Rule("name"))

Text = Annotated[str, TEXT]
Line = Annotated[str, LINE]
Name = Annotated[str, NAME]

__all__ = ["BIDI_CONTROLS", "LINE", "NAME", "TEXT", "Line", "Name", "Text", "clean", "is_invisible"]
