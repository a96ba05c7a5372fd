"""Screens: finer byte-level tests than trigger words, for rules whose words are common.

A rule's trigger words decide whether a file is parsed for it (prefilter.py).
Some rules need words that occur in nearly every Keras file (``training``,
``trainable``, a positional ``True``), so the word alone sends most files to
the libcst parse, which costs ten times CPython's. A ``Screen`` adds a test
on the raw bytes (a regular expression, or a small scanner) that must also
pass. A screen may let through files the rule then leaves alone, never the
other way round: when unsure it says yes. tests/test_prefilter.py checks it
on every snippet in the repository, scripts/prefilter_audit.py on real trees.

Libcst-free on purpose: the flake8 plugin and cached runs import this (via triggers.py).
"""
from __future__ import annotations

import re
from typing import Callable, Tuple

from .keras_knowledge import APPLICATION_CONTENTS, BATCHNORM_LIKE


class Screen:
    """Every one of ``words`` occurs and ``test(data, path)`` holds.

    The words are checked first (``in`` on bytes is fast). ``path`` is the file's path
    as given ("" when unknown: the test must then say yes wherever the path
    could matter).
    """

    __slots__ = ("name", "words", "test")

    def __init__(self, name: str, words: Tuple[bytes, ...], test: Callable[[bytes, str], bool]) -> None:
        self.name = name
        self.words = words
        self.test = test

    def matches(self, data: bytes, path: str = "") -> bool:
        for word in self.words:
            if word not in data:
                return False
        return self.test(data, path)

    def __repr__(self) -> str:
        return f"Screen({self.name})"


def _search(*patterns: "re.Pattern[bytes]") -> Callable[[bytes, str], bool]:
    """A test that holds when every pattern is found."""
    return lambda data, path: all(pattern.search(data) is not None for pattern in patterns)


# Space between tokens: blanks, newlines (inside brackets) and backslash continuations.
_S = rb"(?:\s|\\\r?\n)*"
# The same, also allowing comments (a comment ends at a newline).
_SC = rb"(?:\s|\\\r?\n|#[^\n]*)*"

# ``def call(`` with any spacing (``async def call(`` too).
_DEF_CALL = re.compile(rb"\bdef" + _S + rb"call" + _S + rb"\(")

# KM302: a ``training`` parameter without a default. In a signature that is
# ``training`` after ``(``, ``,`` or ``*``, with perhaps an annotation, then
# ``,`` or ``)``. (A call passing ``training`` positionally matches too; that
# only lets a file through.)
_TRAINING_NO_DEFAULT = re.compile(rb"[(,*]" + _SC + rb"training" + _SC + rb"(?::[^=\n]*)?[,)]")
CALL_TRAINING_WITHOUT_DEFAULT = Screen(
    "call-training-without-default", (b"call", b"training"), _search(_DEF_CALL, _TRAINING_NO_DEFAULT)
)

# KM306: a ``call`` method (with or without a ``training`` parameter).
CALL_METHOD = Screen("call-method", (b"call",), _search(_DEF_CALL))

# KM501–KM503: something that changes a ``trainable`` flag: an assignment to
# ``.trainable``, a frozen constructor (``BatchNormalization(trainable=False)``)
# or a call to a freeze/make_trainable helper (trainable_flow._HELPER_NAME).
# Written as a loop over the word's occurrences: a regular expression that
# starts with ``\.`` or ignores case is tried at every byte, ten times slower.
_ASSIGNED_AFTER = re.compile(_S + rb"(?::[^=\n]*)?=(?!=)")
_FALSE_AFTER = re.compile(_S + rb"=" + _S + rb"(?:False|not\b)")
_CALLED_AFTER = re.compile(_S + rb"\(")
# trainable_flow._HELPER_NAME, on bytes.
_HELPER_NAME = re.compile(rb"(?i)(^|_)(un)?freez|(make|set|toggle)_?(un)?trainable")
_IDENTIFIER_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def _helper_called_at(data: bytes, at: int) -> bool:
    """Is the identifier around ``at`` a freeze/make_trainable helper being called?"""
    left, right = at, at
    while left > 0 and data[left - 1] in _IDENTIFIER_BYTES:
        left -= 1
    while right < len(data) and data[right] in _IDENTIFIER_BYTES:
        right += 1
    return _HELPER_NAME.search(data[left:right]) is not None and _CALLED_AFTER.match(data, right) is not None


