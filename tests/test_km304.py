"""KM304 training-pin-leaks-to-siblings: what it flags and the look-alikes it must leave alone."""
import textwrap

import pytest

from helpers import findings

HEADER = """
import tensorflow as tf
from tensorflow.keras import layers

class Net(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.backbone = tf.keras.applications.MobileNetV2(include_top=False)
        self.drop = layers.Dropout(0.5)
        self.bn = layers.BatchNormalization()
        self.dense = layers.Dense(3)
        self.head = tf.keras.Sequential([layers.Dense(8), layers.Dropout(0.2)])
        self.teacher = tf.keras.models.load_model("teacher.keras")
"""


def lint(call_body, version="3", extra=""):
    body = textwrap.indent(textwrap.dedent(call_body).lstrip("\n"), " " * 8)
    src = HEADER + extra + "    def call(self, x, training=None):\n" + body
    lines = HEADER.count("\n") + extra.count("\n") + 1  # line of "def call"
    return [(line - lines, code) for line, code in findings(src, version) if code == "KM304"]


FLAGGED = """
h = self.backbone(x, training=False)
h = self.bn(h)
h = self.drop(h)
return self.dense(h)
"""


@pytest.mark.parametrize("version, expected", [
    ("2", []), ("3", [(2, "KM304"), (3, "KM304")]), ("3.16", [(2, "KM304"), (3, "KM304")])])
def test_siblings_after_pin_keras3_only(version, expected):
    assert lint(FLAGGED, version) == expected


def test_message_names_the_pin_and_the_fix():
    from kerasmode_lint import lint_source

    src = HEADER + "    def call(self, x, training=None):\n" + textwrap.indent(FLAGGED, " " * 8)
    diags = [d for d in lint_source(src, "x.py", keras_version="3") if d.code == "KM304"]
    assert diags[0].message.startswith("`self.bn` inherits `training=False` from `self.backbone(...)`")
    assert diags[1].message.endswith("; pass `training=training`")
    msgs = [d.explanation for d in diags]
    assert "`self.backbone(..., training=False)`" in msgs[0] and "`self.bn`" in msgs[0]
    assert "never updates" in msgs[0] and "never drops" in msgs[1]
    assert "Pass `training=training` to `self.drop`" in msgs[1]


def test_none_pin_and_nested_call_order():
    # The backbone runs before the head that wraps it.
    assert lint("return self.head(self.backbone(x, training=None))\n") == [(1, "KM304")]


def test_unknown_and_mode_free_siblings_not_flagged():
    src = """
    h = self.backbone(x, training=False)
    h = self.dense(h)
    h = self.teacher(h)
    h = self._post(h)
    return tf.nn.softmax(h)
    """
    assert lint(src) == []


def test_forwarding_after_the_pin_is_correct_and_restores_the_context():
    src = """
    h = self.backbone(x, training=False)
    h = self.bn(h, training=training)
    h = self.drop(h)
    return self.head(h, **kwargs)
    """
    assert lint(src) == []


def test_siblings_before_the_pin_are_not_affected():
    src = """
    h = self.bn(x)
    h = self.drop(h)
    return self.backbone(h, training=False)
    """
    assert lint(src) == []


def test_exclusive_branches_and_returning_blocks():
    exclusive = """
    if self.frozen:
        h = self.backbone(x, training=False)
    else:
        h = self.drop(self.backbone(x))
    return h
    """
    returning = """
    if self.distill:
        return self.teacher(x, training=False)
    return self.bn(x)
    """
    assert lint(exclusive) == [] and lint(returning) == []


def test_pin_inside_branch_leaks_after_it():
    src = """
    if self.frozen:
        h = self.backbone(x, training=False)
    else:
        h = self.backbone(x)
    return self.drop(h)
    """
    assert lint(src) == [(5, "KM304")]


def test_positional_training_is_left_to_km303():
    assert lint("h = self.backbone(x, training=False)\nreturn self.bn(h, training)\n") == []


def test_pins_outside_call_are_not_affected():
    # look-alike 6 of docs/semantics.md: frozen teacher in train_step.
    extra = """
    def train_step(self, data):
        t = self.teacher(data, training=False)
        s = self.drop(data)
        return {}
"""
    assert lint("return self.drop(x, training=training)\n", extra=extra) == []


def test_in_file_sublayer_contents_and_layer_level_class():
    src = """
    import keras
    class Head(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.drop = keras.layers.Dropout(0.1)
        def call(self, x):
            return self.drop(x)
    class Plain(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.proj = keras.layers.Dense(3)
        def call(self, x):
            return self.proj(x)
    class Wrapper(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.enc = keras.layers.LSTM(4, dropout=0.2)
            self.head = Head()
            self.plain = Plain()
        def call(self, x):
            h = self.enc(x, training=False)
            return self.plain(self.head(h))
    """
    assert [f for f in findings(textwrap.dedent(src), "3") if f[1] == "KM304"] == [(23, "KM304")]


def test_training_keyword_of_non_keras_functions_is_not_a_pin():
    # look-alike 7 of docs/semantics.md: builders and dataset factories take their own `training=`.
    extra = """
        self.features = make_feature_fn(training=False)
"""
    src = """
    h = self.features(x, training=False)
    h = build_block(h, training=False)
    return self.drop(h)
    """
    assert lint(src, extra=extra) == []


MC_BLOCK = """
h = self.drop(x, training=True)
h = self.dense(h)
h = self.bn(h)
return self.head(h)
"""


@pytest.mark.parametrize("version, expected", [("2", []), ("3", [(3, "KM304")]), ("3.16", [(3, "KM304")])])
def test_true_pin_leaks_to_batchnorm_only(version, expected):
    # R18: self.bn inherits True; self.head (Dense + Dropout) sampling is MC dropout's intent.
    assert lint(MC_BLOCK, version) == expected


def test_true_pin_message_is_one_short_sentence():
    from kerasmode_lint import lint_source

    src = HEADER + "    def call(self, x, training=None):\n" + textwrap.indent(MC_BLOCK, " " * 8)
    [msg] = [d.message for d in lint_source(src, "x.py", keras_version="3") if d.code == "KM304"]
    assert "`self.bn` inherits training=True from `self.drop(..., training=True)`" in msg
    assert "predict()" in msg and len(msg) <= 120 and ". " not in msg


def test_true_pin_followed_by_dropout_or_forwarded_bn_is_clean():
    src = """
    h = self.drop(x, training=True)
    h = self.drop(h)
    h = self.bn(h, training=training)
    return self.bn(h)
    """
    assert lint(src) == []


def test_true_pin_before_a_sublayer_holding_batchnorm():
    extra = "        self.stem = tf.keras.Sequential([layers.Dense(8), layers.BatchNormalization()])\n"
    body = "h = self.drop(x, training=True)\nreturn self.stem(h)\n"
    assert lint(body, extra=extra) == [(2, "KM304")]
