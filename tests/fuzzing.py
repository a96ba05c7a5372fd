"""Program generators and the invariant every lint must keep, shared by
tests/test_fuzz.py (a modest count on every run) and scripts/fuzz.py (10,000
programs and more, with a report).

- ``grammar_programs``/``node_programs``: hypothesmith's valid Python.
- ``keras_programs``: Keras-flavoured programs spliced from the shapes the
  rules look at (tapes, train_step, call signatures, trainable flags,
  compile/fit, learning phase, GAN recipes), with clashing names, odd call
  forms and random nesting: the rules' code paths are where crashes hide.
- ``mutated_programs``: those, with random edits that mostly break them.
"""
from __future__ import annotations

import re
import textwrap
from pathlib import Path

from hypothesis import strategies as st

from helpers import outside_libcst_limits
from kerasmode_lint.engine.lint import LintOptions, lint_bytes
from kerasmode_lint.rules import ALL_RULES
from kerasmode_lint.engine.screens import Screen


def _words(trigger):
    if isinstance(trigger, Screen):
        return trigger.words
    return trigger if isinstance(trigger, tuple) else (trigger,)


# Every rule's trigger words, so that most generated programs pass the
# prefilter (screens also look at the code; check() lints without the
# prefilter too, so every rule sees every program anyway).
TRIGGER_COMMENT = "# " + " ".join(sorted({
    word.decode() for r in ALL_RULES for t in r.triggers for word in _words(t)
})) + "\n"

IMPORTS = [
    "import tensorflow as tf", "from tensorflow import keras", "import keras", "from keras import layers",
    "import tf_keras as keras", "from tensorflow.keras import layers, Model", "import numpy as np",
    "from keras import ops", "import jax", "import os", "os.environ['KERAS_BACKEND'] = 'jax'",
    "os.environ['TF_USE_LEGACY_KERAS'] = '1'", "from tensorflow.keras.layers import Dropout, BatchNormalization",
    "import tensorflow.keras.backend as K", "from keras import Sequential, Model, Input",
]
NAMES = ["model", "base", "self", "encoder", "generator", "discriminator", "gan", "x", "layer", "tape",
         "opt", "loss", "bn", "inputs", "outputs", "teacher", "student", "m", "training", "self.model",
         "self.base", "layers", "keras", "tf"]
LAYERS = ["Dropout(0.5)", "BatchNormalization()", "Dense(10)", "Conv2D(3, 3)", "LSTM(4, dropout=0.2)",
          "SpatialDropout1D(0.1)", "GaussianNoise(0.1)", "Sequential([layers.Dropout(0.2)])", "Lambda(f)",
          "TimeDistributed(layers.Dropout(0.1))", "Bidirectional(layers.LSTM(2))", "MultiHeadAttention(2, 4)"]
TRAINING = ["True", "False", "None", "training", "flag", "not training", "self.training", "1", "0",
            "K.learning_phase()", "training or False"]