def _occurrences(data: bytes, word: bytes):
    at = data.find(word)
    while at >= 0:
        yield at
        at = data.find(word, at + 1)


def _changes_trainable(data: bytes, path: str) -> bool:
    for at in _occurrences(data, b"trainable"):
        end = at + 9
        if _ASSIGNED_AFTER.match(data, end) and data[max(0, at - 80):at].rstrip(b" \t\\\r\n").endswith(b"."):
            return True  # x.trainable = ...
        if _FALSE_AFTER.match(data, end):
            return True  # Ctor(trainable=False)
        if _helper_called_at(data, at):
            return True  # make_trainable(D, False)
    for word in (b"Trainable", b"TRAINABLE", b"reez", b"REEZ"):
        for at in _occurrences(data, word):
            if _helper_called_at(data, at):
                return True  # makeTrainable(D), freeze(base), Unfreeze(m)
    return False


# KM501/KM502 report at a training call (fit, fit_generator, train_on_batch)
# after a compile().
TRAINABLE_CHANGE_BEFORE_FIT = Screen(
    "trainable-change-before-fit",
    (b"compile",),
    lambda data, path: (b"fit" in data or b"train_on_batch" in data) and _changes_trainable(data, path),
)
# KM503 needs a BatchNormalization freeze: a BN class (isinstance, a frozen
# constructor) or a BN-looking layer name (trainable_flow._BN_TEXT).
_BN_TEXT = re.compile(rb"(?i)batch_?norm|(?<![a-z])bn(?![a-z])")
BATCHNORM_FREEZE_CHANGE = Screen(
    "batchnorm-freeze-change",
    (),
    lambda data, path: _changes_trainable(data, path) and _BN_TEXT.search(data) is not None,
)

# KM303: a bool or ``training`` value passed positionally, after a comma, to
# something that may be a Keras layer or model. Found from the value's
# occurrences (fast ``find``), not by a regular expression tried at every comma.
_FLAG_AFTER = re.compile(_S + rb"(?:\)" + _S + rb")*" + _SC + rb"[,)]")
# What may stand before the call's ``(``: a dotted name.
_CALLEE = re.compile(rb"(?:[A-Za-z_]\w*" + _S + rb"\." + _S + rb")*[A-Za-z_]\w*" + _S + rb"$")
# Names whose call is never a layer call (keywords before a parenthesised
# tuple, and builtins).
_NOT_LAYERS = frozenset(
    b"if elif while return yield in not and or is else assert await lambda del for with "
    b"print isinstance issubclass getattr setattr hasattr super len range zip map filter "
    b"sorted reversed min max sum any all tuple list dict set frozenset str int float bool "
    b"type repr format enumerate iter next open id hash round abs".split()
)
_STRING_OR_COMMENT = re.compile(
    rb"""[rRbBuUfF]{0,2}(?:'[^'\\\n]*(?:\\.[^'\\\n]*)*'|"[^"\\\n]*(?:\\.[^"\\\n]*)*")|#[^\n]*"""
)
_LOOK_BACK_LINES = 50


def _opening_bracket(data: bytes, end: int) -> int:
    """Index of the bracket left open before ``end`` (the ``(`` of the call an
    argument belongs to), -1 if there is none, -2 when unsure (a triple-quoted
    string, or too far back)."""
    depth = 0
    line_end = end
    for _ in range(_LOOK_BACK_LINES):
        line_start = data.rfind(b"\n", 0, line_end) + 1
        line = data[line_start:line_end]
        if b'"""' in line or b"'''" in line:
            return -2
        if b"'" in line or b'"' in line or b"#" in line:
            # Blank out strings and comments, keeping offsets.
            line = _STRING_OR_COMMENT.sub(lambda m: b" " * len(m.group(0)), line)
            if b"'" in line or b'"' in line:
                return -2  # a string spanning lines: do not guess
        for i in range(len(line) - 1, -1, -1):
            c = line[i]
            if c in b")]}":
                depth += 1
            elif c in b"([{":
                if depth == 0:
                    return line_start + i
                depth -= 1
        if line_start == 0:
            return -1
        line_end = line_start - 1
    return -2


def _assigned(data: bytes, name: bytes) -> bool:
    """Could ``name`` be bound to a value in the file (``name = …``,
    ``self.name: T = …``, a tuple target, ``for name in``, ``.append``-ed
    to)? layer_calls follows nothing else. Loose on purpose."""
    return re.search(
        rb"\b" + re.escape(name) + rb"\b" + _S + rb"(?:=(?!=)|:|,|\)|\]|in\b|\.append|\.extend|\+=)", data
    ) is not None


