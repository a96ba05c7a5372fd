"""The KM201 and KM202 pages' Example and Fix programs run under real
TensorFlow and do what the pages say, with tiny stand-ins: a small
convolutional base with BatchNormalization and Dropout for the ImageNet
applications, a few random images for ``train_ds``, one epoch.

They run in the shared fixture processes (fixture_harness.FixtureServer):
each block becomes a small program that ends with an ``observe.report``.

Every other page with Example/Fix blocks (KM101 … KM503) runs through
tests/page_programs.py: the block between a prelude (tiny data, stand-ins,
spies on Dropout and on fit/train_on_batch) and the page's driver, checked
against what the page says per flavour (``expected``). KM001/KM002 have none.
"""
import os
import re
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_harness import FixtureServer  # noqa: E402
from page_programs import page_blocks, program as page_program  # noqa: E402

PAGES = Path(__file__).resolve().parent.parent / "rules"

PRELUDE = textwrap.dedent('''\
    import numpy as np
    import tensorflow as tf
    from tensorflow import keras

    import observe

    keras.utils.set_random_seed(0)


    def tiny_base():
        return keras.Sequential([
            keras.layers.Conv2D(4, 3, strides=8),
            keras.layers.BatchNormalization(),
            keras.layers.Dropout(0.5),
        ])


    def images(height, width):
        x = observe.inputs(4, height, width, 3)
        y = observe.labels(4, 2).astype("float32")
        return tf.data.Dataset.from_tensor_slices((x, y)).batch(2)


    x_test = observe.inputs(4, 8)
''')


def program(block):
    """The page's block with the stand-ins swapped in, and a report at the end."""
    block = re.sub(r"keras\.applications\.\w+\([^)]*\)", "tiny_base()", block)
    block = re.sub(r"epochs=\d+", "epochs=1", block)
    block = block.replace("range(100)", "range(5)")
    shape = re.search(r"keras\.Input\(shape=\((\d+), (\d+), 3\)\)", block)
    data = f"train_ds = images({shape.group(1)}, {shape.group(2)})\n" if shape else ""
    report = textwrap.dedent('''
        if "samples" in dir():
            same = all(np.array_equal(samples[0], s) for s in samples[1:])
            observe.report(ran="yes", samples="identical" if same else "vary")
        else:
            observe.report(ran="yes")
    ''')
    return PRELUDE + data + block.replace("from tensorflow import keras\n", "") + report


CASES = [(code, flavour, heading, index, block)
         for code in ("KM201", "KM202") for heading, index, block in page_blocks(code) for flavour in ("k3", "tfk")]


@pytest.fixture(scope="module")
def servers():
    started = {}
    yield started
    for server in started.values():
        server.close()


@pytest.mark.tensorflow
@pytest.mark.parametrize("code, flavour, heading, index, block", CASES,
                         ids=[f"{c}-{h}{i}-{f}" for c, f, h, i, _ in CASES])
def test_page_programs_run_and_behave_as_the_page_says(tmp_path, servers, code, flavour, heading, index, block):
    path = tmp_path / f"{code}_{heading}{index}.py"
    path.write_text(program(block))
    if flavour not in servers:
        servers[flavour] = FixtureServer(flavour)
    observed = servers[flavour].run(path)
    assert observed["ran"] == "yes"
    if "samples" in observed:
        # KM202: a Dropout node pinned to training=True is switched off by
        # predict in Keras 3.0-3.15 (every sample identical) and honoured by
        # Keras 2; the MCDropout subclass of the Fix samples in both.
        pinned_node = "Dropout(0.5)(x, training=True)" in block
        expected = "identical" if pinned_node and flavour == "k3" else "vary"
        assert observed["samples"] == expected, (code, heading, index, flavour)


