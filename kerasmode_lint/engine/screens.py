"""Screens: finer byte-level tests than trigger words, for rules whose words are common.

A rule's trigger words decide whether a file is parsed for it (prefilter.py).
Some rules need words that occur in nearly every Keras file (``training``,
``trainable``, a positional ``True``), so the word alone sends most files to
the libcst parse, which costs ten times CPython's. A ``Screen`` adds a test
on the raw bytes (a regular expression, or a small scanner) that must also
pass. A screen may let through files the rule then leaves alone, never the
other way round: when unsure it says yes. tests/test_prefilter.py checks it
on every snippet in the repository, scripts/prefilter_audit.py on real trees.

No input makes a screen slow (tests/test_screens.py times every screen on
adversarial megabyte inputs): the regular expressions have one way to match
each text (no nested or adjacent quantifiers over overlapping classes), space
and comments are skipped by ``_after_space``, which walks no comment twice,
and every loop over a word's occurrences gives up after ``_BUDGET`` of them
with a yes, as when unsure. benchmarks/screen_adversarial.py prints the timings.

Libcst-free on purpose: the flake8 plugin and cached runs import this (via triggers.py).
"""
from __future__ import annotations

import re
from typing import Callable, List, Optional, Tuple

from ..analysis.keras_knowledge import APPLICATION_CONTENTS, BATCHNORM_LIKE, TRAINING_FLAG_NAME


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


# Several rules' screens search the same file for the same pattern (a
# literal ``training=True``): the answers for the file being screened are kept.
_memo_data: bytes = b""
_memo: dict = {}


def _file_memo(data: bytes) -> dict:
    """What has been worked out about ``data``, the file being screened."""
    global _memo_data, _memo
    if data is not _memo_data:
        _memo_data, _memo = data, {}
    return _memo


def _found(pattern: "_lazy", data: bytes) -> bool:
    memo = _file_memo(data)
    known = memo.get(pattern)
    if known is None:
        known = memo[pattern] = pattern.search(data) is not None
    return known


# A loop over the occurrences of a word stops after this many with a yes
# ("unsure"): real files have far fewer, and the time stays bounded.
_BUDGET = 1000
# How far a scan goes back or forward (an identifier, an annotation, the
# brackets before an argument) before it says it cannot tell.
_REACH = 2048


def _search(*patterns: "_lazy") -> Callable[[bytes, str], bool]:
    """A test that holds when every pattern is found. (Patterns should start
    with a literal word: the regular expression engine then jumps from one
    occurrence of it to the next instead of trying every byte.)"""
    return lambda data, path: all(_found(pattern, data) for pattern in patterns)


class _lazy:
    """A regular expression compiled on first use: most runs reach only a few
    of these, and compiling them all costs milliseconds of every start-up."""

    __slots__ = ("_args", "_compiled")

    def __init__(self, *args) -> None:
        self._args = args
        self._compiled: "Optional[re.Pattern[bytes]]" = None

    def _pattern(self) -> "re.Pattern[bytes]":
        if self._compiled is None:
            self._compiled = re.compile(*self._args)
        return self._compiled

    def search(self, *args):
        return self._pattern().search(*args)

    def match(self, *args):
        return self._pattern().match(*args)

    def fullmatch(self, *args):
        return self._pattern().fullmatch(*args)

    def finditer(self, *args):
        return self._pattern().finditer(*args)

    def findall(self, *args):
        return self._pattern().findall(*args)

    def sub(self, *args):
        return self._pattern().sub(*args)


# Space between tokens: blanks, newlines (inside brackets) and backslash continuations.
_S = rb"[\s\\]*"
_SPACE = _lazy(_S)
# Space and opening parentheses, as before a value: ``= ((True))``.
_OPENING = rb"[\s\\(]*"


def _line_end(data: bytes, at: int) -> int:
    """The index of the newline ending ``at``'s line (len(data) on the last
    line). Asked again for a later point of the same line, it does not search again."""
    memo = _file_memo(data)
    known = memo.get("line")
    if known is not None and known[0] <= at <= known[1]:
        return known[1]
    end = data.find(b"\n", at)
    if end < 0:
        end = len(data)
    memo["line"] = (at, end)
    return end


