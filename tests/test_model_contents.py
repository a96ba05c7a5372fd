"""model_contents: what the model behind a name holds, per kind, and how the
name is used (frozen / unfrozen, graph nodes)."""
import textwrap

import libcst as cst
import pytest

from kerasmode_lint.engine.context import FileContext
from kerasmode_lint.engine.lint import _run
from kerasmode_lint.analysis.keras_knowledge import APPLICATION_CONTENTS, Tri
from kerasmode_lint.analysis.model_contents import Contents
from kerasmode_lint.analysis.names import dotted
from kerasmode_lint.engine.versions import KERAS3_MEASURED

Y, N, U = Tri.YES, Tri.NO, Tri.UNKNOWN

HEADER = """
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers
import tensorflow_hub as hub
import keras_hub
"""


def context(body):
    source = textwrap.dedent(HEADER) + textwrap.dedent(body)
    ctx = FileContext("example.py", source, cst.parse_module(source), KERAS3_MEASURED)
    _run(ctx, [])  # feeds the import tracker, as the engine does
    return ctx


def kinds(body, name, at=None):
    ctx = context(body)
    contents = ctx.models.contents_of_name(name, at=find_call(ctx, at) if at else None)
    return contents.dropout, contents.batchnorm, contents.other


def find_call(ctx, callee, nth=0):
    """The nth call whose function is spelled ``callee``."""
    found = []

    class Finder(cst.CSTVisitor):
        def visit_Call(self, node):
            if dotted(node.func) == callee:
                found.append(node)

    ctx.module.visit(Finder())
    return found[nth]


# --- kinds of built-in layers -------------------------------------------------

@pytest.mark.parametrize("layer, expected", [
    ("layers.Dropout(0.5)", (Y, N, N)),
    ("layers.SpatialDropout2D(0.1)", (Y, N, N)),
    ("layers.GaussianNoise(0.1)", (Y, N, N)),
    ("layers.BatchNormalization()", (N, Y, N)),
    ("layers.RandomFlip()", (N, N, Y)),
    ("layers.LSTM(8, dropout=0.2)", (Y, N, N)),
    ("layers.LSTM(8)", (N, N, N)),
    ("layers.LSTM(8, recurrent_dropout=0.0)", (N, N, N)),
    ("layers.MultiHeadAttention(2, 8, dropout=0.1)", (Y, N, N)),
    ("layers.TimeDistributed(layers.Dropout(0.5))", (Y, N, N)),
    ("layers.Dense(3)", (N, N, N)),
    ("layers.Embedding(10, 4, trainable=False)", (N, N, N)),
    ("layers.SomeFutureLayer()", (U, U, U)),
])
def test_builtin_layer_kinds(layer, expected):
    assert kinds(f"x = {layer}\n", "x") == expected


def test_any_answer_keeps_working_for_km101():
    ctx = context("a = layers.Dropout(0.5)\nb = layers.Dense(3)\nc = load_model('m.keras')\n")
    assert ctx.models.of_name("a") is Y
    assert ctx.models.of_name("b") is N
    assert ctx.models.of_name("c") is U
    assert ctx.models.of_name("a", kind="batchnorm") is N
    with pytest.raises(ValueError):
        ctx.models.of_name("a", kind="dropuot")


# --- containers built in the file ---------------------------------------------

def test_sequential_and_add():
    body = """
    seq = keras.Sequential([layers.Dense(8), layers.BatchNormalization()])
    grown = keras.Sequential()
    grown.add(layers.Dense(8))
    grown.add(layers.Dropout(0.3))
    """
    assert kinds(body, "seq") == (N, Y, N)
    assert kinds(body, "grown") == (Y, N, N)


def test_functional_graph_in_helper_with_nested_submodel():
    body = """
    def block():
        return keras.Sequential([layers.Dense(4), layers.Dropout(0.1)])

    def build():
        inputs = keras.Input((8,))
        x = layers.Dense(8)(inputs)
        x = block()(x)
        return keras.Model(inputs, x)

    model = build()
    """
    assert kinds(body, "model") == (Y, N, N)


def test_subclassed_model_layers_from_init():
    body = """
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(4)
            self.bn = layers.BatchNormalization()

        def call(self, x, training=None):
            return self.bn(self.dense(x), training=training)

    net = Net()
    """
    assert kinds(body, "net") == (N, Y, N)


def test_dropout_subclass_and_functional_dropout():
    body = """
    class MCDropout(layers.Dropout):
        def call(self, inputs):
            return super().call(inputs, training=True)

    class Noisy(layers.Layer):
        def call(self, x, training=None):
            return tf.nn.dropout(x, 0.1) if training else x

    a = MCDropout(0.5)
    b = Noisy()
    """
    ctx = context(body)
    a = ctx.models.contents_of_name("a")
    assert (a.dropout, a.batchnorm) == (Y, N) and a.ignores_training
    b = ctx.models.contents_of_name("b")
    assert b.dropout is Y and not b.ignores_training


