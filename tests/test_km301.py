"""KM301 call-default-training-true: what it flags and the look-alikes it must leave alone."""
import textwrap

import pytest

from helpers import findings


def lint(src, version="3"):
    return [f for f in findings(textwrap.dedent(src), version) if f[1] == "KM301"]


MC_DROPOUT = """
import tensorflow as tf

class MCDropout(tf.keras.layers.Dropout):
    def call(self, inputs, training=True):
        return super().call(inputs, training=training)
"""


@pytest.mark.parametrize("version", ["2", "3", "3.16"])
def test_forwarded_default_true_flagged_in_every_version(version):
    assert lint(MC_DROPOUT, version) == [(5, "KM301")]


def test_message_names_the_class_and_the_leak_only_where_it_exists():
    from kerasmode_lint import lint_source

    [k3] = [d for d in lint_source(textwrap.dedent(MC_DROPOUT), "x.py", keras_version="3") if d.code == "KM301"]
    [k316] = [d for d in lint_source(textwrap.dedent(MC_DROPOUT), "x.py", keras_version="3.16") if d.code == "KM301"]
    assert "`MCDropout.call`" in k3.message and "predict()" in k3.message
    assert "leaking" in k3.message and "leaking" not in k316.message
    assert "3.0-3.15" in k3.explanation and "3.0-3.15" not in k316.explanation
    assert "use `training=None`" in k316.message


@pytest.mark.parametrize(
    "header, base",
    [
        ("from tensorflow import keras", "keras.layers.Layer"),
        ("import keras", "keras.Layer"),
        ("from keras import layers", "layers.Layer"),
        ("import tf_keras as K", "K.layers.Layer"),
        ("from tensorflow.keras.layers import Layer as L", "L"),
        ("import tensorflow as tf", "tf.keras.Model"),
    ],
)
def test_import_spellings(header, base):
    src = f"""
{header}
class Block({base}):
    def call(self, x, training=True):
        return self.bn(x, training=training)
"""
    assert lint(src, "3.16") == [(4, "KM301")]


def test_annotated_default_and_in_file_base_chain():
    src = """
    from tensorflow import keras
    class Base(keras.layers.Layer):
        pass
    class Block(Base):
        def call(self, x, training: bool = True):
            return self.bn(x, training=training)
    """
    assert lint(src, "2") == [(6, "KM301")]


def test_unknown_imported_base_counts_as_layer_in_a_keras_file():
    src = """
    import tensorflow as tf
    from official.modeling import layers as nlp_layers
    class Block(nlp_layers.TransformerBlock):
        def call(self, x, training=True):
            return self.dropout(x, training=training)
    """
    assert lint(src, "2") == [(5, "KM301")]


# --- look-alikes ---------------------------------------------------------------

AUGMENT = """
import tensorflow as tf

class RandomNoise(tf.keras.layers.Layer):
    def call(self, x, training=True):
        if training:
            return x + tf.random.normal(tf.shape(x))
        return x

# Used before a BatchNormalization: where the 3.0-3.15 leak would reach it.
model = tf.keras.Sequential([RandomNoise(), tf.keras.layers.BatchNormalization()])
"""


@pytest.mark.parametrize("version, expected", [("2", []), ("3", [(5, "KM301")]), ("3.16", [])])
def test_augmentation_gating_random_ops_only_for_the_315_leak(version, expected):
    assert lint(AUGMENT, version) == expected


def test_augmentation_message_is_about_the_leak():
    from kerasmode_lint import lint_source

    [d] = [d for d in lint_source(textwrap.dedent(AUGMENT), "x.py", keras_version="3") if d.code == "KM301"]
    assert "leaks" in d.message and "3.0-3.15" in d.message
    assert "3.16" in d.explanation and "predict() and evaluate() already do" in d.explanation


@pytest.mark.parametrize(
    "name, base, body",
    [
        ("ColorJitter", "layers.Layer", "return self.jitter(x) if training else x"),
        ("MyFlip", "layers.RandomFlip", "return super().call(x, training=training)"),
        ("Augmenter", "layers.Layer", "return self.pipeline(x, training=training)"),
        ("ImagePreprocessor", "layers.Layer", "return self.resize(x, training=training)"),
        ("Mixer", "keras_cv.layers.BaseImageAugmentationLayer", "return self.mix(x, training=training)"),
        ("Flipper", "layers.Layer", "return self.random_flip(x, training=training)"),
    ],
)
def test_augmentation_convention_recognised(name, base, body):
    src = f"""
import keras_cv
from tensorflow.keras import layers
class {name}({base}):
    def call(self, x, training=True):
        {body}

head = layers.BatchNormalization()
def build(x):
    return head({name}()(x))
"""
    assert lint(src, "2") == []
    assert lint(src, "3.16") == []
    assert lint(src, "3") == [(5, "KM301")]


def test_ignored_argument_only_for_the_leak():
    src = """
    import tensorflow as tf
    class AlwaysOn(tf.keras.layers.Dropout):
        def call(self, inputs, training=True):
            return super().call(inputs, training=True)

    model = tf.keras.Sequential([AlwaysOn(0.5), tf.keras.layers.BatchNormalization()])
    """
    assert lint(src, "2") == [] and lint(src, "3.16") == []
    assert lint(src, "3") == [(4, "KM301")]


def test_leak_only_form_needs_the_class_seen_inside_a_model():
    # A library layer no code here uses: whether a mode-dependent layer runs
    # after it in some outer call cannot be seen, so nothing is claimed.
    library = AUGMENT.split("# Used before")[0]
    assert lint(library, "3") == []
    # Used inside a model, but the file holds nothing the leak could reach.
    no_mode_layer = library + "model = tf.keras.Sequential([RandomNoise(), tf.keras.layers.Dense(1)])\n"
    assert lint(no_mode_layer, "3") == []