# Where a class built inline (``Ctor(...)(x, True)``) can be a layer or model
# for layer_calls: keras.layers/models/applications/saving, the hub and the
# keras-family packages (keras_hub, keras_cv, keras_nlp).
_LAYER_MODULE_PARTS = frozenset(
    b"layers models applications saving Sequential Model Functional KerasLayer".split()
)
_LAYER_MODULE = re.compile(rb"layers|models|applications|saving|hub|keras_cv|keras_nlp")


def _maybe_layer_class(data: bytes, dotted: bytes) -> bool:
    parts = dotted.split(b".")
    if len(parts) == 1 or any(part in _LAYER_MODULE_PARTS for part in parts):
        return True  # an in-file or imported class, Dense, keras.layers.Dense, L.Dense ...
    head = re.escape(parts[0])
    for imported in re.finditer(
        rb"\bfrom" + _S + rb"[\w.]+" + _S + rb"import\b[^\n]*\b" + head + rb"\b"
        rb"|\bimport" + _S + rb"[\w.]+" + _S + rb"as" + _S + head + rb"\b",
        data,
    ):
        if _LAYER_MODULE.search(imported.group(0)):
            return True  # from keras import layers as L; import keras.layers as L
    return False  # knp.LogicalAnd(), np.vectorize(f): not a layer class layer_calls knows


def _maybe_layer_call(data: bytes, flag_start: int) -> bool:
    """Is the call whose argument list holds the positional flag at
    ``flag_start`` possibly a layer or model call, as layer_calls sees them?"""
    opening = _opening_bracket(data, flag_start)
    if opening == -2:
        return True
    if opening == -1 or data[opening] != ord("("):
        return False  # a list, set or dict display, not a call
    before = data[max(0, opening - 200):opening]
    stripped = before.rstrip()
    if stripped.endswith(b")"):
        # Dense(3)(x, True), (a if c else b)(x, True): look at what builds it.
        inner = _opening_bracket(data, max(0, opening - 200) + len(stripped) - 1)
        if inner < 0:
            return True
        built_by = _CALLEE.search(data[max(0, inner - 200):inner].rstrip())
        if built_by is None:
            return True  # a parenthesised expression
        return _maybe_layer_class(data, re.sub(rb"\s|\\", b"", built_by.group(0)))
    if stripped.endswith(b"]"):
        return True  # layers[0](x, True)
    callee = _CALLEE.search(stripped)
    if callee is None:
        return False  # a parenthesised tuple
    parts = re.sub(rb"\s|\\", b"", callee.group(0)).split(b".")
    if len(parts) == 1:
        if parts[0] == b"self":
            return True
        if parts[0] in _NOT_LAYERS or stripped[: callee.start()].rstrip().endswith(b"def"):
            return False
        return _assigned(data, parts[0])  # a name layer_calls can follow is bound in the file
    if parts[0] == b"self" and len(parts) == 2:
        return _assigned(data, parts[1])
    return False  # module.function(...), obj.method(...): layer_calls does not follow these


def _comma_before(data: bytes, start: int) -> int:
    """Index of the comma that ends the argument before the value at
    ``start`` (over blanks, newlines and opening parentheses), -1 if none;
    ``start`` itself when a comment is in the way (unsure: look further)."""
    i = start
    crossed_line = False
    while i > 0:
        c = data[i - 1]
        if c in b" \t\r(\\":
            i -= 1
        elif c == 10:  # newline
            crossed_line = True
            i -= 1
        else:
            break
    if i > 0 and data[i - 1] == 44:  # ","
        return i - 1
    if crossed_line and b"#" in data[data.rfind(b"\n", 0, i) + 1:i]:
        return start  # a comment ends the line before: it may follow a comma
    return -1


def _positional_flag_to_layer(data: bytes, path: str) -> bool:
    for word in (b"True", b"False", b"training"):
        for at in _occurrences(data, word):
            end = at + len(word)
            if end < len(data) and data[end] in _IDENTIFIER_BYTES:
                continue  # Trueish, training_step
            start = at
            if word == b"training":
                if data[at - 3:at] == b"is_":
                    start = at - 3
                # x.training, self.cfg.training: start at the chain's first name.
                while start > 0 and data[start - 1] == 46:  # "."
                    start -= 1
                    while start > 0 and data[start - 1] in _IDENTIFIER_BYTES:
                        start -= 1
            if start > 0 and (data[start - 1] in _IDENTIFIER_BYTES or data[start - 1] == 46):
                continue  # run_training, obj.True
            if _FLAG_AFTER.match(data, end) is None:
                continue  # training=..., True and x, ...
            comma = _comma_before(data, start)
            if comma >= 0 and _maybe_layer_call(data, comma):
                return True
    return False