BOOLS = ["True", "False", "flag", "not base.trainable", "None"]
CALLS = [
    "{m}({x})", "{m}({x}, training={t})", "{m}({x}, {t})", "{m}(*args, **kwargs)", "{m}.__call__({x})",
    "{m}.call({x}, training={t})", "({m} if c else {n})({x})", "{m}[0]({x})", "{m}({x})({x})",
    "{m}.predict({x})", "{m}.predict_on_batch({x})", "{m}.evaluate({x})", "{m}.fit({x}, y, epochs=1)",
    "{m}.train_on_batch({x}, y)", "{m}(inputs={x}, training={t})", "layers.{l}({x}, training={t})",
    "keras.layers.{l}({x})", "tf.keras.layers.{l}({x}, training={t})", "{m}.stateless_call(tv, ntv, {x})",
    "[{m}({x}, training={t}) for _ in range(10)]", "{m}.compile(optimizer='adam', loss='mse')",
    "{m}.compile()", "getattr({m}, 'call')({x})", "{m}.get_layer('bn')({x})", "{m}.layers[-1]({x})",
]
STATEMENTS = [
    "{m} = keras.Sequential([layers.Dense(4), layers.{l}])", "{m} = keras.Model({x}, {n})",
    "{m} = Model(inputs={x}, outputs={n}({x}, training={t}))",
    "{m} = keras.applications.MobileNetV2(include_top=False)", "{m} = tf.keras.models.load_model('m.h5')",
    "{m}.trainable = {b}", "{m}.trainable = {n}.trainable = {b}", "{m}.trainable, {n}.trainable = {b}, {b}",
    "{m}.layers[{k}].trainable = {b}", "{m}.get_layer('x').trainable = {b}",
    "for layer in {m}.layers: layer.trainable = {b}",
    "for layer in {m}.layers[:{k}]:\n    if isinstance(layer, layers.BatchNormalization):\n"
    "        layer.trainable = {b}",
    "grads = {tape}.gradient(loss, {m}.trainable_variables)",
    "grads = {tape}.gradient(loss, {m}.trainable_weights + {n}.trainable_weights)",
    "grads = {tape}.gradient(loss, [{x}])", "opt.apply_gradients(zip(grads, {m}.trainable_variables))",
    "opt.minimize(loss, {m}.trainable_variables, tape={tape})", "{m}.optimizer.apply(grads, {m}.trainable_weights)",
    "keras.backend.set_learning_phase({k})", "tf.keras.backend.set_learning_phase(1)", "K.learning_phase()",
    "{x} = {call}", "return {call}", "y = {call}", "{m} = {n}", "del {m}", "global {m}", "{m}: keras.Model = None",
    "loss = loss_fn(y, {call})", "{x} = ({m} := keras.Sequential())", "*{m}, {n} = {x}", "{m} += 1",
    "assert {call}", "yield {call}", "await {call}", "lambda {x}: {call}", "print(f'{{{call}}}')",
    "with keras.backend.learning_phase_scope({k}):\n    {call}", "tape = tf.GradientTape()", "pass",
]
HEADERS = [
    "def train_step(self, data):", "def test_step(self, data):", "def predict_step(self, data):",
    "def call(self, inputs, training={t}):", "def call(self, inputs, training):", "def call(self, inputs, mask=None):",
    "def call(self, inputs, *args, **kwargs):", "def __init__(self, **kwargs):", "async def step({x}):",
    "@tf.function\ndef train_step({x}, y):", "@tf.function(jit_compile=True)\ndef step({x}):",
    "def mc_predict({m}, {x}, n=10):", "def evaluate({m}, {x}):", "def loop():", "def f(*, training=None):",
    "class {C}(keras.Model):", "class {C}(keras.layers.Layer):", "class {C}(tf.keras.Model, Mixin):",
    "class {C}:", "if {b}:", "else:", "for {x} in dataset:", "for epoch in range(3):", "while {b}:",
    "try:", "except Exception:", "finally:",
    "with tf.GradientTape() as {tape}:", "with tf.GradientTape(persistent=True) as {tape}, tf.GradientTape() as t2:",
    "with tf.GradientTape() as self.tape:", "with tf.GradientTape():", "with {tape}:", "with strategy.scope():",
    "with tf.GradientTape() as {tape}, keras.backend.learning_phase_scope(0):",
    "match {x}:\n    case {{'training': t}}:", "with open(p) as (a, b):",
]


@st.composite
def _fill(draw, template: str) -> str:
    pick = lambda options: draw(st.sampled_from(options))  # noqa: E731
    call = pick(CALLS).format(m=pick(NAMES), n=pick(NAMES), x=pick(NAMES), t=pick(TRAINING), l=pick(LAYERS))
    return template.format(
        m=pick(NAMES), n=pick(NAMES), x=pick(NAMES), t=pick(TRAINING), b=pick(BOOLS), l=pick(LAYERS),
        k=draw(st.integers(-3, 3)), tape=pick(["tape", "t", "self.tape", "g"]), call=call,
        C=pick(["Model", "Trainer", "GAN", "Block"]),
    )


@st.composite
def _block(draw, depth: int) -> str:
    """Statements; some open a block (def, class, with, if, …) holding more."""
    lines = []
    for _ in range(draw(st.integers(1, 4))):
        if depth < 3 and draw(st.integers(0, 2)) == 0:
            header = draw(_fill(draw(st.sampled_from(HEADERS))))
            body = draw(_block(depth + 1))
            lines.append(header + "\n" + textwrap.indent(body, "    "))
        else:
            lines.append(draw(_fill(draw(st.sampled_from(STATEMENTS + ["{call}"] * 6)))))
    return "\n".join(lines)


@st.composite
def keras_programs(draw) -> str:
    imports = draw(st.lists(st.sampled_from(IMPORTS), max_size=5, unique=True))
    return TRIGGER_COMMENT + "\n".join(imports) + "\n" + draw(_block(0)) + "\n"


FIXTURES = sorted((Path(__file__).resolve().parent.parent / "fixtures").glob("KM*/*.py"))
_INDENT = re.compile(r"[ \t]*")


