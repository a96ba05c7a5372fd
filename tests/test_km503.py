"""KM503 batchnorm-freeze-undone: BN layers frozen, then the container
unfrozen. Flagged forms, the Keras 3 (TensorFlow) same-value skip, look-alikes."""
import textwrap

import pytest

from helpers import findings
from kerasmode_lint import lint_source

HEADER = """
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers
"""
VERSIONS = ("2", "3", "3.16")


def lines(body, version="3"):
    return [line for line, code in findings(HEADER + textwrap.dedent(body), version) if code == "KM503"]


V6 = """
base = keras.applications.ResNet50(include_top=False, pooling="avg")
base.trainable = False
model = keras.Sequential([base, layers.Dense(10)])
model.compile(optimizer="adam", loss="mse")
model.fit(ds)
for layer in base.layers:
    if isinstance(layer, layers.BatchNormalization):
        layer.trainable = False
base.trainable = True
model.compile(optimizer="adam", loss="mse")
model.fit(ds)
"""


@pytest.mark.parametrize("version", VERSIONS)
def test_bn_frozen_then_base_unfrozen(version):
    assert lines(V6, version) == [14]


@pytest.mark.parametrize("version", VERSIONS)
def test_correct_order_is_silent(version):
    src = V6.replace(
        """for layer in base.layers:
    if isinstance(layer, layers.BatchNormalization):
        layer.trainable = False
base.trainable = True
""",
        """base.trainable = True
for layer in base.layers:
    if isinstance(layer, layers.BatchNormalization):
        layer.trainable = False
""")
    assert lines(src, version) == []


def test_message_names_the_container_and_the_order():
    [diag] = lint_source(HEADER + textwrap.dedent(V6), "x.py", keras_version="3", select=["KM503"])
    assert "`base.trainable = True`" in diag.message
    assert "BatchNormalization layers of `base`" in diag.message and "refreeze them" in diag.message
    assert "moving statistics" in diag.explanation and "first" in diag.explanation


@pytest.mark.parametrize("spelling", [
    "isinstance(layer, tf.keras.layers.BatchNormalization)",
    "isinstance(layer, keras.layers.BatchNormalization)",
    "isinstance(layer, (layers.BatchNormalization, layers.SyncBatchNormalization))",
    "isinstance(layer, BatchNormalization)",
    "'bn' in layer.name",
    "layer.name.endswith('_bn')",
    "'batch_norm' in layer.name and layer.trainable",
    "type(layer).__name__ == 'BatchNormalization'",
])
@pytest.mark.parametrize("version", VERSIONS)
def test_bn_tests(spelling, version):
    src = f"""
    from tensorflow.keras.layers import BatchNormalization
    base.trainable = False
    for layer in base.layers:
        if {spelling}:
            layer.trainable = False
    base.trainable = True
    """
    assert lines(src, version) == [11]


@pytest.mark.parametrize("version", VERSIONS)
def test_split_assignment_in_one_loop(version):
    src = """
    base.trainable = False
    for layer in base.submodules:
        layer.trainable = not isinstance(layer, layers.BatchNormalization)
    base.trainable = True
    """
    assert lines(src, version) == [9]


@pytest.mark.parametrize("version", VERSIONS)
def test_unfreeze_of_an_enclosing_model(version):
    src = """
    base.trainable = False
    inputs = keras.Input((224, 224, 3))
    outputs = layers.Dense(3)(base(inputs))
    model = keras.Model(inputs, outputs)
    model.trainable = False
    for layer in base.layers:
        if isinstance(layer, layers.BatchNormalization):
            layer.trainable = False
    model.trainable = True
    model.compile(optimizer="adam", loss="mse")
    """
    assert lines(src, version) == [14]


@pytest.mark.parametrize("version", VERSIONS)
def test_loop_unfreezing_every_layer(version):
    src = """
    for layer in base.layers:
        if isinstance(layer, layers.BatchNormalization):
            layer.trainable = False
    for layer in base.layers:
        layer.trainable = True
    model.compile(optimizer="adam", loss="mse")
    """
    assert lines(src, version) == [10]


