"""KM203 batchnorm-pinned-to-training."""
import textwrap

import pytest

from helpers import findings
from kerasmode_lint import lint_source

HEADER = """
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers
"""


def lint(body, version="3"):
    return [(line, code) for line, code in findings(HEADER + textwrap.dedent(body), version)
            if code == "KM203"]


def lines(body, version="3"):
    return [line for line, _ in lint(body, version)]


IN_CALL = """
class ConvBlock(layers.Layer):
    def __init__(self, filters):
        super().__init__()
        self.conv = layers.Conv2D(filters, 3)
        self.bn = layers.BatchNormalization()

    def call(self, x, training=None):
        return tf.nn.relu(self.bn(self.conv(x), training=True))
"""

NODE = """
inputs = keras.Input((8,))
x = layers.Dense(16)(inputs)
x = layers.BatchNormalization()(x, training=True)
model = keras.Model(inputs, layers.Dense(1)(x))
"""


@pytest.mark.parametrize("version", ["2", "3", "3.16"])
def test_flags_pinned_batchnorm_inside_call_in_every_version(version):
    assert lint(IN_CALL, version) == [(13, "KM203")]


@pytest.mark.parametrize("version, expected", [("2", [8]), ("3", []), ("3.16", [8]), ("3.15.1", [])])
def test_graph_node_only_where_the_node_value_is_honoured(version, expected):
    assert lines(NODE, version) == expected


def test_message_says_what_happens_and_how_to_fix():
    [diag] = lint_source(HEADER + IN_CALL, "x.py", keras_version="3")
    assert "`self.bn`" in diag.message and "predict" in diag.message
    assert "training=training" in diag.message


def test_sub_block_with_batchnorm_pinned_in_call():
    src = """
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.stem = keras.Sequential([layers.Conv2D(8, 3), layers.BatchNormalization()])

        def call(self, x):
            return self.stem(x, training=True)
    """
    assert lines(src) == [12]


def test_named_batchnorm_node_and_tf_keras():
    src = """
    import tf_keras
    bn = tf_keras.layers.BatchNormalization(name="bn")
    inp = tf_keras.Input((4,))
    out = bn(inp, training=True)
    model = tf_keras.Model(inp, out)
    """
    assert lines(src, "2") == [9]


# --- look-alikes that must not be flagged -------------------------------------

def test_mc_dropout_pinned_true_is_not_this_rule():
    src = """
    class MCDropout(layers.Layer):
        def __init__(self):
            super().__init__()
            self.dropout = layers.Dropout(0.5)

        def call(self, x):
            return self.dropout(x, training=True)

    inputs = keras.Input((8,))
    x = layers.Dropout(0.5)(inputs, training=True)
    model = keras.Model(inputs, MCDropout()(x))
    """
    for version in ("2", "3", "3.16"):
        assert lint(src, version) == []


def test_mode_following_branches():
    src = """
    class Block(layers.Layer):
        def __init__(self):
            super().__init__()
            self.bn = layers.BatchNormalization()

        def call(self, x, training=None):
            if training:
                return self.bn(x, training=True)
            y = self.bn(x, training=True) if training else self.bn(x, training=False)
            return self.bn(x, training=training)
    """
    assert lint(src, "2") == []


def test_frozen_batchnorm_ignores_training_true():
    src = """
    bn = layers.BatchNormalization(trainable=False)
    inputs = keras.Input((8,))
    model = keras.Model(inputs, bn(inputs, training=True))
    """
    assert lint(src, "2") == []


def test_train_step_and_plain_calls_are_other_rules():
    src = """
    class M(keras.Model):
        def train_step(self, data):
            y = self(data, training=True)
            z = self.bn(data, training=True)

        def __init__(self):
            super().__init__()
            self.bn = layers.BatchNormalization()

    model = keras.Sequential([layers.BatchNormalization()])
    preds = model(x_test, training=True)
    """
    assert lint(src, "2") == []


def test_unknown_callee_is_left_alone():
    src = """
    from mylib import Backbone
    class Net(layers.Layer):
        def __init__(self):
            super().__init__()
            self.backbone = Backbone()

        def call(self, x):
            return self.backbone(x, training=True)
    """
    assert lint(src) == []


def test_guarded_library_code():
    src = """
    class Base(keras.Model):
        def call(self, x):
            if self._call_has_training_arg:
                return self(x, training=True)
            return self(x)
    """
    assert lint(src, "2") == []
