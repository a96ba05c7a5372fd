"""KM302 call-training-without-default: what it flags and the look-alikes it must leave alone."""
import textwrap

import pytest

from helpers import findings


def lint(src, version="3"):
    return [f for f in findings(textwrap.dedent(src), version) if f[1] == "KM302"]


REQUIRED = """
import tensorflow as tf

class Block(tf.keras.layers.Layer):
    def call(self, x, training):
        return self.dropout(x, training=training)
"""


@pytest.mark.parametrize("version, expected", [("2", []), ("3", [(5, "KM302")]), ("3.16", [(5, "KM302")])])
def test_keras3_only(version, expected):
    assert lint(REQUIRED, version) == expected


def test_message_says_typeerror_and_the_fix():
    from kerasmode_lint import lint_source

    [d] = [d for d in lint_source(textwrap.dedent(REQUIRED), "x.py", keras_version="3") if d.code == "KM302"]
    assert "TypeError" in d.message and "`Block.call`" in d.message and "training=None" in d.message


@pytest.mark.parametrize(
    "signature",
    [
        "self, x, training",
        "self, x, training, mask=None",
        "self, x, *, training",
        "self, x, mask=None, *, training",
        "self, inputs, training: bool",
    ],
)
def test_signature_forms(signature):
    src = f"""
from keras import layers
class Block(layers.Layer):
    def call({signature}):
        return inputs
"""
    assert lint(src) == [(4, "KM302")]


def test_model_subclass_and_tf_keras():
    src = """
    import tf_keras
    class Net(tf_keras.Model):
        def call(self, inputs, training):
            return inputs
    """
    assert lint(src) == [(4, "KM302")]


# --- look-alikes ---------------------------------------------------------------

def test_defaults_and_other_names_not_flagged():
    src = """
    from tensorflow import keras
    class A(keras.layers.Layer):
        def call(self, x, training=None):
            return x
    class B(keras.layers.Layer):
        def call(self, x, is_training):
            return x
    class C(keras.layers.Layer):
        def call(self, x, *args, **kwargs):
            return x
    """
    assert lint(src) == []


def test_helper_method_and_function_without_default():
    src = """
    from tensorflow import keras
    def conv_bn(x, training):
        return x
    class Block(keras.layers.Layer):
        def _forward(self, x, training):
            return conv_bn(x, training)
        def call(self, x, training=None):
            return self._forward(x, training)
    """
    assert lint(src) == []


def test_non_layer_classes():
    src = """
    import tensorflow as tf
    class Runner:
        def call(self, batch, training):
            return batch
    class Loss(tf.keras.losses.Loss):
        def call(self, y_true, training):
            return y_true
    """
    assert lint(src) == []


def test_class_with_unknown_base_in_a_file_without_keras():
    src = """
    from mylib import Base
    class Runner(Base):
        def call(self, batch, training):
            return batch
    """
    assert lint(src) == []