def test_builder_and_dataset_flags_are_not_layer_calls():
    # look-alike 7 of docs/semantics.md: training= keywords of model builders and dataset factories.
    src = """
    import tensorflow as tf
    def build_model(num_classes, training=True):
        return tf.keras.Sequential([tf.keras.layers.Dense(num_classes)])
    def make_dataset(files, training=True):
        return tf.data.Dataset.from_tensor_slices(files)
    def input_fn(training=True):
        return make_dataset([], training=training)
    class FrameGenerator:
        def __init__(self, path, training=True):
            self.training = training
        def __call__(self, training=True):
            yield from ()
    class Block(tf.keras.layers.Layer):
        def _helper(self, x, training=True):
            return x
        def call(self, x, training=None):
            return self._helper(x, training)
    """
    assert lint(src, "2") == [] and lint(src, "3") == []


def test_plain_classes_with_call_are_not_layers():
    src = """
    import tensorflow as tf
    class Schedule:
        def call(self, step, training=True):
            return step
    class Other(object):
        def call(self, step, training=True):
            return step
    class Mixin:
        pass
    class Derived(Mixin):
        def call(self, step, training=True):
            return step
    class Callback(tf.keras.callbacks.Callback):
        def call(self, step, training=True):
            return step
    """
    assert lint(src, "2") == [] and lint(src, "3") == []


def test_other_defaults_not_flagged():
    src = """
    import tensorflow as tf
    class A(tf.keras.layers.Layer):
        def call(self, x, training=None):
            return x
    class B(tf.keras.layers.Layer):
        def call(self, x, training=False, mask=True):
            return x
    class C(tf.keras.layers.Layer):
        def call(self, x, is_training=True):
            return x
    """
    assert lint(src, "2") == [] and lint(src, "3") == []


# -- where the default is never used, or steers nothing mode-dependent -------

def test_block_always_called_with_training_is_not_reported():
    src = """
    import tensorflow as tf

    class ConvBlock(tf.keras.Model):
        def __init__(self):
            super(ConvBlock, self).__init__()
            self.bn = tf.keras.layers.BatchNormalization()

        def call(self, x, training=True):
            return self.bn(x, training=training)

    class Net(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.blocks = []
            for _ in range(3):
                self.blocks.append(ConvBlock())
            self.head = ConvBlock()

        def call(self, x, training=None):
            for block in self.blocks:
                x = block(x, training=training)
            return self.head(x, training)
    """
    # Net's own default is None; ConvBlock's True is never used.
    assert lint(src, "2") == []


def test_block_called_bare_somewhere_is_reported():
    src = """
    import tensorflow as tf

    class ConvBlock(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.bn = tf.keras.layers.BatchNormalization()

        def call(self, x, training=True):
            return self.bn(x, training=training)

    block = ConvBlock()
    y = block(tf.ones((2, 4)))
    """
    assert lint(src, "2") == [(9, "KM301")]


def test_callers_in_another_module_of_the_project_are_read(tmp_path):
    from kerasmode_lint import lint_source

    model = textwrap.dedent("""
    import tensorflow as tf

    class Discriminator(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.bn = tf.keras.layers.BatchNormalization()

        def call(self, x, training=True):
            return self.bn(x, training=training)
    """)
    (tmp_path / "model.py").write_text(model)
    (tmp_path / "main.py").write_text("from model import Discriminator\nd = Discriminator()\nd(x, training=True)\n")
    codes = lambda: [d.code for d in lint_source(model, str(tmp_path / "model.py"), keras_version="2")]
    assert codes() == []
    (tmp_path / "evaluate.py").write_text("from model import Discriminator\nd = Discriminator()\nscore = d(x)\n")
    assert codes() == ["KM301"]


def test_mode_switch_without_mode_dependent_layers_is_not_reported():
    # The flag picks a code path on purpose (a spectrogram only in training);
    # nothing in the layer behaves differently in training mode.
    src = """
    import tensorflow as tf

    class MelSpec(tf.keras.layers.Layer):
        def call(self, audio, training=True):
            if training:
                return tf.abs(tf.signal.stft(audio, 256, 64))
            return audio
    """
    assert lint(src, "2") == []


def test_augmentation_used_only_standalone_has_no_leak_to_report():
    src = """
    import tensorflow as tf

    class RandomCutout(tf.keras.layers.Layer):
        def call(self, images, training=True):
            if training:
                return images * tf.random.uniform(tf.shape(images))
            return images

    for aug in [RandomCutout]:
        layer = aug()
        layer(images)
    """
    assert lint(src, "3") == []


def test_flow_direction_switch_with_a_distribution_is_not_reported():
    # RealNVP-style: `training` picks the flow's direction; the model holds
    # Dense couplings and a tfp distribution, nothing mode-dependent.
    src = """
    import tensorflow as tf
    import tensorflow_probability as tfp
    from tensorflow import keras

    def coupling():
        inputs = keras.Input((2,))
        return keras.Model(inputs, keras.layers.Dense(2)(inputs))

    class Flow(keras.Model):
        def __init__(self):
            super().__init__()
            self.distribution = tfp.distributions.MultivariateNormalDiag(loc=[0.0, 0.0])
            self.couplings = [coupling() for _ in range(4)]

        def call(self, x, training=True):
            direction = -1 if training else 1
            for layer in self.couplings[::direction]:
                x = layer(x)
            return x
    """
    assert lint(src, "2") == []
