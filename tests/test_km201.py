"""KM201 frozen-model-without-training-false: what it flags and the look-alikes it leaves alone."""
import textwrap

import pytest

from helpers import findings
from kerasmode_lint import lint_source

HEADER = """
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers
"""


def lint(body, version="3", select="KM201"):
    return [(line, code) for line, code in findings(HEADER + textwrap.dedent(body), version)
            if code == select]


def lines(body, version="3"):
    return [line for line, _ in lint(body, version)]


GUIDE = """
base = keras.applications.ResNet50(include_top=False, weights="imagenet")
base.trainable = False
inputs = keras.Input((224, 224, 3))
x = base(inputs)
outputs = layers.Dense(1)(layers.GlobalAveragePooling2D()(x))
model = keras.Model(inputs, outputs)
model.fit(ds)
base.trainable = True
model.compile(optimizer=keras.optimizers.Adam(1e-5), loss="mse")
model.fit(ds)
"""


@pytest.mark.parametrize("version", ["2", "3", "3.16"])
def test_flags_fine_tuned_base_with_batchnorm_in_every_version(version):
    assert lint(GUIDE, version) == [(9, "KM201")]


def test_message_names_the_base_and_the_fix_per_version():
    keras2 = lint_source(HEADER + GUIDE, "x.py", keras_version="2")
    keras3 = lint_source(HEADER + GUIDE, "x.py", keras_version="3")
    keras316 = lint_source(HEADER + GUIDE, "x.py", keras_version="3.16")
    for diags in (keras2, keras3, keras316):
        [diag] = [d for d in diags if d.code == "KM201"]
        assert "`base` is frozen but runs in training mode" in diag.message
        assert "BatchNormalization" in diag.explanation
    assert "pass `training=False`" in keras2[0].message
    assert "base(..., training=False)" in keras2[0].explanation
    assert "base(..., training=False)" in keras316[0].explanation
    [k3] = [d for d in keras3 if d.code == "KM201"]
    assert "wrap it in a layer passing `training=False`" in k3.message
    assert "overridden" in k3.explanation and "through a layer" in k3.explanation


def test_flags_frozen_base_with_dropout_even_if_never_unfrozen():
    src = """
    base = keras.applications.EfficientNetB0(include_top=False)
    base.trainable = False
    inputs = keras.Input((224, 224, 3))
    features = base(inputs)
    model = keras.Model(inputs, layers.Dense(1)(features))
    """
    assert lines(src) == [9]
    [diag] = lint_source(HEADER + textwrap.dedent(src), "x.py", keras_version="2")
    assert "(its Dropout drops)" in diag.message
    assert "Dropout layers drop during `fit`" in diag.explanation


def test_flags_base_built_in_the_file_with_dropout():
    src = """
    def make_base():
        inputs = keras.Input((8,))
        x = layers.Dense(16)(inputs)
        x = layers.Dropout(0.5)(x)
        return keras.Model(inputs, x)

    def build():
        base = make_base()
        base.trainable = False
        inputs = keras.Input((8,))
        return keras.Model(inputs, layers.Dense(1)(base(inputs)))
    """
    assert lines(src) == [16]


def test_sequential_and_add_forms():
    src = """
    base = keras.applications.MobileNet(input_shape=(224, 224, 3))
    base.trainable = False
    model = keras.Sequential([base, layers.Dense(1)])
    model2 = keras.Sequential()
    model2.add(base)
    """
    assert lines(src) == [8, 10]


def test_constructor_argument_and_loop_freezing():
    src = """
    from mylib import make_tagger
    inputs = keras.Input((8,))
    x = make_tagger(trainable=False)(inputs)
    model = keras.Model(inputs, layers.Dense(1)(x))

    base = keras.applications.EfficientNetB3(include_top=False)
    for layer in base.layers:
        layer.trainable = False
    inputs2 = keras.Input((300, 300, 3))
    model2 = keras.Model(inputs2, base(inputs2))
    """
    # make_tagger's contents are unknown and it is never unfrozen: silent.
    assert lines(src) == [15]


