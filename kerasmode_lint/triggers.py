"""Every rule's trigger words, importable without libcst.

The flake8 plugin (and anything else that must decide cheaply whether a file
can match at all) reads this instead of importing the rules, whose modules
load libcst (over half a second). The rule classes stay the authority:
the tests fail if a rule's ``triggers`` differ from its entry here,
so add a new rule's line when you add the rule.
"""
from typing import Dict, Tuple, Union

# Per rule: words one of which must occur; an entry may be a tuple of words
# that must all occur (see prefilter.py).
TRIGGERS: Dict[str, Tuple[Union[bytes, Tuple[bytes, ...]], ...]] = {
    "KM101": ((b"GradientTape", b"apply_gradients"), (b"GradientTape", b"minimize"), (b"GradientTape", b".apply")),
    "KM102": (b"train_step",),
    "KM103": (b"training=True", b"training = True"),
    "KM201": (b"trainable = False", b"trainable=False", b"trainable =False", b"trainable= False"),
    "KM202": (b"training=False", b"training=True", b"training = False", b"training = True"),
    "KM203": (b"training=True", b"training = True"),
    "KM301": (b"training=True", b"training = True", b"bool=True", b"bool = True", b"]=True", b"] = True"),
    "KM302": (b"def call",),
    "KM303": (b"keras",),
    "KM304": (b"training=False", b"training=None", b"training = False", b"training = None"),
    "KM305": (b"training=None", b"training = None"),
    "KM306": (b"def call",),
    "KM401": (b"learning_phase",),
    "KM501": (b"trainable",),
    "KM502": (b"trainable",),
    "KM503": (b"trainable",),
}


def trigger_words() -> Tuple[str, ...]:
    """All trigger words as text, for searching decoded source (any one of
    them: for an all-of entry that is looser than the prefilter, never stricter)."""
    words = set()
    for entries in TRIGGERS.values():
        for entry in entries:
            words.update(entry if isinstance(entry, tuple) else (entry,))
    return tuple(sorted(word.decode("utf-8") for word in words))