# -- the other pages ---------------------------------------------------------------
# code -> (flavours, setup run before the block, driver run after it)
SPECS = {}
SPECS["KM101"] = (("k3", "tfk"), "", '''
observe.report(raised=raised, dropout=dropout_state())
''')
SPECS["KM102"] = (("k3", "tfk"), "", '''
dropout_state()
model.compile(optimizer="adam", loss="mse", jit_compile=False)
model.fit(observe.inputs(4, 32), np.ones((4, 1)), batch_size=2, epochs=1, verbose=0)
observe.report(raised=raised, dropout=dropout_state())
''')
SPECS["KM103"] = (("k3", "tfk"), '''
def mc_model():
    inputs = keras.Input((16,))
    h = keras.layers.BatchNormalization()(keras.layers.Dense(8)(inputs))
    h = keras.layers.Dropout(0.5)(h)
    return inputs, keras.layers.Dense(1)(h)
''', '''
if "CustomModel" in dir():
    model = CustomModel(*mc_model())
    model.compile(loss="mse", jit_compile=False)
    model.evaluate(x, np.ones((4, 1)), batch_size=2, verbose=0)
    observe.report(raised=raised, dropout=dropout_state(), bn=bn_state(model))
elif "evaluate" in dir():
    evaluate(dataset)
    observe.report(raised=raised, dropout=dropout_state(), bn=bn_state(model))
else:
    samples = predict_with_uncertainty(x, n_samples=3)
    varies = not all(np.array_equal(samples[0], s) for s in samples[1:])
    observe.report(raised=raised, samples="vary" if varies else "identical", bn=bn_state(model))
''')
SPECS["KM203"] = (("k3", "tfk"), "", '''
model = keras.Sequential([keras.Input((8, 8, 3)), ConvBlock(4)])
batch = observe.inputs(4, 8, 8, 3)
model.compile(loss="mse", jit_compile=False)
model.evaluate(batch, np.zeros((4, 8, 8, 4)), batch_size=4, verbose=0)
bn = bn_state(model)
alone = model.predict(batch[:2], batch_size=2, verbose=0)
among = model.predict(batch, batch_size=4, verbose=0)[:2]
observe.report(raised=raised, bn=bn, batch_dependent="no" if np.allclose(alone, among, atol=1e-5) else "yes")
''')
SPECS["KM301"] = (("k3", "tfk"), "", '''
if "MCDropout" in dir():
    model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(16), MCDropout(0.5)])
    model.predict(x, verbose=0)
    predicted = dropout_state()
    model(x)
    observe.report(raised=raised, predict=predicted, bare=dropout_state())
else:
    model = keras.Sequential([keras.Input((16,)), DenseBlock(8)])
    model(x)
    bare = bn_state(model)
    model.compile(loss="mse", jit_compile=False)
    model.fit(x, np.ones((4, 8)), batch_size=2, verbose=0)
    observe.report(raised=raised, bare=bare, fit=bn_state(model))
''')
SPECS["KM302"] = (("k3", "tfk"), "", '''
try:
    inputs = keras.Input((16,))
    model = keras.Model(inputs, NoisyBlock(4)(inputs))
    built = "yes"
except TypeError:
    built = "TypeError"
observe.report(raised=raised, built=built)
''')
SPECS["KM303"] = (("k3", "tfk"), '''
sequences = observe.inputs(2, 5, 3)
''', '''
if raised == "nothing":
    inference = lstm(sequences, training=False)
    mode = "inference" if np.allclose(np.array(outputs), np.array(inference)) else "training"
else:
    mode = "none"
observe.report(raised=raised, mode=mode)
''')
SPECS["KM304"] = (("k3", "tfk"), "", '''
model = Classifier()
model.compile(loss="mse", jit_compile=False)
dropout_state()
model.fit(x_img, np.ones((4, 10)), batch_size=2, verbose=0)
observe.report(raised=raised, dropout=dropout_state())
''')
SPECS["KM305"] = (("k3", "tfk"), "", '''
model = Classifier()
model.compile(loss="mse", jit_compile=False)
model.fit(x, np.ones((4, 3)), batch_size=2, verbose=0)
observe.report(raised=raised, dropout=dropout_state(), bn=bn_state(model.block))
''')
SPECS["KM306"] = (("k3jax",), "", '''
model.fit(x, y, batch_size=2, verbose=0)
observe.report(raised=raised, bn=bn_state(model))
''')
SPECS["KM307"] = (("k3",), '''
x_train = observe.inputs(4, 16)
y_train = np.ones((4, 1))
''', '''
observe.report(raised=raised, bn=bn_state(model))
''')
SPECS["KM401"] = (("k3", "tfk"), '''
_saved = keras.Sequential([keras.Input((16,)), keras.layers.Dense(8), keras.layers.Dropout(0.5),
                           keras.layers.Dense(3, activation="softmax")])
_saved.save("classifier.keras")
images = x
''', '''
if "mc_dropout_probabilities" in dir():
    try:
        samples = list(mc_dropout_probabilities(model, x, n_samples=3))
        varies = not all(np.array_equal(samples[0], s) for s in samples[1:])
        outcome = "vary" if varies else "identical"
    except Exception as exc:
        outcome = type(exc).__name__
    observe.report(raised=raised, samples=outcome)
else:
    observe.report(raised=raised, predicted="yes" if "probabilities" in dir() else "no")
''')
SPECS["KM501"] = (("k3", "tfk"), '''
train_ds = images(32, 32)
WATCH["base"] = lambda: plain_weights(base)
''', '''
observe.report(raised=raised, base="-".join(c[3] for c in CHANGES))
''')
SPECS["KM504"] = (("k3", "tfk"), '''
train_ds = tf.data.Dataset.from_tensor_slices((observe.inputs(4, 128), observe.labels(4, 10))).batch(2)
WATCH["backbone"] = lambda: plain_weights(backbone) if "backbone" in globals() else []
''', '''
observe.report(raised=raised, backbone="-".join(c[3] for c in CHANGES))
''')
SPECS["KM502"] = (("k3", "tfk"), '''
def build_discriminator():
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")], name="discriminator")


def build_generator():
    return keras.Sequential([keras.Input((100,)), keras.layers.Dense(4)], name="generator")


steps, batch_size = 2, 2
valid, invalid = np.ones((2, 1)), np.zeros((2, 1))


def real_batch():
    return observe.inputs(2, 4)


WATCH["discriminator"] = lambda: [np.array(w) for w in discriminator.weights] if "discriminator" in globals() else []
''', '''
own = {c[3] for c in CHANGES if c[1] == "discriminator"}
combined_changes = {c[3] for c in CHANGES if c[1] != "discriminator"}
observe.report(raised=raised, own="changed" if "changed" in own else "unchanged",
               in_combined="changed" if "changed" in combined_changes else "unchanged")
''')
SPECS["KM503"] = (("k3", "tfk"), '''
train_ds = images(32, 32, classes=10)
WATCH["bn"] = lambda: [np.array(w) for bn in bn_layers(base) for w in bn.weights]
''', '''
observe.report(raised=raised, bn="-".join(c[3] for c in CHANGES))
''')


