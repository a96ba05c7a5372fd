"""KM502 gan-freeze-recipe-keras3: the Keras 2 GAN recipe under Keras 3, and
the GAN code it must leave alone (docs/semantics.md R13, R14)."""
import textwrap

import pytest

from helpers import findings
from kerasmode_lint import lint_source
from test_km501 import ERIKLINDERNOREN_22, KERAS_8585, OSH_KERASGAN_10

HEADER = """
import numpy as np
from tensorflow import keras
"""
KERAS3 = ("3", "3.16")


def lint(body, version="3", header=HEADER):
    return [(line, code) for line, code in findings(header + textwrap.dedent(body), version)
            if code == "KM502"]


def lines(body, version="3"):
    return [line for line, _ in lint(body, version)]


RECIPE = """
discriminator = build_discriminator()
discriminator.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(2e-4))
generator = build_generator()
z = keras.Input(shape=(100,))
discriminator.trainable = False
combined = keras.Model(z, discriminator(generator(z)))
combined.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(2e-4))
for step in range(steps):
    noise = np.random.normal(size=(batch_size, 100))
    discriminator.train_on_batch(np.concatenate([real, generator.predict(noise)]), labels)
    combined.train_on_batch(noise, valid)
"""


@pytest.mark.parametrize("version", KERAS3)
def test_recipe_is_flagged_at_the_freeze_in_keras3(version):
    assert lines(RECIPE, version) == [9]


def test_recipe_is_correct_in_keras2():
    assert findings(HEADER + textwrap.dedent(RECIPE), "2") == []


def test_message_says_d_is_never_trained_and_how_to_fix_it():
    [diag] = lint_source(HEADER + textwrap.dedent(RECIPE), "x.py", keras_version="3", select=["KM502"])
    assert diag.message.startswith("`discriminator` is still frozen at `discriminator.train_on_batch`")
    assert "unfreeze it first" in diag.message
    assert "`discriminator`" in diag.explanation and "`combined`" in diag.explanation
    assert "never updates" in diag.explanation and "first training call" in diag.explanation
    assert "right before `discriminator.train_on_batch(...)`" in diag.explanation


@pytest.mark.parametrize("version", KERAS3)
def test_eriklindernoren_keras_gan_class(version):
    assert lint(ERIKLINDERNOREN_22, version, header="") == [(13, "KM502")]


def test_eriklindernoren_keras_gan_22_is_silent_in_keras2():
    # The recipe is correct in Keras 2 (the question).
    assert findings(ERIKLINDERNOREN_22, "2") == []


@pytest.mark.parametrize("version", KERAS3)
def test_keras_8585_frozen_container_sharing_the_layers(version):
    # Freezing a second model built on D's tensors freezes D's layers.
    assert lint(KERAS_8585, version, header="") == [(13, "KM502")]


@pytest.mark.parametrize("version", KERAS3)
def test_fit_instead_of_train_on_batch_and_helper_freeze(version):
    src = """
    def make_trainable(net, val):
        net.trainable = val

    critic.compile(loss="mse", optimizer="adam")
    make_trainable(critic, False)
    gan = keras.Sequential([generator, critic])
    gan.compile(loss="mse", optimizer="adam")
    critic.fit(x, y, epochs=1)
    gan.fit(noise, y, epochs=1)
    """
    assert lines(src, version) == [9]


@pytest.mark.parametrize("version", KERAS3)
def test_simgan_combined_trained_first(version):
    # The SimGAN ordering (fchollet/deep-learning-with-python-notebooks#13).
    src = """
    refiner.compile(optimizer="sgd", loss=reg_loss)
    critic.compile(optimizer="sgd", loss=adv_loss)
    critic.trainable = False
    joint = keras.Model(inputs=synth, outputs=[refined, critic(refined)])
    joint.compile(optimizer="sgd", loss=[reg_loss, adv_loss])
    for i in range(steps):
        joint.train_on_batch(synth_batch, [synth_batch, y_real])
        critic.train_on_batch(real_batch, y_real)
    """
    assert lines(src, version) == [7]