def _after_space(data: bytes, at: int) -> int:
    """Where the space from ``at`` ends: blanks, line continuations and
    comments (to the end of their line) skipped. What follows a newline is
    remembered, so a block of comment lines is walked once however many
    places ask."""
    known = _file_memo(data).setdefault("space", {})
    passed = []
    while True:
        at = _SPACE.match(data, at).end()
        if at >= len(data) or data[at] != 35:  # "#"
            break
        end = _line_end(data, at)
        if end in known:
            at = known[end]
            break
        passed.append(end)
        at = end
    for end in passed:
        known[end] = at
    return at


def _def(name: bytes) -> _lazy:
    """``def name(`` with any spacing (``async def`` too)."""
    return _lazy(rb"def" + _S + name + _S + rb"\(")


_DEF_CALL = _def(rb"call")

# KM302: a ``training`` parameter without a default. In a signature that is
# ``training`` after ``(``, ``,`` or ``*``, with perhaps an annotation, then
# ``,`` or ``)``. (A call passing ``training`` positionally matches too; that
# only lets a file through.) Found from the places where a parameter may
# start: ``(``, ``,`` or ``*``, then ``training`` or a comment.
_PARAMETER_START = _lazy(rb"[(,*]" + _S + rb"(?:training|#)")


def _training_parameters(data: bytes, start: int = 0, end: Optional[int] = None):
    """Where ``training`` ends in each ``(``/``,``/``*`` + space + ``training``
    between ``start`` and ``end``; -1 once the budget is spent (unsure)."""
    for count, match in enumerate(_PARAMETER_START.finditer(data, start, len(data) if end is None else end)):
        if count == _BUDGET:
            yield -1
            return
        at = _after_space(data, match.start() + 1)
        if data.startswith(b"training", at):
            yield at + 8


def _annotation_end(data: bytes, at: int) -> int:
    """After ``training``: where its default's ``=`` is or would be (an
    annotation skipped). -1 when ``:`` is not followed by ``=`` on its line,
    -2 when unsure (an annotation too long to scan)."""
    if data[at:at + 1] != b":":
        return at
    end = _line_end(data, at)
    if end - at > _REACH:
        return -2
    equals = data.find(b"=", at, end)
    return equals


def _training_without_default(data: bytes, path: str) -> bool:
    for end in _training_parameters(data):
        if end < 0:
            return True
        at = _after_space(data, end)
        if data[at:at + 1] in (b",", b")"):
            return True
        if data[at:at + 1] == b":":
            equals = _annotation_end(data, at)
            if equals == -2:
                return True
            line = data[at:equals if equals >= 0 else _line_end(data, at)]
            if b"," in line or b")" in line:
                return True
    return False


CALL_TRAINING_WITHOUT_DEFAULT = Screen(
    "call-training-without-default", (b"call", b"training"),
    lambda data, path: _found(_DEF_CALL, data) and _training_without_default(data, path),
)

# KM306: a ``call`` method (with or without a ``training`` parameter).
CALL_METHOD = Screen("call-method", (b"call",), _search(_DEF_CALL))

# KM307: a ``call`` whose signature names no training flag, in a file where a
# class may derive from a Keras model class. The signature is read up to its
# first ``)``; anything but plain names, annotations and defaults there (a
# nested call, a bracket, a string, a comment) or a signature past _REACH is
# an unsure yes, so a ``call`` without a flag is never missed.
_CALL_SIGNATURE = _lazy(rb"def" + _S + rb"call" + _S + rb"\((?P<head>[^)]{0,%d})(?P<close>\)?)" % _REACH)
_PLAIN_SIGNATURE = _lazy(rb"[\w\s\\,*/:=.\-+]*")
_PARAMETER_NAME = _lazy(rb"[\s\\*]*(\w*)")
_TRAINING_FLAG = _lazy(TRAINING_FLAG_NAME.pattern.encode())


def _call_without_flag(data: bytes) -> bool:
    for match in _CALL_SIGNATURE.finditer(data):
        head = match["head"]
        if not match["close"] or _PLAIN_SIGNATURE.match(head).end() != len(head):
            return True
        if not any(_TRAINING_FLAG.fullmatch(_PARAMETER_NAME.match(part).group(1).lower())
                   for part in head.split(b",")):
            return True
    return False