POSITIONAL_FLAG_TO_LAYER = Screen("positional-flag-to-layer", (b"keras",), _positional_flag_to_layer)


def _literal_training(values: bytes) -> "re.Pattern[bytes]":
    """``training=<one of values>`` as a keyword argument (parentheses allowed)."""
    return re.compile(rb"\btraining" + _S + rb"=" + _S + rb"(?:\(" + _S + rb")*(?:" + values + rb")\b")


_TRAINING_TRUE = _literal_training(rb"True")

# KM301: ``def call(...)`` whose ``training`` defaults to True. The signature
# ends at a ``)`` followed by ``:`` (perhaps after ``-> T``) and a newline.
_CALL_DEFAULT_TRUE = re.compile(
    rb"\bdef" + _S + rb"call" + _S + rb"\("
    rb"(?:[^)]|\)(?!" + _S + rb"(?:->[^:\n]*)?:" + rb"[ \t]*(?:#[^\n]*)?\r?\n))*?"
    rb"[(,*]" + _SC + rb"training" + _SC + rb"(?::[^=\n]*)?=" + _S + rb"(?:\(" + _S + rb")*True\b"
)
CALL_DEFAULT_TRAINING_TRUE = Screen("call-default-training-true", (b"call", b"True"), _search(_CALL_DEFAULT_TRUE))

# KM202: a literal True/False on a node of a functional graph, which needs a
# model built from tensors in the file: ``Model``/``Functional`` (any
# spelling ends so), or ``super().__init__(inputs, outputs)``.
_BUILDS_GRAPH = re.compile(
    rb"Model|Functional|\boutputs\b|super" + _S + rb"\(" + _S + rb"\)" + _S + rb"\." + _S + rb"__init__" + _S
    + rb"\(" + _S + rb"[^\s=,()*]+" + _S + rb"," + _S + rb"[^\s=,()*]+" + _S + rb"[,)]"
)
FUNCTIONAL_NODE_PIN = Screen(
    "functional-node-pin", (b"training",), _search(_literal_training(rb"True|False"), _BUILDS_GRAPH)
)

# KM304: a literal False/None pin inside a ``call`` method.
PIN_INSIDE_CALL = Screen(
    "pin-inside-call", (b"training", b"call"), _search(_literal_training(rb"False|None"), _DEF_CALL)
)

# KM203: ``training=True`` on something known to hold BatchNormalization: the
# layer's class name or a keras.applications model built with it.
_HOLDS_BATCHNORM = re.compile(
    b"|".join(
        re.escape(name.encode())
        for name in sorted(BATCHNORM_LIKE | {n for n, (bn, _) in APPLICATION_CONTENTS.items() if bn})
    )
)
BATCHNORM_PINNED = Screen(
    "batchnorm-pinned", (b"training",), _search(_TRAINING_TRUE, _HOLDS_BATCHNORM)
)

# KM103: ``training=True`` in a test_step/predict_step, or in evaluation code,
# which test files (by name, as KM103 judges them) never are.
_TEST_FILE = re.compile(r"(test_.*|.*_test|conftest)\.py$")


def is_test_file(path: str) -> bool:
    """A pytest/unittest file by its name: its functions named test_… are not evaluation code."""
    base = path.replace("\\", "/").rsplit("/", 1)[-1]
    return _TEST_FILE.match(base) is not None


EVALUATION_PIN = Screen(
    "evaluation-pin",
    (b"training",),
    lambda data, path: _TRAINING_TRUE.search(data) is not None
    and (not is_test_file(path) or b"test_step" in data or b"predict_step" in data),
)


# KM201: a model frozen with a literal ``trainable = False`` and then used as
# a graph node or a Sequential element.
_FROZEN = re.compile(rb"trainable" + _S + rb"=" + _S + rb"False\b")
FROZEN_MODEL_USED = Screen(
    "frozen-model-used",
    (b"trainable",),
    lambda data, path: _FROZEN.search(data) is not None
    and (b"Sequential" in data or _BUILDS_GRAPH.search(data) is not None),
)