# -- Keras 2 only: the container was never frozen ---------------------------------
def test_keras3_tensorflow_skips_assigning_the_same_value():
    src = """
    base = keras.applications.ResNet50(include_top=False)
    base.get_layer("conv1_bn").trainable = False
    base.trainable = True
    """
    assert lines(src, "2") == [8]
    assert lines(src, "3") == [] and lines(src, "3.16") == []


def test_bn_built_frozen_then_model_set_trainable():
    src = """
    inputs = keras.Input((8,))
    x = layers.Dense(4)(inputs)
    x = layers.BatchNormalization(trainable=False)(x)
    model = keras.Model(inputs, layers.Dense(1)(x))
    model.trainable = True
    model.compile(optimizer="adam", loss="mse")
    """
    assert lines(src, "2") == [10]
    assert lines(src, "3") == []
    frozen_first = src.replace("model.trainable = True", "model.trainable = False\n    model.trainable = True")
    assert lines(frozen_first, "3") == [11]


# -- look-alikes -------------------------------------------------------------------
@pytest.mark.parametrize("version", VERSIONS)
def test_keras_io_efficientnet_unfreeze_all_but_bn(version):
    src = """
    def build_model(num_classes):
        inputs = layers.Input(shape=(224, 224, 3))
        model = keras.applications.EfficientNetB0(include_top=False, input_tensor=inputs, weights="imagenet")
        model.trainable = False
        x = layers.GlobalAveragePooling2D(name="avg_pool")(model.output)
        x = layers.BatchNormalization()(x)
        outputs = layers.Dense(num_classes, activation="softmax", name="pred")(x)
        model = keras.Model(inputs, outputs, name="EfficientNet")
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        return model

    def unfreeze_model(model):
        for layer in model.layers[-20:]:
            if not isinstance(layer, layers.BatchNormalization):
                layer.trainable = True
        model.compile(optimizer="adam", loss="categorical_crossentropy")

    model = build_model(10)
    model.fit(ds)
    unfreeze_model(model)
    model.fit(ds)
    """
    assert lines(src, version) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_refrozen_in_every_stage_of_a_loop(version):
    src = """
    base.trainable = False
    for stage in range(3):
        base.trainable = True
        for layer in base.layers:
            if isinstance(layer, layers.BatchNormalization):
                layer.trainable = False
        model.compile(optimizer="adam", loss="mse")
        model.fit(ds)
    """
    assert lines(src, version) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_other_layers_frozen_then_unfrozen(version):
    src = """
    for layer in base.layers[:100]:
        layer.trainable = False
    base.trainable = True
    for layer in base.layers:
        if isinstance(layer, layers.Dense):
            layer.trainable = False
    base.trainable = True
    """
    assert lines(src, version) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_bn_of_another_model(version):
    src = """
    teacher.trainable = False
    for layer in teacher.layers:
        if isinstance(layer, layers.BatchNormalization):
            layer.trainable = False
    student.trainable = True
    """
    assert lines(src, version) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_partial_unfreeze_does_not_count(version):
    src = """
    base.trainable = False
    for layer in base.layers:
        if isinstance(layer, layers.BatchNormalization):
            layer.trainable = False
    for layer in base.layers[-10:]:
        layer.trainable = True
    model.compile(optimizer="adam", loss="mse")
    """
    assert lines(src, version) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_one_line_loop_and_if(version):
    src = """
    def finetune(base, model):
        base.trainable = False
        for l in base.layers:
            if isinstance(l, layers.BatchNormalization): l.trainable = False
        base.trainable = True
        model.compile(optimizer="adam", loss="mse")

    def freeze_bn(base):
        for l in base.layers: l.trainable = not isinstance(l, layers.BatchNormalization)
        base.trainable = True
    """
    # In freeze_bn the base was never frozen: Keras 3 (TF) skips the assignment.
    assert lines(src, version) == ([10, 15] if version == "2" else [10])
