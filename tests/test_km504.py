"""KM504 frozen-before-built: a subclassed layer or model frozen before its
first call, unfrozen later for fine-tuning. Flagged forms and look-alikes."""
import textwrap

import pytest

from helpers import findings

HEADER = """
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers


class Backbone(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(16, activation="tanh")
        self.bn = layers.BatchNormalization()

    def call(self, x, training=None):
        return self.bn(self.dense(x), training=training)

"""


def lines(body, version="3", **kwargs):
    source = HEADER + textwrap.dedent(body)
    return [line - HEADER.count("\n") for line, code in findings(source, version, **kwargs) if code == "KM504"]


FINE_TUNE = """
base = Backbone()
base.trainable = False
inputs = keras.Input((8,))
model = keras.Model(inputs, layers.Dense(3)(base(inputs, training=False)))
model.compile(optimizer="adam", loss="mse")
model.fit(x, y)
base.trainable = True
model.compile(optimizer=keras.optimizers.Adam(1e-5), loss="mse")
model.fit(x, y)
"""


@pytest.mark.parametrize("version", ["3", "3.16"])
def test_frozen_before_its_first_call_then_unfrozen_is_flagged(version):
    assert lines(FINE_TUNE, version) == [8]


def test_the_message_names_the_object_and_the_effect():
    from kerasmode_lint import lint_source

    [diag] = lint_source(HEADER + textwrap.dedent(FINE_TUNE), "x.py", keras_version="3", select=["KM504"])
    assert "`base`" in diag.message and "never updates" in diag.message
    assert "base.trainable = False" in diag.explanation and "Gradients do not exist" in diag.explanation


def test_build_with_a_shape_does_not_count_as_a_first_call():
    body = FINE_TUNE.replace("base = Backbone()\n", "base = Backbone()\nbase.build((None, 8))\n")
    assert lines(body) == [9]


def test_frozen_in_the_constructor_and_used_in_a_sequential():
    body = """
    base = Backbone(trainable=False)
    model = keras.Sequential([keras.Input((8,)), base, layers.Dense(3)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y)
    base.trainable = True
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y)
    """
    assert lines(body) == [6]


def test_a_custom_layer_with_sublayers_and_inside_a_function():
    body = """
    class Block(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.proj = layers.Dense(8)

        def call(self, x):
            return self.proj(x)


    def train(x, y):
        block = Block()
        block.trainable = False
        inputs = keras.Input((8,))
        model = keras.Model(inputs, block(inputs))
        model.compile(optimizer="adam", loss="mse")
        model.fit(x, y)
        block.trainable = True
        model.compile(optimizer="adam", loss="mse")
        model.fit(x, y)
    """
    assert lines(body) == [18]


# --- look-alikes ----------------------------------------------------------------

def test_tf_keras_and_the_jax_backend_train_it():
    assert lines(FINE_TUNE, "2") == []
    assert lines(FINE_TUNE, "3", keras_backend="jax") == []


def test_called_on_a_batch_before_freezing():
    body = FINE_TUNE.replace("base = Backbone()\n", "base = Backbone()\nbase(x[:1])\n")
    assert lines(body) == []


def test_called_symbolically_or_predicted_before_freezing():
    symbolic = FINE_TUNE.replace("base = Backbone()\n", "base = Backbone()\nbase(keras.Input((8,)))\n")
    predicted = FINE_TUNE.replace("base = Backbone()\n", "base = Backbone()\nbase.predict(x)\n")
    assert lines(symbolic) == [] and lines(predicted) == []


def test_built_while_trainable_then_frozen_after_compile():
    body = """
    base = Backbone()
    inputs = keras.Input((8,))
    model = keras.Model(inputs, layers.Dense(3)(base(inputs)))
    model.compile(optimizer="adam", loss="mse")
    base.trainable = False
    model.fit(x, y)
    base.trainable = True
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y)
    """
    assert lines(body) == []


def test_a_class_with_its_own_build_method():
    own_build = (
        "class Built(Backbone):\n"
        "    def build(self, input_shape):\n"
        "        self.dense.build(input_shape)\n"
        "        super().build(input_shape)\n\n"
    )
    assert lines(own_build + FINE_TUNE.replace("base = Backbone()", "base = Built()")) == []


def test_a_functional_or_sequential_backbone_is_built_when_made():
    body = FINE_TUNE.replace("base = Backbone()\n",
                             "base = keras.Sequential([keras.Input((8,)), layers.Dense(8)])\n")
    assert lines(body) == []


def test_unfrozen_before_it_was_built_or_never_trained_again():
    unfrozen_early = """
    base = Backbone()
    base.trainable = False
    base.trainable = True
    inputs = keras.Input((8,))
    model = keras.Model(inputs, base(inputs))
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y)
    """
    never_trained = FINE_TUNE.rsplit("model.fit(x, y)", 1)[0]
    assert lines(unfrozen_early) == [] and lines(never_trained) == []


def test_a_class_the_file_does_not_define_or_handed_to_a_helper():
    imported = "from nets import Backbone as Net\n" + FINE_TUNE.replace("Backbone()", "Net()")
    helper = FINE_TUNE.replace("base.trainable = False\n", "base.trainable = False\nwarm_up(base)\n")
    assert lines(imported) == [] and lines(helper) == []
