"""KM501 trainable-changed-after-compile: what it flags per Keras version, and
the look-alikes it must leave alone (docs/semantics.md R13, R14)."""
import textwrap

import pytest

from helpers import findings
from kerasmode_lint import lint_source

HEADER = """
import tensorflow as tf
from tensorflow import keras
"""
VERSIONS = ("2", "3", "3.16")


def lint(body, version="3"):
    return [(line, code) for line, code in findings(HEADER + textwrap.dedent(body), version)
            if code == "KM501"]


def lines(body, version="3"):
    return [line for line, _ in lint(body, version)]


UNFREEZE_WITHOUT_RECOMPILE = """
base = keras.applications.MobileNetV2(include_top=False, pooling="avg")
base.trainable = False
model = keras.Sequential([base, keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(ds, epochs=2)
base.trainable = True
model.fit(ds, epochs=2)
"""


# -- flagged in every version --------------------------------------------------
@pytest.mark.parametrize("version", VERSIONS)
def test_unfreeze_after_first_fit_without_recompile(version):
    assert lines(UNFREEZE_WITHOUT_RECOMPILE, version) == [10]


@pytest.mark.parametrize("version", VERSIONS)
def test_recompile_after_the_change_is_the_fix(version):
    src = UNFREEZE_WITHOUT_RECOMPILE.replace(
        "base.trainable = True\n", "base.trainable = True\nmodel.compile(optimizer='adam', loss='mse')\n")
    assert lint(src, version) == []


@pytest.mark.parametrize("spelling", [
    "import tf_keras as keras",
    "import keras",
    "from tensorflow import keras",
    "import tensorflow.keras as keras",
])
def test_import_spellings(spelling):
    src = spelling + "\n" + textwrap.dedent(UNFREEZE_WITHOUT_RECOMPILE)
    assert [(d.line, d.code) for d in lint_source(src, "x.py", keras_version="3", select=["KM501"])] == [(8, "KM501")]


@pytest.mark.parametrize("version", VERSIONS)
def test_freeze_after_first_fit_in_functional_model(version):
    src = """
    inputs = keras.Input((8,))
    x = base(inputs)
    outputs = keras.layers.Dense(1)(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse")
    model.fit(x_train, y_train)
    base.trainable = False
    model.fit(x_train, y_train)
    """
    assert lines(src, version) == [11]


@pytest.mark.parametrize("version", VERSIONS)
def test_layer_loop_and_get_layer(version):
    src = """
    model.compile(optimizer="adam", loss="mse")
    model.train_on_batch(x, y)
    for layer in model.layers[:3]:
        layer.trainable = False
    model.get_layer("dense_2").trainable = False
    model.train_on_batch(x, y)
    """
    assert lines(src, version) == [8, 9]


@pytest.mark.parametrize("version", VERSIONS)
def test_change_inside_a_loop_after_some_epochs(version):
    src = """
    base.trainable = False
    model = keras.Sequential([base, keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    for epoch in range(10):
        if epoch == 5:
            base.trainable = True
        model.fit(x, y, epochs=1)
    """
    assert lines(src, version) == [10]


@pytest.mark.parametrize("version", VERSIONS)
def test_helper_defined_in_the_file_is_reported_at_the_call(version):
    src = """
    def set_trainable(net, value):
        net.trainable = value
        for layer in net.layers:
            layer.trainable = value

    def finetune(model, base, data):
        set_trainable(base, True)
        model.fit(data, epochs=3)

    def main():
        base = build_base()
        base.trainable = False
        model = keras.Sequential([base, keras.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        model.fit(data, epochs=3)
        finetune(model, base, data)
    """
    assert lines(src, version) == [20]


@pytest.mark.parametrize("version", VERSIONS)
def test_methods_of_a_class_see_what_init_compiled(version):
    src = """
    class Trainer:
        def __init__(self, base):
            self.base = base
            self.base.trainable = False
            self.model = keras.Sequential([self.base, keras.layers.Dense(1)])
            self.model.compile(optimizer="adam", loss="mse")

        def run(self, data):
            self.model.fit(data)
            self.base.trainable = True
            self.model.fit(data)
    """
    assert lines(src, version) == [14]


# -- Keras 2 only --------------------------------------------------------------
FREEZE_BEFORE_FIRST_FIT = """
model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.trainable = False
model.fit(x, y)
"""


def test_change_between_compile_and_first_fit_is_keras2_only():
    assert lines(FREEZE_BEFORE_FIRST_FIT, "2") == [7]
    assert lint(FREEZE_BEFORE_FIRST_FIT, "3") == []
    assert lint(FREEZE_BEFORE_FIRST_FIT, "3.16") == []