# Whether some class may derive from keras's Model, Sequential or Functional
# (subclasses.is_model_class): a class header naming one before its ``):``
# (a header longer than _REACH counts), or one of them bound to another name
# (``Model as M``, ``Base = keras.Model``), which a header may then use.
_MODEL_CLASS_WORD = _lazy(rb"\b(?:Model|Sequential|Functional)\b")
_CLASS_HEADER = _lazy(rb"\bclass[ \t]+\w+[ \t]*\(")
_HEADER_END = _lazy(rb"\)[ \t]*:")
_BOUND_AS = _lazy(rb"[ \t]+as\b")
_DOTTED_TAIL = _lazy(rb"[\w.]*$")
_ASSIGNED = _lazy(rb"(?:^|[^=!<>:])=[ \t]*$")
_LOOK_BACK = 200


def _model_class_possible(data: bytes) -> bool:
    for match in _CLASS_HEADER.finditer(data):
        end = _HEADER_END.search(data, match.end(), match.end() + _REACH)
        if end is None or _MODEL_CLASS_WORD.search(data, match.end(), end.start()):
            return True
    for match in _MODEL_CLASS_WORD.finditer(data):
        if _BOUND_AS.match(data, match.end()):
            return True
        before = data[max(0, match.start() - _LOOK_BACK):match.start()]
        dotted = _DOTTED_TAIL.search(before).start()
        if (dotted == 0 and len(before) == _LOOK_BACK) or _ASSIGNED.search(before, 0, dotted):
            return True
    return False


MODEL_CALL_WITHOUT_FLAG = Screen(
    "model-call-without-flag", (b"call", b"class"),
    lambda data, path: _call_without_flag(data) and _model_class_possible(data),
)

# KM501–KM503: something that changes a ``trainable`` flag: an assignment to
# ``.trainable``, a frozen constructor (``BatchNormalization(trainable=False)``)
# or a call to a freeze/make_trainable helper (trainable_flow._HELPER_NAME).
# Written as a loop over the word's occurrences: a regular expression that
# starts with ``\.`` or ignores case is tried at every byte, ten times slower.
# An annotation is read up to _REACH bytes, taken whole (the lookahead makes
# it atomic: no shorter reading is tried); a longer one counts as a match.
_ASSIGNED_AFTER = _lazy(
    _S + rb"(?:=(?!=)|:(?=(?P<annotation>[^=\n]{0,%d}))(?P=annotation)(?:=(?!=)|[^=\n]))" % _REACH
)
_FALSE_AFTER = _lazy(_S + rb"=" + _S + rb"(?:False|not\b)")
_CALLED_AFTER = _lazy(_S + rb"\(")
# The names trainable_flow takes for such helpers (it compiles the same text).
HELPER_NAME = r"(?i)(^|_)(un)?freez|(make|set|toggle)_?(un)?trainable"
_HELPER_NAME = _lazy(HELPER_NAME.encode())
# What a make/set/toggle_trainable helper's name has right before "trainable".
_HELPER_PREFIX = _lazy(rb"(?i)(?:make|set|toggle)_?(?:un)?$")
_IDENTIFIER_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


_IDENTIFIER_RUN = _lazy(rb"\w{0,%d}" % _REACH)


def _helper_called_at(data: bytes, at: int) -> bool:
    """Is the identifier around ``at`` a freeze/make_trainable helper being
    called? (Yes, unsure, for an identifier too long to read.)"""
    left = at
    while left > 0 and data[left - 1] in _IDENTIFIER_BYTES:
        left -= 1
        if at - left > _REACH:
            return True
    right = _IDENTIFIER_RUN.match(data, at).end()
    if right - at == _REACH:
        return True
    return _HELPER_NAME.search(data[left:right]) is not None and _CALLED_AFTER.match(data, right) is not None


def _after_dot(data: bytes, at: int) -> bool:
    """Is the name at ``at`` an attribute (``x.trainable``, ``x . trainable``)?"""
    return data[max(0, at - 80):at].rstrip(b" \t\\\r\n").endswith(b".")


def _occurrences(data: bytes, word: bytes):
    """Where ``word`` occurs; -1 (unsure) after _BUDGET of them."""
    at = data.find(word)
    count = 0
    while at >= 0:
        if count == _BUDGET:
            yield -1
            return
        yield at
        count += 1
        at = data.find(word, at + 1)