NOTHING = {"raised": "nothing"}


def expected(code, heading, index, flavour):
    """What the page says the block does, per flavour."""
    k3 = flavour.startswith("k3")
    example = heading == "Example"
    if code == "KM101" or code == "KM102":
        return {**NOTHING, "dropout": "keep" if example else "drop"}
    if code == "KM103":
        if heading == "Fix" and index == 2:  # MC dropout through a subclass: samples vary, BN stays
            return {**NOTHING, "samples": "vary", "bn": "frozen"}
        return {**NOTHING, "dropout": "drop" if example else "keep", "bn": "updated" if example else "frozen"}
    if code == "KM203":  # evaluate updates BN, predictions depend on the batch
        return {**NOTHING, "bn": "updated" if example else "frozen", "batch_dependent": "yes" if example else "no"}
    if code == "KM301":
        if example:  # overridden by predict, on in a bare call
            return {**NOTHING, "predict": "keep", "bare": "drop"}
        if index == 0:  # always on
            return {**NOTHING, "predict": "drop", "bare": "drop"}
        return {**NOTHING, "bare": "frozen", "fit": "updated"}
    if code == "KM302":
        return {**NOTHING, "built": "TypeError" if example and k3 else "yes"}
    if code == "KM303":
        if example:  # Keras 3 rejects it; Keras 2 binds it to LSTM's initial_state
            return {"raised": "ValueError" if k3 else "AttributeError", "mode": "none"}
        return {**NOTHING, "mode": "training"}
    if code == "KM304":  # Keras 3 only: the head inherits the backbone's False
        return {**NOTHING, "dropout": "keep" if example and k3 else "drop"}
    if code == "KM305":  # Keras 3 only: training=None is inference mode
        inference = example and k3
        return {**NOTHING, "dropout": "keep" if inference else "drop", "bn": "frozen" if inference else "updated"}
    if code == "KM306":
        return {**NOTHING, "bn": "frozen" if example else "updated"}
    if code == "KM307":  # Keras 3 (TF): fit never reaches a call without `training`
        return {**NOTHING, "bn": "frozen" if example and k3 else "updated"}
    if code == "KM401":
        if index == 0:  # Keras 3: gone; Keras 2: predict ignores the phase
            if example:
                return {**NOTHING, "samples": "AttributeError" if k3 else "identical"}
            return {**NOTHING, "samples": "vary"}
        if example and k3:
            return {"raised": "AttributeError", "predicted": "no"}
        return {**NOTHING, "predicted": "yes"}
    if code == "KM501":  # the second fit trains the base only after compiling again
        return {**NOTHING, "base": "unchanged-unchanged" if example else "unchanged-changed"}
    if code == "KM504":  # Keras 3 (TF): built while frozen, it never trains after the unfreeze
        return {**NOTHING, "backbone": "unchanged-unchanged" if example and k3 else "unchanged-changed"}
    if code == "KM502":  # Keras 3: D's own train_on_batch never updates it
        return {**NOTHING, "own": "unchanged" if example and k3 else "changed", "in_combined": "unchanged"}
    if code == "KM503":  # the second fit moves the BN layers unless frozen after the unfreeze
        return {**NOTHING, "bn": "unchanged-changed" if example else "unchanged-unchanged"}
    raise AssertionError(f"no expectation for {code}")


