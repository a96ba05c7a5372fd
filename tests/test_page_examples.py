"""The KM201 and KM202 pages' Example and Fix programs run under real
TensorFlow and do what the pages say, with tiny stand-ins: a small
convolutional base with BatchNormalization and Dropout for the ImageNet
applications, a few random images for ``train_ds``, one epoch.

They run in the shared fixture processes (fixture_harness.FixtureServer):
each block becomes a small program that ends with an ``observe.report``.
Other pages' blocks are not executed yet.
"""
import os
import re
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_harness import FixtureServer  # noqa: E402

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


def blocks(code):
    text = (PAGES / f"{code}.md").read_text(encoding="utf-8")
    found = []
    for heading in ("Example", "Fix"):
        match = re.search(rf"^## {heading}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
        found += [(heading, i, b) for i, b in enumerate(re.findall(r"```python\n(.*?)```", match.group(1), re.S))]
    return found


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
         for code in ("KM201", "KM202") for heading, index, block in blocks(code) for flavour in ("k3", "tfk")]


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