def test_spellings_tf_keras_and_from_imports():
    src = """
    import tf_keras as K
    from tf_keras.applications import ResNet50
    base = ResNet50(include_top=False)
    base.trainable = False
    inp = K.Input((224, 224, 3))
    model = K.models.Model(inp, K.layers.Dense(1)(base(inp)))
    base.trainable = True
    """
    assert lines(src, "2") == [11]


def test_unknown_base_flagged_only_when_unfrozen():
    src = """
    base = keras.models.load_model("pretrained.keras")
    base.trainable = False
    inputs = keras.Input((8,))
    model = keras.Model(inputs, layers.Dense(1)(base(inputs)))
    """
    assert lines(src) == []
    [diag] = lint_source(HEADER + textwrap.dedent(src) + "base.trainable = True\n", "x.py",
                         keras_version="2")
    assert diag.code == "KM201" and "any BatchNormalization" in diag.explanation
    assert "(any Dropout in it drops)" in diag.message  # its contents are unknown


def test_batchnorm_refrozen_before_unfreezing_is_still_flagged():
    # R12/V6: the recursive `trainable` setter re-enables the BN layers.
    src = GUIDE + """
for layer in base.layers:
    if isinstance(layer, layers.BatchNormalization):
        layer.trainable = False
"""
    src = src.replace("base.trainable = True\n", "", 1) + "base.trainable = True\n"
    assert lines(src) == [9]


# --- look-alikes that must not be flagged -------------------------------------

def test_frozen_backbone_never_unfrozen():
    src = GUIDE.replace("base.trainable = True\n", "")
    assert lint(src) == []


def test_vgg16_base_even_when_unfrozen():
    assert lint(GUIDE.replace("ResNet50", "VGG16")) == []
    assert lint(GUIDE.replace("ResNet50", "ConvNeXtTiny")) == []


def test_mobilenet_without_its_top_never_unfrozen():
    src = GUIDE.replace("ResNet50(include_top=False", "MobileNet(include_top=False")
    assert lint(src.replace("base.trainable = True\n", "")) == []


def test_frozen_embedding_and_dense_only_base():
    src = """
    embedding = layers.Embedding(1000, 64, trainable=False)
    encoder = keras.Sequential([layers.Dense(32), layers.Dense(16)])
    encoder.trainable = False
    tokens = keras.Input((20,))
    x = layers.GlobalAveragePooling1D()(embedding(tokens))
    model = keras.Model(tokens, encoder(x))
    encoder.trainable = True
    model2 = keras.Sequential([layers.Embedding(10, 4, trainable=False), layers.Dense(1)])
    """
    assert lint(src) == []


def test_hub_keras_layer_frozen_runs_in_inference():
    src = """
    import tensorflow_hub as hub
    model = keras.Sequential([
        hub.KerasLayer("https://tfhub.dev/google/imagenet/x/feature_vector/5", trainable=False),
        layers.Dense(10),
    ])
    """
    assert lint(src, "2") == []


def test_training_false_or_kwargs_given():
    src = GUIDE.replace("x = base(inputs)", "x = base(inputs, training=False)")
    assert lint(src, "2") == []
    assert lint(GUIDE.replace("x = base(inputs)", "x = base(inputs, **call_kwargs)")) == []


def test_wrapper_layer_fix():
    src = GUIDE.replace("x = base(inputs)", "x = InferenceMode(base)(inputs)") + """
class InferenceMode(layers.Layer):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def call(self, x):
        return self.model(x, training=False)
"""
    assert lint(src) == []


def test_batchnorm_refrozen_after_unfreezing():
    src = GUIDE + """
for layer in base.layers:
    if isinstance(layer, layers.BatchNormalization):
        layer.trainable = False
"""
    assert lint(src) == []


def test_inspection_call_on_real_data():
    src = """
    base = keras.applications.EfficientNetB0(include_top=False)
    base.trainable = False
    image_batch, label_batch = next(iter(train_ds))
    feature_batch = base(image_batch)
    print(feature_batch.shape)
    inputs = keras.Input((224, 224, 3))
    _ = base(inputs)  # build only: no model is made from it
    """
    assert lint(src) == []


def test_names_in_other_functions_are_other_variables():
    src = """
    def test_frozen_dense():
        layer = layers.Dense(2, trainable=False)
        inputs = keras.Input((1,))
        model = keras.Model(inputs, layer(inputs))

    def test_dropout():
        layer = layers.Dropout(0.5)
        layer.trainable = True
    """
    assert lint(src) == []