@st.composite
def fixture_programs(draw) -> str:
    """A rule fixture (a real flagged, fixed or look-alike program) with
    fragments spliced in at random lines, at those lines' indentation, and
    names swapped: programs the rules do report on, bent out of shape."""
    flagged = [f for f in FIXTURES if f.name.startswith("flagged")]
    text = draw(st.sampled_from(flagged) | st.sampled_from(FIXTURES)).read_text(encoding="utf-8")
    lines = text.splitlines()
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(lines)))
        indent = _INDENT.match(lines[at]).group() if at < len(lines) else ""
        fragment = draw(_fill(draw(st.sampled_from(STATEMENTS + ["{call}"] * 4 + ["pass"] * 8))))
        lines[at:at] = [indent + line for line in fragment.splitlines()]
    text = "\n".join(lines) + "\n"
    if draw(st.booleans()):
        old = draw(st.sampled_from(["model", "base", "tape", "x", "self", "training"]))
        new = draw(st.sampled_from(NAMES))
        text = re.sub(rf"\b{old}\b", new, text)
    return text


_EDITS = ["(", ")", "[", "]", ":", "\n", "    ", "\t", "\\\n", "'", '"""', "#", ",", "=", "lambda", "@", "\r",
          "training=", "not ", "*", "**", ".", "\x00", "\ufeff", "\xe9"]


@st.composite
def mutated_programs(draw) -> bytes:
    """A Keras-flavoured program with a few random edits: deletions,
    insertions, duplicated or truncated tails, bytes that are not UTF-8."""
    text = draw(st.one_of(keras_programs(), fixture_programs()))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.integers(0, 3))
        if action == 0:
            text = text[:at] + text[at + draw(st.integers(1, 20)):]
        elif action == 1:
            text = text[:at] + draw(st.sampled_from(_EDITS)) + text[at:]
        elif action == 2:
            text = text[:at] + text[at:] + text[:at]
        else:
            text = text[:at]
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 9)) == 0:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
    return data


OPTIONS = st.builds(
    LintOptions,
    keras_version=st.sampled_from(["2", "3", "3.16", "auto"]),
    keras_backend=st.sampled_from(["auto", "tensorflow", "jax", "torch"]),
    disable_noqa=st.booleans(),
)


def check(source, options: LintOptions = LintOptions(keras_version="3")) -> None:
    """The invariant: a result (findings, a KM001 or nothing), never an
    exception or an internal error; positions inside the file; the same
    result twice (no state left behind by one lint in the next), and the
    same with the prefilter as with every rule forced to run (it never hides
    a finding)."""
    data = source.encode("utf-8", "surrogatepass") if isinstance(source, str) else source
    result = lint_bytes(data, "fuzz.py", options, prefilter=False)
    problems = [d.message for d in result.diagnostics if d.message.startswith("internal error")]
    assert not result.internal_error and not problems, problems
    lines = max(1, len(data.splitlines()) + 1)
    for diag in result.diagnostics:
        assert 1 <= diag.line <= lines and diag.column >= 1, diag
    with_prefilter = lint_bytes(data, "fuzz.py", options).diagnostics
    assert outside_libcst_limits(with_prefilter) == outside_libcst_limits(result.diagnostics)
    assert lint_bytes(data, "fuzz.py", options, prefilter=False).diagnostics == result.diagnostics


def with_triggers(source: str) -> str:
    """hypothesmith's programs rarely name Keras: make every rule look at them."""
    return TRIGGER_COMMENT + source


def check_fixes(source, options: LintOptions, newline: str = "\n") -> None:
    """Fixes, safe and unsafe, on ``source`` with ``newline`` line endings:
    no internal error (a refused fix is one); the fixed code parses whenever
    the original did; a second pass changes nothing; line endings, BOM and
    encoding are kept."""
    from kerasmode_lint.engine.autofix import Job, run_job

    text = source.decode("utf-8", "surrogateescape") if isinstance(source, bytes) else source
    data = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", newline).encode("utf-8", "surrogateescape")
    job = Job(fix=True, unsafe=True, write=False)
    result = run_job("fuzz.py", data, options, job)
    problems = [d.message for d in result.diagnostics if d.message.startswith("internal error")]
    assert not result.internal_error and not problems, problems
    fixed = result.output
    if fixed is None:
        return
    if _compiles(data):
        assert _compiles(fixed), fixed
    assert run_job("fuzz.py", fixed, options, job).output is None, "a second --fix changed the file"
    assert fixed.startswith(b"\xef\xbb\xbf") == data.startswith(b"\xef\xbb\xbf")
    breaks = {b"\r\n": fixed.count(b"\r\n")}
    breaks[b"\r"] = fixed.count(b"\r") - breaks[b"\r\n"]
    breaks[b"\n"] = fixed.count(b"\n") - breaks[b"\r\n"]
    assert all(count == 0 for style, count in breaks.items() if style != newline.encode()), breaks


def _compiles(data: bytes) -> bool:
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(data, "fuzz.py", "exec", dont_inherit=True, flags=1024)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True
