"""Every rule's trigger words, importable without libcst.

The flake8 plugin (and anything else that must decide cheaply whether a file
can match at all) reads this instead of importing the rules, whose modules
load libcst (over half a second). The rule classes stay the authority:
tests/test_engine.py fails if a rule's ``triggers`` differ from its entry here,
so add a new rule's line when you add the rule.
"""
from typing import Dict, Tuple

TRIGGERS: Dict[str, Tuple[bytes, ...]] = {
    "KM101": (b"GradientTape",),
}


def trigger_words() -> Tuple[str, ...]:
    """All trigger words as text, for searching decoded source."""
    return tuple(sorted({word.decode("utf-8") for words in TRIGGERS.values() for word in words}))
