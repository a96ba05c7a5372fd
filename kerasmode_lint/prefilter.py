"""The byte-level prefilter: which rules could match a file, from its raw bytes.

Every rule lists its trigger words next to its code (``Rule.triggers``): byte
strings one of which occurs in every file the rule can report on. A file is
parsed only for the rules whose words it contains, and a file that contains
none is never parsed with libcst at all: on the keras sources that is most
files, and libcst's parse costs about ten times CPython's.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Dict, FrozenSet, List, Sequence, Tuple, Type

if TYPE_CHECKING:  # pragma: no cover
    from .rule import Rule

_WORDS: Dict[tuple, list] = {}


def _words(rules: Tuple[Type[Rule], ...]) -> List[Tuple[bytes, FrozenSet[Type[Rule]]]]:
    words = _WORDS.get(rules)
    if words is None:
        owners: Dict[bytes, set] = {}
        for rule in rules:
            for word in rule.triggers:
                owners.setdefault(word, set()).add(rule)
        # Words shared by most rules first, so the search can stop early.
        words = sorted(((w, frozenset(o)) for w, o in owners.items()), key=lambda wo: -len(wo[1]))
        _WORDS[rules] = words
    return words


def rules_matching(data: bytes, rules: Sequence[Type[Rule]]) -> List[Type[Rule]]:
    """The rules (in their given order) one of whose trigger words is in ``data``."""
    rules = tuple(rules)
    found: FrozenSet[Type[Rule]] = frozenset()
    for word, owners in _words(rules):
        if not owners <= found and word in data:
            found |= owners
            if len(found) == len(rules):
                return list(rules)
    return [rule for rule in rules if rule in found]
