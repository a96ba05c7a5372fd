"""The byte-level prefilter: which rules could match a file, from its raw bytes.

Every rule lists its trigger words next to its code (``Rule.triggers``): byte
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

from typing import TYPE_CHECKING, Dict, FrozenSet, List, Sequence, Tuple, Type, Union

from .screens import Screen

if TYPE_CHECKING:  # pragma: no cover
    from .rule import Rule

# One word, words that must all occur, or a screen.
Trigger = Union[bytes, Tuple[bytes, ...], Screen]
_WORDS: Dict[tuple, list] = {}


def _words(rules: Tuple[Type[Rule], ...]) -> List[Tuple[Trigger, FrozenSet[Type[Rule]]]]:
    key = tuple((rule, rule.triggers) for rule in rules)  # a changed word list is a new key
    words = _WORDS.get(key)
    if words is None:
        owners: Dict[Trigger, set] = {}
        for rule in rules:
            for word in rule.triggers:
                owners.setdefault(word, set()).add(rule)
        # Words shared by most rules first, so the search can stop early;
        # screens last, as they cost most.
        words = sorted(((w, frozenset(o)) for w, o in owners.items()),
                       key=lambda wo: (isinstance(wo[0], Screen), -len(wo[1])))
        _WORDS[key] = words
    return words


def rules_matching(data: bytes, rules: Sequence[Type[Rule]], path: str = "") -> List[Type[Rule]]:
    """The rules (in their given order) one of whose trigger words is in ``data``
    (``path``: the file's, for screens that judge by it)."""
    rules = tuple(rules)
    found: FrozenSet[Type[Rule]] = frozenset()
    for word, owners in _words(rules):
        if owners <= found:
            continue
        if entry_matches(word, data, path):
            found |= owners
            if len(found) == len(rules):
                return list(rules)
    return [rule for rule in rules if rule in found]


def entry_matches(entry: Trigger, data: bytes, path: str = "") -> bool:
    kind = entry.__class__
    if kind is bytes:
        return entry in data  # type: ignore[operator]
    if kind is Screen:
        return entry.matches(data, path)  # type: ignore[union-attr]
    return all(part in data for part in entry)  # type: ignore[union-attr]


def could_match(data: bytes, path: str = "") -> bool:
    """Could any rule report on ``data``? Reads triggers.py, not the rules, so
    it costs no libcst import (the flake8 plugin asks this of every file)."""
    from .triggers import TRIGGERS

    return any(entry_matches(entry, data, path) for entries in TRIGGERS.values() for entry in entries)


def codes_matching(data: bytes, codes: Sequence[str], path: str = "") -> List[str]:
    """The rule codes (in their given order) one of whose triggers (triggers.py)
    matches ``data``, without importing the rules."""
    from .triggers import TRIGGERS

    return [code for code in codes if any(entry_matches(entry, data, path) for entry in TRIGGERS[code])]
