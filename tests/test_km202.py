"""KM202 functional-training-overridden: Keras 3.0-3.15 only."""
import textwrap

import pytest

from helpers import codes, findings
from kerasmode_lint import lint_source

HEADER = """
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers
"""


def lint(body, version="3"):
    return [(line, code) for line, code in findings(HEADER + textwrap.dedent(body), version)
            if code == "KM202"]


def lines(body, version="3"):
    return [line for line, _ in lint(body, version)]


GUIDE = """
base = keras.applications.Xception(weights="imagenet", include_top=False)
base.trainable = False
inputs = keras.Input((150, 150, 3))
x = base(inputs, training=False)
outputs = layers.Dense(1)(layers.GlobalAveragePooling2D()(x))
model = keras.Model(inputs, outputs)
model.fit(ds)
base.trainable = True
model.compile(optimizer=keras.optimizers.Adam(1e-5), loss="mse")
model.fit(ds)
"""

MC = """
inputs = keras.Input((8,))
x = layers.Dense(32, activation="relu")(inputs)
x = layers.Dropout(0.5)(x, training=True)
model = keras.Model(inputs, layers.Dense(1)(x))
"""


def test_flags_the_guide_recipe():
    assert lint(GUIDE) == [(9, "KM202")]


@pytest.mark.parametrize("version", ["2", "3.16", "3.16.1"])
def test_silent_in_keras2_and_316(version):
    assert lint(GUIDE, version) == [] and lint(MC, version) == []


def test_flags_mc_dropout_node():
    assert lint(MC) == [(8, "KM202")]
    [diag] = lint_source(HEADER + MC, "x.py", keras_version="3.10")
    assert "predict" in diag.message and "Dropout subclass" in diag.message


def test_message_for_the_guide_names_the_effects_and_the_fixes():
    [diag] = [d for d in lint_source(HEADER + GUIDE, "x.py", keras_version="3") if d.code == "KM202"]
    assert "`training=False` on `base` is overridden by fit" in diag.message
    assert "`base`" in diag.explanation and "BatchNormalization" in diag.explanation
    assert "through a layer" in diag.explanation and "trainable=False" in diag.explanation


def test_flags_pinned_false_dropout_and_unfrozen_batchnorm_submodel():
    src = """
    inputs = keras.Input((8,))
    x = layers.Dropout(0.2)(inputs, training=False)
    encoder = keras.Sequential([layers.Dense(8), layers.BatchNormalization()])
    y = encoder(x, training=False)
    model = keras.Model(inputs, y)
    """
    assert lines(src) == [7, 9]


def test_flags_sub_model_with_dropout_pinned_true():
    src = """
    head = keras.Sequential([layers.Dense(8), layers.Dropout(0.3)])
    inputs = keras.Input((8,))
    model = keras.Model(inputs, head(inputs, training=True))
    """
    assert lines(src) == [8]


def test_tf_keras_spelling_under_keras3_setting():
    src = """
    from keras import layers as L, Input, Model
    inp = Input((4,))
    out = L.GaussianNoise(0.1)(inp, training=True)
    m = Model(inp, out)
    """
    assert lines(src) == [8]


# --- look-alikes that must not be flagged -------------------------------------

def test_frozen_batchnorm_base_never_unfrozen():
    assert lint(GUIDE.replace("base.trainable = True\n", "")) == []


def test_vgg16_base():
    assert lint(GUIDE.replace("Xception", "VGG16")) == []


def test_batchnorm_refrozen_after_unfreezing():
    src = GUIDE + """
for layer in base.layers:
    if isinstance(layer, layers.BatchNormalization):
        layer.trainable = False
"""
    assert lint(src) == []


def test_mc_dropout_subclass_forcing_training():
    src = """
    class MCDropout(layers.Dropout):
        def call(self, inputs):
            return super().call(inputs, training=True)

    inputs = keras.Input((8,))
    x = MCDropout(0.5)(inputs, training=True)
    y = MCDropout(0.5)(x)
    model = keras.Model(inputs, y)
    """
    assert lint(src) == []


def test_wrapper_layer_fix():
    src = GUIDE.replace("x = base(inputs, training=False)", "x = FrozenBase(base)(inputs, training=False)") + """
class FrozenBase(layers.Layer):
    def __init__(self, base):
        super().__init__()
        self.base = base

    def call(self, x):
        return self.base(x, training=False)
"""
    assert lint(src) == []


def test_mc_dropout_inside_a_layer_call_is_honoured():
    src = """
    class Block(layers.Layer):
        def __init__(self):
            super().__init__()
            self.dropout = layers.Dropout(0.5)

        def call(self, x):
            return self.dropout(x, training=True)

    inputs = keras.Input((8,))
    model = keras.Model(inputs, Block()(inputs))
    """
    assert lint(src) == []


def test_augmentation_and_batchnorm_pinned_true_are_not_km202():
    src = """
    inputs = keras.Input((32, 32, 3))
    x = layers.RandomFlip()(inputs, training=True)
    x = layers.BatchNormalization()(x, training=True)
    model = keras.Model(inputs, x)
    """
    assert lint(src) == []


def test_non_literal_training_value():
    src = MC.replace("training=True", "training=mc_dropout")
    assert lint(src) == []


def test_calls_on_data_and_build_calls_are_not_graph_nodes():
    src = """
    model = keras.Sequential([layers.Dense(8), layers.Dropout(0.5)])
    samples = [model(x_test, training=True) for _ in range(10)]
    dummy = keras.Input((8,))
    _ = model(dummy, training=False)
    """
    assert lint(src) == []


def test_wrapper_forcing_training_true_for_mc_dropout():
    src = """
    class AlwaysOn(layers.Wrapper):
        def call(self, inputs):
            return self.layer(inputs, training=True)

    inputs = keras.Input((8,))
    x = AlwaysOn(layers.Dropout(0.5))(inputs, training=True)
    model = keras.Model(inputs, x)
    """
    assert lint(src) == []


def test_frozen_teacher_in_train_step():
    src = """
    class Distiller(keras.Model):
        def train_step(self, data):
            x, y = data
            teacher_pred = self.teacher(x, training=False)
            with tf.GradientTape() as tape:
                student_pred = self.student(x, training=True)
            return {}
    """
    assert lint(src) == []


@pytest.mark.parametrize("endpoint, flagged", [("", False), (', call_training_endpoint="train"', True)])
def test_savedmodel_endpoint_layer_without_a_training_endpoint(endpoint, flagged):
    # TFSMLayer runs its inference endpoint whatever `training` says, unless
    # it was given a training endpoint.
    src = f"""
    import keras
    inputs = keras.Input((224, 224, 3))
    sm = keras.layers.TFSMLayer("vit_dir", call_endpoint="serving_default"{endpoint})
    outputs = keras.layers.Dense(10)(sm(inputs, training=False))
    model = keras.Model(inputs, outputs)
    model.compile("adam", "mse")
    model.fit(x, y)
    """
    assert ("KM202" in codes(src, "3")) is flagged