def _changes_trainable(data: bytes, path: str) -> bool:
    for at in _occurrences(data, b"trainable"):
        if at < 0:
            return True
        end = at + 9
        if _ASSIGNED_AFTER.match(data, end) and _after_dot(data, at):
            return True  # x.trainable = ...
        if _FALSE_AFTER.match(data, end):
            return True  # Ctor(trainable=False)
        if at and data[at - 1] in b"_eEnNtT" and _HELPER_PREFIX.search(data, max(0, at - 9), at):
            if _helper_called_at(data, at):
                return True  # make_trainable(D, False)
    for word in (b"Trainable", b"TRAINABLE", b"reez", b"REEZ"):
        for at in _occurrences(data, word):
            if at < 0 or _helper_called_at(data, at):
                return True  # makeTrainable(D), freeze(base), Unfreeze(m)
    return False


# KM501/KM502 report at a training call (fit, fit_generator, train_on_batch)
# after a compile().
_COMPILE_CALL = _lazy(rb"compile" + _S + rb"\(")
_TRAINING_CALL = _lazy(rb"(?:fit|fit_generator|train_on_batch)" + _S + rb"\(")
TRAINABLE_CHANGE_BEFORE_FIT = Screen(
    "trainable-change-before-fit",
    (b"compile",),
    lambda data, path: _found(_COMPILE_CALL, data) and _found(_TRAINING_CALL, data)
    and _changes_trainable(data, path),
)
# KM503 needs a BatchNormalization freeze: a BN class (isinstance, a frozen
# constructor) or a BN-looking layer name (trainable_flow compiles the same text).
BN_TEXT = r"(?i)batch_?norm|(^|[^a-z])bn([^a-z]|$)"
_BN_TEXT = _lazy(BN_TEXT.encode())
BATCHNORM_FREEZE_CHANGE = Screen(
    "batchnorm-freeze-change",
    (),
    lambda data, path: _changes_trainable(data, path) and _BN_TEXT.search(data) is not None,
)

# KM303: a bool or ``training`` value passed positionally, after a comma, to
# something that may be a Keras layer or model. Found from the value's
# occurrences (fast ``find``), not by a regular expression tried at every comma.
# Names whose call is never a layer call (keywords before a parenthesised
# tuple, and builtins).
_NOT_LAYERS = frozenset(
    b"if elif while return yield in not and or is else assert await lambda del for with "
    b"print isinstance issubclass getattr setattr hasattr super len range zip map filter "
    b"sorted reversed min max sum any all tuple list dict set frozenset str int float bool "
    b"type repr format enumerate iter next open id hash round abs".split()
)
_STRING_OR_COMMENT = _lazy(
    rb"""[rRbBuUfF]{0,2}(?:'[^'\\\n]*(?:\\.[^'\\\n]*)*'|"[^"\\\n]*(?:\\.[^"\\\n]*)*")|#[^\n]*"""
)
_LOOK_BACK_LINES = 50


_BRACKETS = _lazy(rb"[()\[\]{}]")


def _opening_bracket(data: bytes, end: int) -> int:
    """Index of the bracket left open before ``end`` (the ``(`` of the call an
    argument belongs to), -1 if there is none, -2 when unsure (a triple-quoted
    string, or too far back: more than _LOOK_BACK_LINES lines or _REACH bytes)."""
    depth = 0
    line_end = end
    reach = max(0, end - _REACH)
    for _ in range(_LOOK_BACK_LINES):
        line_start = data.rfind(b"\n", reach, line_end) + 1
        if line_start == 0 and reach > 0:
            return -2
        line = data[line_start:line_end]
        if b'"""' in line or b"'''" in line:
            return -2
        if b"'" in line or b'"' in line or b"#" in line:
            # Blank out strings and comments, keeping offsets.
            line = _STRING_OR_COMMENT.sub(lambda m: b" " * len(m.group(0)), line)
            if b"'" in line or b'"' in line:
                return -2  # a string spanning lines: do not guess
        for bracket in reversed(list(_BRACKETS.finditer(line))):
            if bracket.group(0) in b")]}":
                depth += 1
            elif depth == 0:
                return line_start + bracket.start()
            else:
                depth -= 1
        if line_start == 0:
            return -1
        line_end = line_start - 1
    return -2