def test_wrapper_layer_pins_training():
    body = """
    class Frozen(layers.Layer):
        def __init__(self, base):
            super().__init__()
            self.base = base

        def call(self, x):
            return self.base(x, training=False)

    class Forwarding(layers.Layer):
        def call(self, x, training=None):
            return self.inner(x, training=training)

    w = Frozen(base)
    f = Forwarding()
    """
    ctx = context(body)
    assert ctx.models.contents_of_name("w").ignores_training
    assert not ctx.models.contents_of_name("f").ignores_training


def test_unknown_sources():
    body = """
    a = keras.models.load_model("m.keras")
    b = keras_hub.models.Backbone.from_preset("bert_base_en")
    c = tf.saved_model.load("dir")
    d = hub.KerasLayer("https://tfhub.dev/x", trainable=False)
    from mylib import Block
    e = Block(64)
    """
    for name in "abcde":
        assert kinds(body, name) == (U, U, U), name
    ctx = context(body)
    assert ctx.models.contents_of_name("d").frozen_means_inference


def test_class_with_imported_sub_block_is_unknown_not_nothing():
    body = """
    from mylib import ResidualBlock

    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.block = ResidualBlock(64)
            self.head = layers.Dense(1)
            if False:
                raise ValueError("never")

    net = Net()
    """
    assert kinds(body, "net") == (U, U, U)


# --- keras.applications --------------------------------------------------------

@pytest.mark.parametrize("call, expected", [
    ("keras.applications.VGG16(include_top=False)", (N, N, N)),
    ("keras.applications.vgg19.VGG19()", (N, N, N)),
    ("keras.applications.ConvNeXtTiny(include_top=False)", (N, N, N)),
    ("keras.applications.ResNet50(include_top=False, weights='imagenet')", (N, Y, N)),
    ("tf.keras.applications.resnet50.ResNet50()", (N, Y, N)),
    ("keras.applications.NASNetMobile()", (N, Y, N)),
    ("keras.applications.MobileNetV2(include_top=False)", (N, Y, N)),
    ("keras.applications.MobileNet()", (Y, Y, N)),
    ("keras.applications.MobileNet(include_top=False)", (N, Y, N)),
    ("keras.applications.MobileNet(include_top=top)", (U, Y, N)),
    ("keras.applications.MobileNetV3Small(dropout_rate=0)", (N, Y, N)),
    ("keras.applications.EfficientNetB0(include_top=False)", (Y, Y, N)),
    ("keras.applications.EfficientNetV2S(include_top=False)", (Y, Y, N)),
    ("keras.applications.resnet_rs.ResNetRS50(include_top=False)", (N, Y, N)),
    ("keras.applications.resnet_rs.ResNetRS200(include_top=False)", (Y, Y, N)),
    ("keras.applications.regnet.RegNetY016()", (N, Y, N)),
    ("keras.applications.NewNet2030()", (U, U, U)),
])
def test_applications(call, expected):
    assert kinds(f"x = {call}\n", "x") == expected


def test_preprocess_input_is_not_a_model():
    body = """
    def build():
        inputs = keras.Input((32, 32, 3))
        x = keras.applications.resnet50.preprocess_input(inputs)
        x = layers.Dense(3)(layers.Flatten()(x))
        return keras.Model(inputs, x)

    model = build()
    """
    assert kinds(body, "model") == (N, N, N)


def test_application_table_covers_the_keras_exports():
    exported = {
        "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtSmall", "ConvNeXtTiny", "ConvNeXtXLarge",
        "DenseNet121", "DenseNet169", "DenseNet201", "EfficientNetB0", "EfficientNetB7",
        "EfficientNetV2B0", "EfficientNetV2L", "InceptionResNetV2", "InceptionV3",
        "MobileNet", "MobileNetV2", "MobileNetV3Large", "MobileNetV3Small", "NASNetLarge",
        "NASNetMobile", "ResNet101", "ResNet101V2", "ResNet152", "ResNet152V2", "ResNet50",
        "ResNet50V2", "VGG16", "VGG19", "Xception",
    }
    assert exported <= set(APPLICATION_CONTENTS)


# --- scoping --------------------------------------------------------------------