@pytest.mark.parametrize("version", ["2", "3", "3.16"])
def test_gan_discriminator_frozen_in_the_combined_model_is_left_to_km50x(version):
    # D is trained on its own (compile/train_on_batch): the freeze is the GAN
    # recipe, which KM501/KM502 judge, not a pretrained base.
    body = """
    d_in = keras.Input((4,))
    discriminator = keras.Model(d_in, layers.Dense(1)(layers.Dropout(0.3)(d_in)))
    discriminator.compile(optimizer="adam", loss="bce")
    discriminator.trainable = False
    z = keras.Input((2,))
    combined = keras.Model(z, discriminator(layers.Dense(4)(z)))
    combined.compile(optimizer="adam", loss="bce")
    """
    assert lint(body, version) == []
    # The same frozen model, never trained on its own, is a frozen base.
    never_trained_alone = "\n".join(
        line for line in body.splitlines() if "discriminator.compile" not in line
    )
    assert lint(never_trained_alone, version)


@pytest.mark.parametrize("written", ["None", "True"])
@pytest.mark.parametrize("version", ["2", "3", "3.16"])
def test_explicit_training_none_or_true_still_trains_the_frozen_base(written, version):
    # docs/semantics.md R17: neither value keeps the frozen base in inference mode.
    # Keras 3.16 keeps a node's None (measured): the base infers, nothing to report.
    src = GUIDE.replace("x = base(inputs)", f"x = base(inputs, training={written})")
    expected = [] if (written, version) == ("None", "3.16") else [(9, "KM201")]
    assert lint(src, version) == expected
    if not expected:
        return
    [diag] = [d for d in lint_source(HEADER + src, "x.py", keras_version=version) if d.code == "KM201"]
    assert f"training={written}" in diag.message and "BatchNormalization trains" in diag.message
    assert len(diag.message) <= 120 and diag.message.count(". ") == 0


def test_explicit_training_none_on_frozen_dropout_base_names_dropout():
    src = """
    base = keras.applications.EfficientNetB0(include_top=False)
    base.trainable = False
    inputs = keras.Input((224, 224, 3))
    x = base(inputs, training=None)
    model = keras.Model(inputs, layers.Dense(1)(layers.GlobalAveragePooling2D()(x)))
    """
    [diag] = [d for d in lint_source(HEADER + textwrap.dedent(src), "x.py", keras_version="3")
              if d.code == "KM201"]
    assert "Dropout drops" in diag.message


def test_explicit_training_none_on_bn_only_base_never_unfrozen_is_harmless():
    # trainable=False keeps BatchNormalization in inference mode (R11); nothing drops.
    src = """
    base = keras.applications.ResNet50(include_top=False)
    base.trainable = False
    inputs = keras.Input((224, 224, 3))
    x = base(inputs, training=None)
    model = keras.Model(inputs, layers.Dense(1)(layers.GlobalAveragePooling2D()(x)))
    model.fit(ds)
    """
    assert lint(src) == [] and lint(src, "2") == []


def test_training_variable_or_second_positional_is_not_judged():
    for call in ("base(inputs, training=is_training)", "base(inputs, mask, training=None)"):
        assert lint(GUIDE.replace("x = base(inputs)", f"x = {call}")) == []


def test_explicit_training_none_on_a_frozen_node_is_kept_by_keras_316():
    # Measured under keras-nightly (fixtures/KM201/flagged_explicit_training_none_or_true.py):
    # 3.16 keeps the node's None and the frozen base's Dropout does not drop; True still does.
    src = """
    base = keras.applications.EfficientNetB0(include_top=False)
    base.trainable = False
    inputs = keras.Input((224, 224, 3))
    x = base(inputs, training={written})
    model = keras.Model(inputs, layers.Dense(1)(layers.GlobalAveragePooling2D()(x)))
    """
    assert [c for _, c in lint(src.format(written="None"), "3.16")] == []
    assert [c for _, c in lint(src.format(written="None"), "3")] == ["KM201"]
    assert "KM201" in [c for _, c in lint(src.format(written="True"), "3.16")]