# A name that may be bound to a value: ``name = …``, ``self.name: T = …``, a
# tuple target, ``for name in``, ``.append``-ed to. layer_calls follows
# nothing else. Loose on purpose.
_BOUND_NAME = _lazy(rb"(?<![\w])(\w+)" + _S + rb"(?:=(?!=)|:|,|\)|\]|in\b|\.append|\.extend|\+=)")


def _assigned(data: bytes, name: bytes) -> bool:
    """Could ``name`` be bound to a value in the file? (Every such name is
    collected in one pass, the first time a file asks.)"""
    memo = _file_memo(data)
    names = memo.get("bound")
    if names is None:
        names = memo["bound"] = frozenset(_BOUND_NAME.findall(data))
    return name in names


def _dotted_before(text: bytes) -> Optional[Tuple[bytes, int]]:
    """The dotted name (spaces removed) that ``text`` ends with, and where it
    starts; None if it does not end with a name. (A regular expression
    anchored at the end would be tried from every byte before it.)"""
    end = len(text.rstrip(b" \t\\\r\n"))
    parts: List[bytes] = []
    end_of_chain = end
    while True:
        start = end
        while start > 0 and text[start - 1] in _IDENTIFIER_BYTES:
            start -= 1
        if start == end or text[start] in b"0123456789":
            return None if not parts else (b".".join(reversed(parts)), end_of_chain)
        parts.append(text[start:end])
        end_of_chain = start
        before = len(text[:start].rstrip(b" \t\\\r\n"))
        if before == 0 or text[before - 1] != 46:  # "."
            return b".".join(reversed(parts)), start
        end = len(text[:before - 1].rstrip(b" \t\\\r\n"))


# Where a class built inline (``Ctor(...)(x, True)``) can be a layer or model
# for layer_calls: keras.layers/models/applications/saving, the hub and the
# keras-family packages (keras_hub, keras_cv, keras_nlp).
_LAYER_MODULE_PARTS = frozenset(
    b"layers models applications saving Sequential Model Functional KerasLayer".split()
)
_LAYER_MODULE = _lazy(rb"layers|models|applications|saving|hub|keras_cv|keras_nlp")


# An import statement's line (``from M import …``, ``import M as N``); the
# keyword stands alone, so each module path is read by one match only.
_IMPORT_LINE = _lazy(rb"(?<![\w.])(?:from|import)(?![\w])(?:[^\n\\]|\\[\s\S])*")
_WORD = _lazy(rb"\w+")


def _layer_module_names(data: bytes) -> frozenset:
    """The names imported on a line that mentions a layer module
    (``from keras import layers as L``, ``import keras.layers as L``)."""
    memo = _file_memo(data)
    names = memo.get("layer names")
    if names is None:
        found = set()
        for line in _IMPORT_LINE.finditer(data):
            if _LAYER_MODULE.search(line.group(0)):
                found.update(word.group(0) for word in _WORD.finditer(line.group(0)))
        names = memo["layer names"] = frozenset(found)
    return names


def _maybe_layer_class(data: bytes, dotted: bytes) -> bool:
    parts = dotted.split(b".")
    if len(parts) == 1 or any(part in _LAYER_MODULE_PARTS for part in parts):
        return True  # an in-file or imported class, Dense, keras.layers.Dense, L.Dense ...
    # from keras import layers as L; import keras.layers as L. Anything else,
    # knp.LogicalAnd(), np.vectorize(f), is not a layer class layer_calls knows.
    return parts[0] in _layer_module_names(data)


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
        built_by = _dotted_before(data[max(0, inner - 200):inner])
        if built_by is None:
            return True  # a parenthesised expression
        return _maybe_layer_class(data, built_by[0])
    if stripped.endswith(b"]"):
        return True  # layers[0](x, True)
    callee = _dotted_before(stripped)
    if callee is None:
        return False  # a parenthesised tuple
    parts = callee[0].split(b".")
    if len(parts) == 1:
        if parts[0] == b"self":
            return True
        if parts[0] in _NOT_LAYERS or stripped[: callee[1]].rstrip().endswith(b"def"):
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
        if start - i > _REACH:
            return start  # unsure
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