def test_names_are_read_in_the_scope_of_the_call():
    body = """
    def test_a():
        layer = layers.Dropout(0.5)
        y = layer(x)

    def test_b():
        layer = layers.Dense(2, trainable=False)
        y = layer(x)
    """
    assert kinds(body, "layer") == (Y, N, N)  # no scope: every assignment counts
    ctx = context(body)
    in_b = find_call(ctx, "layer", nth=1)
    assert ctx.models.contents_of_name("layer", at=in_b) == Contents()
    assert ctx.models.training_state("layer", at=in_b).frozen
    in_a = find_call(ctx, "layer", nth=0)
    assert not ctx.models.training_state("layer", at=in_a).frozen


def test_self_attributes_belong_to_their_class():
    body = """
    class A(layers.Layer):
        def __init__(self):
            super().__init__()
            self.norm = layers.BatchNormalization()

        def call(self, x):
            return self.norm(x)

    class B(layers.Layer):
        def __init__(self):
            super().__init__()
            self.norm = layers.LayerNormalization()

        def call(self, x):
            return self.norm(x)
    """
    ctx = context(body)
    assert ctx.models.of_name("self.norm", "batchnorm", at=find_call(ctx, "self.norm", 0)) is Y
    assert ctx.models.of_name("self.norm", "batchnorm", at=find_call(ctx, "self.norm", 1)) is N


# --- training_state ----------------------------------------------------------------

def state(body, name="base"):
    return context(body).models.training_state(name)


def test_frozen_never_unfrozen():
    s = state("base = make()\nbase.trainable = False\n")
    assert (s.frozen, s.unfrozen, s.batchnorm_refrozen) == (True, False, False)


def test_frozen_in_constructor_and_by_loop():
    assert state("base = hub.KerasLayer(url, trainable=False)\n").frozen
    assert state("for layer in base.layers:\n    layer.trainable = False\n").frozen
    # A slice is a partial freeze, not a freeze of the whole base.
    assert not state("for layer in base.layers[:10]:\n    layer.trainable = False\n").frozen


@pytest.mark.parametrize("unfreeze", [
    "base.trainable = True",
    "base.trainable = fine_tune",
    "base.layers[-1].trainable = True",
    "for layer in base.layers[-20:]:\n    layer.trainable = True",
])
def test_unfrozen_forms(unfreeze):
    s = state(f"base.trainable = False\n{unfreeze}\n")
    assert s.frozen and s.unfrozen and not s.batchnorm_refrozen


@pytest.mark.parametrize("loop", [
    "for layer in base.layers:\n    if isinstance(layer, layers.BatchNormalization):\n        layer.trainable = False",
    "for layer in base.layers[-20:]:\n    if not isinstance(layer, layers.BatchNormalization):\n        layer.trainable = True",
    "for layer in base.layers:\n    layer.trainable = not isinstance(layer, layers.BatchNormalization)",
    "for layer in model.layers:\n    if 'bn' in layer.name:\n        layer.trainable = False\n    else:\n        layer.trainable = True",
])
def test_batchnorm_refrozen_after_unfreezing(loop):
    s = state(f"base.trainable = False\nbase.trainable = True\n{loop}\n")
    assert s.unfrozen and s.batchnorm_refrozen


def test_batchnorm_refrozen_before_unfreezing_does_not_count():
    # R12/V6: the recursive setter turns the BN layers trainable again.
    body = (
        "base.trainable = False\n"
        "for layer in base.layers:\n"
        "    if isinstance(layer, layers.BatchNormalization):\n"
        "        layer.trainable = False\n"
        "base.trainable = True\n"
    )
    assert not state(body).batchnorm_refrozen


def test_freezing_everything_but_batchnorm_is_not_refreezing():
    body = (
        "base.trainable = True\n"
        "for layer in base.layers:\n"
        "    if not isinstance(layer, layers.BatchNormalization):\n"
        "        layer.trainable = False\n"
    )
    assert not state(body).batchnorm_refrozen


# --- graph nodes ------------------------------------------------------------------

def test_graph_nodes_feed_a_model_built_in_the_same_function():
    body = """
    def build():
        inputs = keras.Input((8,))
        x = augment(inputs)
        x = base(x)
        unused = other(x)
        y = head(x)
        return keras.Model(inputs, y)

    def inspect():
        feats = base(images)
        inputs = keras.Input((8,))
        _ = base(inputs)
    """
    ctx = context(body)
    nodes = {callee: ctx.models.is_graph_node(find_call(ctx, callee)) for callee in ("augment", "head", "other")}
    assert nodes == {"augment": True, "head": True, "other": False}
    assert ctx.models.is_graph_node(find_call(ctx, "base", 0))
    assert not ctx.models.is_graph_node(find_call(ctx, "base", 1))  # real data
    assert not ctx.models.is_graph_node(find_call(ctx, "base", 2))  # builds on a dummy input only