def test_keras_cv_1746_backbone_frozen_after_compile():
    # keras-team/keras-cv#1746: fine in Keras 3 (honoured before the first fit),
    # ignored by Keras 2.
    src = """
    import keras_cv
    model = keras_cv.models.ImageClassifier.from_preset("some_preset", num_classes=4)
    model.compile(
        loss="categorical_crossentropy",
        optimizer=keras.optimizers.Adam(learning_rate=1e-5),
        metrics=["accuracy"],
    )
    # head only
    model.backbone.trainable = False
    model.fit(train_dataset, epochs=3)
    """
    assert lines(src, "2") == [13]
    assert lint(src, "3") == [] and lint(src, "3.16") == []


def test_make_train_function_force_helps_keras3_tf_only():
    src = """
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y)
    model.trainable = False
    model.make_train_function(force=True)
    model.fit(x, y)
    """
    assert lines(src, "2") == [7]
    assert lint(src, "3") == []


# -- messages --------------------------------------------------------------------
def test_messages_say_what_happens_per_version():
    src = HEADER + textwrap.dedent(UNFREEZE_WITHOUT_RECOMPILE)
    [k2] = lint_source(src, "x.py", keras_version="2", select=["KM501"])
    assert "`base`" in k2.message and "is ignored by `model.fit`; recompile" in k2.message
    assert "model.compile(...)" in k2.explanation
    assert "restores the trainable flags recorded by compile()" in k2.explanation
    assert "stay frozen" in k2.explanation
    [k3] = lint_source(src, "x.py", keras_version="3", select=["KM501"])
    assert "on TensorFlow (JAX raises)" in k3.message
    assert "first training call" in k3.explanation and "JAX" in k3.explanation
    assert "Unknown variable" in k3.explanation  # unfreezing on PyTorch
    freeze = HEADER + textwrap.dedent(FREEZE_BEFORE_FIRST_FIT)
    [k2] = lint_source(freeze, "x.py", keras_version="2", select=["KM501"])
    assert "keep being updated" in k2.explanation


# -- look-alikes -------------------------------------------------------------------
@pytest.mark.parametrize("version", VERSIONS)
def test_conditional_change_with_its_own_recompile(version):
    src = """
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y)
    if args.freeze:
        model.trainable = False
        model.compile(optimizer="adam", loss="mse")
    model.fit(x, y)
    """
    assert lint(src, version) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_conditional_change_without_recompile_is_flagged(version):
    src = """
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y)
    if args.freeze:
        model.trainable = False
    model.fit(x, y)
    """
    assert lines(src, version) == [8]


@pytest.mark.parametrize("version", VERSIONS)
def test_staged_fine_tuning_loop_recompiles_each_stage(version):
    src = """
    base.trainable = False
    model = keras.Sequential([base, keras.layers.Dense(1)])
    for stage, lr in enumerate([1e-3, 1e-4]):
        if stage == 1:
            base.trainable = True
        model.compile(optimizer=keras.optimizers.Adam(lr), loss="mse")
        model.fit(x, y)
    """
    assert lint(src, version) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_same_value_and_non_literal_values(version):
    src = """
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y)
    model.trainable = True
    model.fit(x, y)
    model.trainable = args.train_all
    model.fit(x, y)
    """
    assert lint(src, version) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_change_for_a_new_model_built_on_the_old_one(version):
    src = """
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y)
    model.trainable = False
    features = keras.Model(model.input, model.layers[-2].output)
    new_model = keras.Sequential([features, keras.layers.Dense(3)])
    new_model.compile(optimizer="adam", loss="mse")
    new_model.fit(x, y)
    """
    assert lint(src, version) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_model_compiled_elsewhere_is_left_alone(version):
    src = """
    def finetune(model, base):
        base.trainable = True
        model.fit(x, y)
    """
    assert lint(src, version) == []


# docs/semantics.md R13, R14 traps -----------------------------------------------------
# The shape of osh/KerasGAN's notebook: a `make_trainable` helper flipped
# before each model's own training call, never followed by a compile().
OSH_KERASGAN_10 = """
from keras.layers import Input
from keras.models import Model
disc.compile(loss="categorical_crossentropy", optimizer=d_opt)

def make_trainable(net, flag):
    net.trainable = flag
    for sub in net.layers:
        sub.trainable = flag

make_trainable(disc, False)
noise_in = Input(shape=[100])
stacked = Model(noise_in, disc(gen(noise_in)))
stacked.compile(loss="categorical_crossentropy", optimizer=g_opt)

make_trainable(disc, True)
disc.fit(x_pre, y_pre, epochs=1)

def train_loop(steps):
    for _ in range(steps):
        make_trainable(disc, True)
        disc.train_on_batch(x_batch, y_batch)
        make_trainable(disc, False)
        stacked.train_on_batch(z_batch, y_fool)

train_loop(100)
"""


@pytest.mark.parametrize("version", VERSIONS)
def test_osh_kerasgan_10_make_trainable_toggles(version):
    # Each toggle agrees with the flags the next model was compiled with: a
    # no-op in Keras 2, what Keras 3 needs. Not a forgotten recompile.
    assert findings(OSH_KERASGAN_10, version) == []


