"""KM303 positional-training: what it flags and the look-alikes it must leave alone."""
import textwrap

import pytest

from helpers import findings


def lint(src, version="3"):
    return [f for f in findings(textwrap.dedent(src), version) if f[1] == "KM303"]


def test_lstm_true_flagged_in_every_version():
    src = """
    import tensorflow as tf
    lstm = tf.keras.layers.LSTM(4, dropout=0.2)
    y = lstm(x, True)
    """
    for version in ("2", "3", "3.16"):
        assert lint(src, version) == [(4, "KM303")], version


BN_IN_CALL = """
from tensorflow.keras import layers
class Block(layers.Layer):
    def __init__(self):
        super().__init__()
        self.bn = layers.BatchNormalization()
        self.drop = layers.Dropout(0.5)
    def call(self, x, training=None):
        x = self.bn(x, training)
        return self.drop(x, training)
"""


@pytest.mark.parametrize("version, expected", [
    ("2", []),  # BatchNormalization/Dropout take `training` second in Keras 2
    ("3", [(9, "KM303"), (10, "KM303")]),
    ("3.16", [(9, "KM303"), (10, "KM303")]),
])
def test_bn_and_dropout_positional_keras3_only(version, expected):
    assert lint(BN_IN_CALL, version) == expected


def test_custom_layer_with_mask_second_flagged_in_keras2():
    src = """
    import tensorflow as tf
    class Gate(tf.keras.layers.Layer):
        def call(self, x, mask=None, training=None):
            return x
    class Head(tf.keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.gate = Gate()
        def call(self, x, training=None):
            return self.gate(x, training)
    """
    assert lint(src, "2") == [(11, "KM303")]
    from kerasmode_lint import lint_source

    [d] = [d for d in lint_source(textwrap.dedent(src), "x.py", keras_version="2") if d.code == "KM303"]
    assert "`mask`" in d.message and "training=training" in d.message


def test_custom_layer_with_training_second_silent_in_keras2():
    src = """
    import tensorflow as tf
    class Gate(tf.keras.layers.Layer):
        def call(self, x, training=None, mask=None):
            return x
    gate = Gate()
    y = gate(x, True)
    """
    assert lint(src, "2") == []
    assert lint(src, "3") == [(7, "KM303")]


@pytest.mark.parametrize("callee, version, expected", [
    ("tf.keras.Sequential([tf.keras.layers.Dense(1)])", "2", []),
    ("tf.keras.Sequential([tf.keras.layers.Dense(1)])", "3", [(4, "KM303")]),
    ("tf.keras.models.load_model('m.keras')", "3", [(4, "KM303")]),
    ("tf.keras.models.load_model('m.keras')", "2", []),  # class unknown: silent
    ("tf.keras.applications.ResNet50()", "3", [(4, "KM303")]),
    ("tf.keras.layers.Dense(3)", "2", [(4, "KM303")]),  # Dense has no training: TypeError
    ("tf.keras.layers.MultiHeadAttention(2, 4)", "2", [(4, "KM303")]),
])
def test_models_and_builtins(callee, version, expected):
    src = f"""
import tensorflow as tf
model = {callee}
y = model(x, False)
"""
    assert lint(src, version) == expected


def test_forms_of_the_value_and_of_the_callee():
    src = """
    import keras
    from keras import layers
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.blocks = [layers.Dropout(0.1) for _ in range(3)]
            self.extra = []
            self.extra.append(layers.BatchNormalization())
        def call(self, x, training=None):
            for block in self.blocks:
                x = block(x, is_training)
            for i, layer in enumerate(self.extra):
                x = layer(x, self.training)
            x = self.blocks[0](x, training)
            x = layers.Dropout(0.5)(x, True)
            return x
        def train_step(self, data):
            return self(data, True)
    """
    assert lint(src) == [(12, "KM303"), (14, "KM303"), (15, "KM303"), (16, "KM303"), (19, "KM303")]


def test_allow_non_tensor_positional_class_judged_by_signature():
    src = """
    import keras
    class Prep(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self._allow_non_tensor_positional_args = True
        def call(self, x, training=None):
            return x
    class Other(Prep):
        def call(self, x, mask=None, training=None):
            return x
    a = Prep()(x, True)
    b = Other()(x, True)
    """
    assert lint(src, "3") == [(13, "KM303")]


# --- look-alikes ---------------------------------------------------------------

def test_keras2_bool_meant_for_another_bool_parameter():
    src = """
    import tensorflow as tf
    class Block(tf.keras.layers.Layer):
        def call(self, x, use_bias=True, is_training=False, mask=None):
            return x
    block = Block()
    mha = tf.keras.layers.MultiHeadAttention(2, 4)
    a = block(x, False)
    b = block(x, None, is_training)
    c = block(x, None, None, True)
    d = mha(q, v, None, None, True)
    e = mha(q, v, True)
    """
    assert lint(src, "2") == [(10, "KM303"), (12, "KM303")]
    assert len(lint(src, "3")) == 5


def test_helper_methods_and_functions():
    # look-alike 8 of docs/semantics.md: positional training to plain helper methods/functions.
    src = """
    import tensorflow as tf
    def conv_bn(x, filters, training):
        return x
    def mask_helper(inputs, mask, training):
        return inputs
    class Block(tf.keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.bn = tf.keras.layers.BatchNormalization()
        def _block(self, x, training):
            return self.bn(x, training=training)
        def call(self, x, training=None):
            x = self._block(x, training)
            x = conv_bn(x, 16, training)
            x = mask_helper(x, None, training)
            return tf.reduce_mean(x, 1, True)
    """
    for version in ("2", "3"):
        assert lint(src, version) == []


def test_keyword_forwarding_and_unknown_callees():
    src = """
    import tensorflow as tf
    def apply(layer, x, training):
        return layer(x, training)
    class Block(tf.keras.layers.Layer):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner
            self.bn = tf.keras.layers.BatchNormalization()
        def call(self, x, training=None):
            x = self.bn(x, training=training)
            x = self.inner(x, training)
            return self.model.backbone(x, training)
    """
    assert lint(src, "3") == []


def test_attribute_rebound_to_a_non_layer_is_unknown():
    src = """
    import tensorflow as tf
    class Block(tf.keras.layers.Layer):
        def __init__(self, act):
            super().__init__()
            self.act = tf.keras.layers.ReLU()
            if act:
                self.act = act
        def call(self, x, training=None):
            return self.act(x, training)
    """
    assert lint(src, "3") == []


def test_no_keras_no_finding():
    src = """
    class Block:
        def __init__(self):
            self.bn = make_bn()
        def call(self, x, training=None):
            return self.bn(x, training)
    """
    assert lint(src, "3") == []
