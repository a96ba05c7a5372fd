"""KM305 explicit-training-none: what it flags and the look-alikes it must leave alone."""
import textwrap

import pytest

from helpers import findings


def lint(src, version="3"):
    return [f for f in findings(textwrap.dedent(src), version) if f[1] == "KM305"]


IN_CALL = """
import tensorflow as tf

class Net(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.block = tf.keras.Sequential([tf.keras.layers.Dense(8), tf.keras.layers.BatchNormalization()])
        self.out = tf.keras.layers.Dense(3)

    def call(self, x, training=None):
        return self.out(self.block(x, training=None))
"""


@pytest.mark.parametrize("version, expected", [("2", []), ("3", [(11, "KM305")]), ("3.16", [(11, "KM305")])])
def test_sublayer_in_call_keras3_only(version, expected):
    assert lint(IN_CALL, version) == expected


def test_message_names_the_layer_and_the_fix():
    from kerasmode_lint import lint_source

    [d] = [d for d in lint_source(textwrap.dedent(IN_CALL), "x.py", keras_version="3") if d.code == "KM305"]
    assert "`training=None` runs `self.block` in inference mode" in d.message
    assert "pass `training=training`" in d.message
    assert "`self.block(..., training=None)`" in d.explanation and "`Net.call`" in d.explanation
    assert "training=training" in d.explanation


@pytest.mark.parametrize("ctor", ["layers.RandomFlip('horizontal')", "layers.RandomRotation(0.1)"])
def test_augmentation_layer_with_default_true(ctor):
    src = f"""
from keras import layers
aug = {ctor}
images = aug(images, training=None)
"""
    assert lint(src, "3") == [(4, "KM305")]
    assert lint(src, "2") == []


def test_in_file_layer_with_default_true():
    src = """
    import tensorflow as tf
    class Noise(tf.keras.layers.Layer):
        def call(self, x, training=True):
            return x + tf.random.normal(tf.shape(x)) if training else x
    noise = Noise()
    y = noise(x, training=None)
    """
    assert lint(src) == [(7, "KM305")]


# --- look-alikes ---------------------------------------------------------------

def test_top_level_model_and_functional_nodes():
    src = """
    import tensorflow as tf
    inputs = tf.keras.Input((8,))
    h = tf.keras.layers.Dropout(0.5)(inputs, training=None)
    model = tf.keras.Model(inputs, tf.keras.layers.BatchNormalization()(h, training=None))
    y = model(x, training=None)
    """
    assert lint(src) == []


def test_forwarding_is_correct():
    assert lint(IN_CALL.replace("training=None))", "training=training))")) == []


def test_mode_free_sublayer_and_non_layer_callees():
    src = """
    import tensorflow as tf
    def build(training=None):
        return tf.keras.Sequential([])
    class Net(tf.keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.proj = tf.keras.layers.Dense(3)
        def _helper(self, x, training=None):
            return x
        def call(self, x, training=None):
            x = self._helper(x, training=None)
            x = build(training=None)(x)
            return self.proj(x, training=None)
    """
    assert lint(src) == []


def test_none_outside_call_on_layers_with_default_none():
    src = """
    import tensorflow as tf
    class Net(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.drop = tf.keras.layers.Dropout(0.5)
        def call(self, x, training=None):
            return self.drop(x, training=training)
        def predict_step(self, data):
            return self.drop(data, training=None)
    """
    assert lint(src) == []


def test_training_keyword_of_non_keras_functions():
    # look-alike 7 of docs/semantics.md: model builders, dataset factories, metric builders.
    src = """
    import tensorflow as tf
    class Net(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.drop = tf.keras.layers.Dropout(0.5)
            self.make = YoloV3(80, training=None)
        def call(self, x, training=None):
            ds = input_fn(training=None)
            metrics = build_metrics(training=None)
            return self.make(x, training=None)
    """
    assert lint(src) == []
