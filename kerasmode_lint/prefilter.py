"""The byte-level prefilter: which rules could match a file, from its raw bytes.

Every rule lists its trigger words next to its code (``Rule.triggers``): byte
strings one of which occurs in every file the rule can report on; an entry may
also be a tuple of byte strings that must all occur (``(b"train_step",
b"training")``), which lets a rule whose words are common alone stay narrow.
A file is parsed only for the rules whose words it contains, and a file that
contains none is never parsed with libcst at all: on the keras sources that is
most files, and libcst's parse costs about ten times CPython's.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Dict, FrozenSet, List, Sequence, Tuple, Type, Union

if TYPE_CHECKING:  # pragma: no cover
    from .rule import Rule

Trigger = Union[bytes, Tuple[bytes, ...]]  # one word, or words that must all occur
_WORDS: Dict[tuple, list] = {}


def _words(rules: Tuple[Type[Rule], ...]) -> List[Tuple[Trigger, FrozenSet[Type[Rule]]]]:
    key = tuple((rule, rule.triggers) for rule in rules)  # a changed word list is a new key
    words = _WORDS.get(key)
    if words is None:
        owners: Dict[Trigger, set] = {}
        for rule in rules:
            for word in rule.triggers:
                owners.setdefault(word, set()).add(rule)
        # Words shared by most rules first, so the search can stop early.
        words = sorted(((w, frozenset(o)) for w, o in owners.items()), key=lambda wo: -len(wo[1]))
        _WORDS[key] = words
    return words


def rules_matching(data: bytes, rules: Sequence[Type[Rule]]) -> List[Type[Rule]]:
    """The rules (in their given order) one of whose trigger words is in ``data``."""
    rules = tuple(rules)
    found: FrozenSet[Type[Rule]] = frozenset()
    for word, owners in _words(rules):
        if owners <= found:
            continue
        if word in data if word.__class__ is bytes else all(part in data for part in word):
            found |= owners
            if len(found) == len(rules):
                return list(rules)
    return [rule for rule in rules if rule in found]