# A flag value followed by the end of an argument (the regular expression
# engine finds these far faster than a Python loop over every "True").
# One pattern per word: a pattern that starts with a literal is searched for
# by its first bytes, an alternation is tried at every byte.
# (A value ends an argument when the first thing after it, space and comments
# skipped, is ``,`` or ``)``; the pattern finds those and the values followed
# by a comment, which _after_space then skips.)
_FLAG_VALUES = tuple(
    _lazy(word + rb"(?![\w])" + _S + rb"[,)#]")
    for word in (rb"True", rb"False", rb"training")
)


def _positional_flag_to_layer(data: bytes, path: str) -> bool:
    for pattern in _FLAG_VALUES:
        if _flag_to_layer(data, pattern):
            return True
    return False


def _flag_to_layer(data: bytes, pattern: "_lazy") -> bool:
    for count, match in enumerate(pattern.finditer(data)):
        if count == _BUDGET:
            return True  # unsure
        if data[match.end() - 1] == 35:  # "#": what comes after the comment?
            after = _after_space(data, match.end() - 1)
            if data[after:after + 1] not in (b",", b")"):
                continue
        at = start = match.start()
        if pattern is _FLAG_VALUES[2]:  # training
            if data[at - 3:at] == b"is_":
                start = at - 3
            # x.training, self.cfg.training: start at the chain's first name.
            while start > 0 and data[start - 1] == 46:  # "."
                start -= 1
                while start > 0 and data[start - 1] in _IDENTIFIER_BYTES:
                    start -= 1
        if start > 0 and (data[start - 1] in _IDENTIFIER_BYTES or data[start - 1] == 46):
            continue  # run_training, obj.True
        comma = _comma_before(data, start)
        if comma >= 0 and _maybe_layer_call(data, comma):
            return True
    return False


POSITIONAL_FLAG_TO_LAYER = Screen("positional-flag-to-layer", (b"keras",), _positional_flag_to_layer)


def _literal_training(values: bytes) -> "_lazy":
    """``training=<one of values>`` as a keyword argument (parentheses allowed)."""
    return _lazy(rb"training" + _S + rb"=" + _OPENING + rb"(?:" + values + rb")\b")


_TRAINING_TRUE = _literal_training(rb"True")

# KM301: ``def call(...)`` whose ``training`` defaults to True. The signature
# ends at a ``)`` followed by ``:`` (perhaps after ``-> T``) and a newline.
# (A ``)`` or a newline inside the return annotation or the comment after the
# colon hides that end: the search then runs on, which only lets files through.)
_SIGNATURE_END = _lazy(rb"\)(?=" + _S + rb"(?:->[^:\n)]*)?:[ \t]*(?:#[^\n)]*)?\r?\n)")
_TRUE_VALUE = _lazy(_OPENING + rb"True\b")


def _call_default_true(data: bytes, path: str) -> bool:
    searched_to = -1
    for count, match in enumerate(_DEF_CALL.finditer(data)):
        if count == _BUDGET:
            return True
        start = match.end()
        if start < searched_to:
            continue  # inside a signature already searched
        close = _SIGNATURE_END.search(data, start)
        searched_to = close.start() if close else len(data)
        for end in _training_parameters(data, start, searched_to):
            if end < 0:
                return True
            at = _annotation_end(data, _after_space(data, end))
            if at == -2:
                return True
            if at >= 0 and data[at:at + 1] == b"=" and _TRUE_VALUE.match(data, at + 1):
                return True
    return False


CALL_DEFAULT_TRAINING_TRUE = Screen("call-default-training-true", (b"call", b"True"), _call_default_true)