def test_graph_nodes_from_model_output_and_super_init():
    body = """
    class Classifier(keras.Model):
        def __init__(self, backbone):
            inputs = backbone.input
            x = backbone.output
            x = head(x)
            super().__init__(inputs=inputs, outputs=x)
    """
    ctx = context(body)
    assert ctx.models.is_graph_node(find_call(ctx, "head"))


def test_reassigned_name_after_the_model_is_not_a_node():
    body = """
    inputs = keras.Input((8,))
    output = layer(inputs)
    model = keras.Model(inputs, output)
    inputs = load_batch()
    output = model(inputs, training=False)
    """
    ctx = context(body)
    assert ctx.models.is_graph_node(find_call(ctx, "layer"))
    assert not ctx.models.is_graph_node(find_call(ctx, "model"))


def test_addon_normalisations_and_weight_norm_wrappers_are_mode_free():
    from helpers import findings

    src = """
    import tensorflow as tf
    import tensorflow_addons as tfa
    from tensorflow import keras
    from tensorflow.keras import layers

    d = keras.Sequential([
        tfa.layers.WeightNormalization(layers.Conv1D(16, 3)),
        tfa.layers.InstanceNormalization(),
        layers.LeakyReLU(0.2),
    ])
    opt = keras.optimizers.Adam()
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(d(x))
    grads = tape.gradient(loss, d.trainable_variables)
    opt.apply_gradients(zip(grads, d.trainable_variables))
    """
    assert findings(src, "2") == []
    wrapped_dropout = src.replace("layers.Conv1D(16, 3)", "layers.Dropout(0.5)")
    assert [code for _, code in findings(wrapped_dropout, "2")] == ["KM101"]


_GRAPHS = """
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

inputs = keras.Input((16,))
h = layers.Dense(8)(inputs)
h = layers.Dropout(0.5)(h)
regularised = keras.Model(inputs, layers.Dense(1)(h))

inputs = keras.Input((16,))
bn = layers.BatchNormalization()
plain = keras.Model(inputs=inputs, outputs=layers.Dense(1)({plain_input}))

opt = keras.optimizers.Adam()
with tf.GradientTape() as tape:
    loss = tf.reduce_mean(plain(x))
grads = tape.gradient(loss, plain.trainable_variables)
opt.apply_gradients(zip(grads, plain.trainable_variables))
"""


def test_functional_model_holds_only_the_layers_on_its_paths():
    from helpers import findings

    # A notebook's module builds several models: only the layers between this
    # model's inputs and outputs are in it.
    assert findings(_GRAPHS.format(plain_input="inputs"), "3") == []
    # A layer object applied on the path counts.
    assert [c for _, c in findings(_GRAPHS.format(plain_input="bn(inputs)"), "3")] == ["KM101"]
    # So does anything reached through a tensor of the earlier model.
    assert [c for _, c in findings(_GRAPHS.format(plain_input="h"), "3")] == ["KM101"]
    # A call the analysis cannot see keeps it unknown (reported, saying so).
    assert [c for _, c in findings(_GRAPHS.format(plain_input="blocks.head(inputs)"), "3")] == ["KM101"]


def test_a_builder_method_of_the_class_is_followed():
    from helpers import findings

    src = """
    import tensorflow as tf
    from tensorflow import keras

    class GAN(keras.Model):
        def __init__(self):
            super().__init__()
            self.head = keras.layers.Dense(1)
            self.net = self.build_net()

        def build_net(self):
            inputs = keras.Input((4,))
            return keras.Model(inputs, self.head({inner}))

        def step(self, x):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(self.net(x))
            grads = tape.gradient(loss, self.net.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.net.trainable_variables))

    noise = keras.layers.GaussianNoise(0.1)
    """
    assert findings(src.format(inner="inputs"), "3") == []
    assert [c for _, c in findings(src.format(inner="keras.layers.Dropout(0.3)(inputs)"), "3")] == ["KM101"]


@pytest.mark.parametrize("layer, flagged", [("keras.layers.Dense(2)", False), ("keras.layers.Dropout(0.2)", True)])
def test_a_model_unpacked_from_what_a_builder_returns(layer, flagged):
    from helpers import findings

    src = f"""
    import tensorflow as tf
    from tensorflow import keras

    class GAN(keras.Model):
        def __init__(self):
            super().__init__()
            self.patch, self.combined = self.build_combined()

        def build_combined(self):
            inputs = keras.Input((4,))
            combined = keras.Model(inputs, {layer}(inputs))
            return 4, combined

        def step(self, x):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(self.combined(x))
            grads = tape.gradient(loss, self.combined.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.combined.trainable_variables))

    other = keras.layers.Dropout(0.1)
    """
    assert bool([c for _, c in findings(src, "3") if c == "KM101"]) is flagged
