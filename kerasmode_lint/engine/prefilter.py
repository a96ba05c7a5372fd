"""The byte-level prefilter: which rules could match a file, from its raw bytes.

Every rule has trigger words (its entry in triggers.py, ``Rule.triggers``): byte
strings one of which occurs in every file the rule can report on; an entry may
also be a tuple of byte strings that must all occur (``(b"train_step",
b"training")``), which lets a rule whose words are common alone stay narrow,
or a ``Screen`` (screens.py): words plus a finer test on the bytes, for rules
whose words are in nearly every Keras file.
A file is parsed only for the rules whose words it contains, and a file that
contains none is never parsed with libcst at all: on the keras sources that is
most files, and libcst's parse costs about ten times CPython's.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, List, Sequence, Tuple, Type, Union

from .screens import Screen

if TYPE_CHECKING:  # pragma: no cover
    from .rule import Rule

# One word, words that must all occur, or a screen.
Trigger = Union[bytes, Tuple[bytes, ...], Screen]


def entry_matches(entry: Trigger, data: bytes, path: str = "") -> bool:
    kind = entry.__class__
    if kind is bytes:
        return entry in data  # type: ignore[operator]
    if kind is Screen:
        return entry.matches(data, path)  # type: ignore[union-attr]
    return all(part in data for part in entry)  # type: ignore[union-attr]


def _any_matches(entries: Sequence[Trigger], data: bytes, path: str) -> bool:
    return any(entry_matches(entry, data, path) for entry in entries)


def rules_matching(data: bytes, rules: Sequence[Type[Rule]], path: str = "") -> List[Type[Rule]]:
    """The rules (in their given order) one of whose triggers matches ``data``
    (``path``: the file's, for screens that judge by it)."""
    return [rule for rule in rules if _any_matches(rule.triggers, data, path)]


def codes_matching(data: bytes, codes: Sequence[str], path: str = "") -> List[str]:
    """The same for rule codes, from triggers.py: the rules are not imported."""
    from .triggers import TRIGGERS

    return [code for code in codes if _any_matches(TRIGGERS[code], data, path)]


def could_match(data: bytes, path: str = "") -> bool:
    """Could any rule report on ``data``? Reads triggers.py, not the rules, so
    it costs no libcst import (the flake8 plugin asks this of every file)."""
    from .triggers import TRIGGERS

    return any(_any_matches(entries, data, path) for entries in TRIGGERS.values())