# KM202: a literal True/False on a node of a functional graph, which needs a
# model built from tensors in the file: ``Model``/``Functional`` (any
# spelling ends so), or ``super().__init__(inputs, outputs)``.
# (An argument is a run without space or backslash: the space after it then
# has one reading.)
_BUILDS_GRAPH = _lazy(
    rb"Model|Functional|outputs|super" + _S + rb"\(" + _S + rb"\)" + _S + rb"\." + _S + rb"__init__" + _S
    + rb"\(" + _S + rb"[^\s=,()*\\]+" + _S + rb"," + _S + rb"[^\s=,()*\\]+" + _S + rb"[,)]"
)
# ... applied to a symbolic tensor: from ``Input`` or a model's
# ``.output(s)``/``.input(s)`` (model_contents._is_symbolic).
_SYMBOLIC = _lazy(rb"Input|\." + _S + rb"(?:output|input)s?\b")
FUNCTIONAL_NODE_PIN = Screen(
    "functional-node-pin",
    (b"training",),
    _search(_literal_training(rb"True|False"), _BUILDS_GRAPH, _SYMBOLIC),
)

# KM304: a literal False/None/True pin inside a ``call`` method.
PIN_INSIDE_CALL = Screen(
    "pin-inside-call", (b"training", b"call"), _search(_literal_training(rb"False|None|True"), _DEF_CALL)
)

# KM203: ``training=True`` on something known to hold BatchNormalization: the
# layer's class name or a keras.applications model built with it.
_HOLDS_BATCHNORM = _lazy(
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


# Where KM103 looks: a test_step/predict_step, a function named like
# evaluation (its words: eval, valid, test, predict, infer ...), or a loop
# whose target or iterable is named so.
# (``def`` and ``for`` are keywords: preceded by no letter, so each name and
# each line is read from one of them only.)
_EVALUATION_DEF = _lazy(rb"(?i)(?<![\w])def" + _S + rb"\w*(?:eval|val|test|predict|infer)")
_FOR = _lazy(rb"(?i)(?<![\w])for\b")
_EVALUATION_WORD = _lazy(rb"(?i)val|test|eval")


def _evaluation_place(data: bytes) -> bool:
    if _EVALUATION_DEF.search(data):
        return True
    line_end = -1
    for match in _FOR.finditer(data):
        if match.start() < line_end:
            continue  # a later ``for`` of a line already read
        line_end = _line_end(data, match.end())
        if _EVALUATION_WORD.search(data, match.end(), line_end):
            return True
    return False


_STEP = _lazy(rb"test_step|predict_step")


# Inference code outside evaluation-named places: a tape (Grad-CAM), a sampling
# loop (``range``, ``while``) or data named like validation/test data.
_INFERENCE_HINT = _lazy(rb"GradientTape|range\s*\(|(?<![\w])while\b|(?i:val|test|eval)")


def _evaluation_pin(data: bytes, path: str) -> bool:
    if not _found(_TRAINING_TRUE, data):
        return False
    if _found(_STEP, data):
        return True
    return not is_test_file(path) and (_evaluation_place(data) or _found(_INFERENCE_HINT, data))


EVALUATION_PIN = Screen("evaluation-pin", (b"training",), _evaluation_pin)


# KM201: a model frozen with a literal ``trainable = False`` (an assignment,
# or the keyword of a call that may build a layer: not ``add_weight``) and
# then used as a graph node (a model built from symbolic tensors) or a
# Sequential element.
_FROZEN_AFTER = _lazy(_S + rb"=" + _S + rb"False\b")
_WEIGHT_MAKERS = frozenset(b"add_weight add_variable Variable variable".split())


def _freezes_a_layer(data: bytes) -> bool:
    for at in _occurrences(data, b"trainable"):
        if at < 0:
            return True
        if not _FROZEN_AFTER.match(data, at + 9):
            continue
        if _after_dot(data, at):
            return True  # x.trainable = False
        opening = _opening_bracket(data, at)
        if opening < 0 or data[opening] != ord("("):
            return True  # unsure
        callee = _dotted_before(data[max(0, opening - 200):opening])
        if callee is None or callee[0].split(b".")[-1] not in _WEIGHT_MAKERS:
            return True  # Ctor(..., trainable=False)
    return False


def _frozen_model_used(data: bytes, path: str) -> bool:
    if not _freezes_a_layer(data):
        return False
    if b"Sequential" in data:
        return True
    return _found(_BUILDS_GRAPH, data) and _found(_SYMBOLIC, data)


FROZEN_MODEL_USED = Screen("frozen-model-used", (b"trainable",), _frozen_model_used)


# KM102: a ``train_step`` method.
TRAIN_STEP_METHOD = Screen(
    "train-step-method", (b"train_step",), _search(_def(rb"train_step"))
)