PAGE_CASES = [(code, flavour, heading, index, block)
              for code, (flavours, _, _) in SPECS.items()
              for heading, index, block in page_blocks(code) for flavour in flavours]


def test_every_page_with_python_blocks_has_programs():
    from pathlib import Path

    pages = {p.stem for p in (Path(__file__).resolve().parent.parent / "rules").glob("KM*.md")}
    with_blocks = {code for code in pages if code not in ("KM001", "KM002") and page_blocks(code)}
    covered = {c for c, *_ in PAGE_CASES} | {"KM201", "KM202"}
    assert with_blocks <= covered, sorted(with_blocks - covered)
    assert all(page_blocks(code) for code in covered)


def run(servers, flavour, path):
    if flavour not in servers:
        servers[flavour] = FixtureServer(flavour)
    return servers[flavour].run(path)


@pytest.mark.tensorflow
@pytest.mark.parametrize("code, flavour, heading, index, block", PAGE_CASES,
                         ids=[f"{c}-{h}{i}-{f}" for c, f, h, i, _ in PAGE_CASES])
def test_page_programs_behave_as_the_page_says(tmp_path, servers, code, flavour, heading, index, block):
    _, setup, driver = SPECS[code]
    path = tmp_path / f"{code}_{heading}{index}.py"
    path.write_text(page_program(block, setup, driver))
    assert run(servers, flavour, path) == expected(code, heading, index, flavour)