@pytest.mark.parametrize("version", KERAS3)
def test_toggle_true_without_toggling_back(version):
    src = """
    D.compile(loss="bce", optimizer="adam")
    D.trainable = False
    z = keras.Input((4,))
    combined = keras.Model(z, D(G(z)))
    combined.compile(loss="bce", optimizer="adam")
    for step in range(10):
        D.trainable = True
        D.train_on_batch(x, y)
        combined.train_on_batch(z_batch, y)
    """
    assert lines(src, version) == [11]
    [diag] = lint_source(HEADER + textwrap.dedent(src), "x.py", keras_version=version, select=["KM502"])
    assert "trains it too" in diag.message and "`combined.train_on_batch`" in diag.message
    assert "also updates" in diag.explanation and "`combined.train_on_batch(...)`" in diag.explanation
    assert findings(HEADER + textwrap.dedent(src), "2") == []


# -- look-alikes -------------------------------------------------------------------
@pytest.mark.parametrize("version", ("2",) + KERAS3)
def test_toggle_before_each_training_call(version):
    src = RECIPE.replace(
        "    discriminator.train_on_batch(",
        "    discriminator.trainable = True\n    discriminator.train_on_batch(",
    ).replace(
        "    combined.train_on_batch(",
        "    discriminator.trainable = False\n    combined.train_on_batch(",
    )
    assert findings(HEADER + textwrap.dedent(src), version) == []


@pytest.mark.parametrize("version", ("2",) + KERAS3)
def test_osh_kerasgan_10_make_trainable_toggles(version):
    assert findings(OSH_KERASGAN_10, version) == []


@pytest.mark.parametrize("version", KERAS3)
def test_discriminator_trained_before_the_freeze(version):
    # docs/semantics.md R14 row 8i: the TensorFlow backend keeps D's first train function.
    src = """
    D.compile(loss="bce", optimizer="adam")
    D.train_on_batch(x, y)
    D.trainable = False
    z = keras.Input((4,))
    combined = keras.Model(z, D(G(z)))
    combined.compile(loss="bce", optimizer="adam")
    for step in range(3):
        D.train_on_batch(x, y)
        combined.train_on_batch(z_batch, y)
    """
    assert findings(HEADER + textwrap.dedent(src), version) == []


@pytest.mark.parametrize("version", KERAS3)
def test_discriminator_never_trained_on_its_own(version):
    # A frozen feature extractor inside a second model: nothing trains D.
    src = """
    D.compile(loss="bce", optimizer="adam")
    D.trainable = False
    z = keras.Input((4,))
    combined = keras.Model(z, D(G(z)))
    combined.compile(loss="bce", optimizer="adam")
    combined.fit(z_data, y)
    """
    assert findings(HEADER + textwrap.dedent(src), version) == []


@pytest.mark.parametrize("version", KERAS3)
def test_freeze_unrelated_to_the_other_compiled_model(version):
    # Another model is compiled in between, but it does not contain `model`:
    # the freeze is meant for model's own fit, which Keras 3 honours.
    src = """
    model.compile(loss="mse", optimizer="adam")
    model.trainable = False
    other = keras.Sequential([keras.layers.Dense(1)])
    other.compile(loss="mse", optimizer="adam")
    model.fit(x, y)
    """
    assert findings(HEADER + textwrap.dedent(src), version) == []


@pytest.mark.parametrize("version", KERAS3)
def test_jacobgil_order_d_compiled_last(version):
    src = """
    d_on_g = keras.Sequential([g, d])
    d.trainable = False
    d_on_g.compile(loss="bce", optimizer="sgd")
    d.trainable = True
    d.compile(loss="bce", optimizer="sgd")
    for index in range(10):
        d.train_on_batch(X, y)
        d.trainable = False
        d_on_g.train_on_batch(noise, y)
        d.trainable = True
    """
    assert findings(HEADER + textwrap.dedent(src), version) == []


@pytest.mark.parametrize("version", KERAS3)
def test_custom_train_step_gan(version):
    src = """
    class GAN(keras.Model):
        def __init__(self, discriminator, generator):
            super().__init__()
            self.discriminator = discriminator
            self.generator = generator

        def train_step(self, real):
            grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
            self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
            return {}

    gan = GAN(discriminator, generator)
    gan.compile(optimizer="adam")
    gan.fit(dataset, epochs=1)
    """
    assert findings(HEADER + textwrap.dedent(src), version) == []