# The shape of eriklindernoren/Keras-GAN (issue #22): the recipe built in
# __init__, the two training calls in another method.
ERIKLINDERNOREN_22 = """
from keras.layers import Input
from keras.models import Model
class VanillaGAN:
    def __init__(self):
        opt = Adam(2e-4, 0.5)
        self.disc = self.make_disc()
        self.disc.compile(loss="binary_crossentropy", optimizer=opt, metrics=["accuracy"])
        self.gen = self.make_gen()
        noise = Input(shape=(self.latent,))
        fake = self.gen(noise)
        score = self.disc(fake)
        self.disc.trainable = False
        self.stacked = Model(noise, score)
        self.stacked.compile(loss="binary_crossentropy", optimizer=opt)

    def fit(self, steps):
        for _ in range(steps):
            self.disc.train_on_batch(real, ones)
            self.disc.train_on_batch(generated, zeros)
            self.stacked.train_on_batch(z, ones)
"""


@pytest.mark.parametrize("version", VERSIONS)
def test_eriklindernoren_keras_gan_22_recipe_is_not_km501(version):
    # The recipe: the change is for compiling the combined model. Correct in
    # Keras 2; its Keras 3 failure is KM502, never KM501.
    assert [c for _, c in findings(ERIKLINDERNOREN_22, version) if c == "KM501"] == []


# The shape of the keras-team/keras#8585 workaround: a frozen Container built
# on the discriminator's own tensors is used in the stacked model.
KERAS_8585 = """
from keras.engine.topology import Container
from keras.layers import Input, Dense, Activation
from keras.models import Model
x_in = Input(shape=(2,))
x_out = Activation("softmax")(Dense(2)(x_in))
critic = Model(inputs=x_in, outputs=x_out)
critic.compile(loss="categorical_crossentropy", optimizer="adam")
critic_view = Container(inputs=x_in, outputs=x_out)
z_in = Input(shape=(2,))
z_out = Activation("relu")(Dense(2)(z_in))
maker = Model(inputs=z_in, outputs=z_out)
critic_view.trainable = False
pair = Model(inputs=z_in, outputs=critic_view(z_out))
pair.compile(loss="categorical_crossentropy", optimizer="adam")
fakes = maker.predict(z_data)
critic.train_on_batch(x_mix, y_mix)
pair.train_on_batch(z_data, y_fool)
"""


@pytest.mark.parametrize("version", VERSIONS)
def test_keras_8585_container_workaround_is_not_km501(version):
    assert [c for _, c in findings(KERAS_8585, version) if c == "KM501"] == []
    if version == "2":
        assert findings(KERAS_8585, version) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_jacobgil_dcgan_toggles_around_the_combined_step(version):
    src = """
    def stack(gen, critic):
        both = Sequential()
        both.add(gen)
        critic.trainable = False
        both.add(critic)
        return both

    def run(n):
        d = make_d()
        g = make_g()
        gd = stack(g, d)
        g.compile(loss="mse", optimizer="sgd")
        gd.compile(loss="mse", optimizer="sgd")
        d.trainable = True
        d.compile(loss="mse", optimizer="sgd")
        for epoch in range(n):
            for batch in batches:
                d.train_on_batch(batch, y)
                d.trainable = False
                gd.train_on_batch(z, ones)
                d.trainable = True
    """
    assert findings(HEADER + textwrap.dedent(src), version) == []


def test_combined_model_compiled_with_d_trainable_then_toggled_is_keras2_only():
    # The combined model was compiled while D was trainable; the toggle before
    # its step is meant for it. Keras 2 ignores it (D trains in the generator
    # step); Keras 3 honours it at the first training call.
    src = """
    D.compile(loss='bce', optimizer='adam')
    z = keras.Input((4,))
    combined = keras.Model(z, D(G(z)))
    combined.compile(loss='bce', optimizer='adam')
    for step in range(10):
        D.trainable = True
        D.train_on_batch(x, y)
        D.trainable = False
        combined.train_on_batch(z_batch, y)
    """
    assert lines(src, "2") == [12]
    assert findings(HEADER + textwrap.dedent(src), "3") == []


@pytest.mark.parametrize("version", VERSIONS)
def test_a_new_model_each_fold_starts_afresh(version):
    src = """
    for fold in range(5):
        model = build_model()
        model.compile(optimizer="adam", loss="mse")
        model.fit(x, y)
        model.trainable = False
        features.append(model.predict(x))
    """
    assert lint(src, version) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_rebinding_the_name_forgets_the_old_compile(version):
    src = """
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y)
    model = keras.models.load_model("best.keras")
    model.trainable = False
    model.fit(x, y)
    """
    assert lint(src, version) == []


@pytest.mark.parametrize("version", ("2",))
def test_helpers_defined_elsewhere(version):
    src = """
    from utils import set_trainable
    model = keras.Sequential([base, head])
    model.compile(optimizer="adam", loss="mse")
    set_trainable(base, False)
    model.fit(x, y)
    model.compile(optimizer="adam", loss="mse")
    base.unfreeze()
    model.fit(x, y)
    """
    assert lines(src, version) == [8, 11]
