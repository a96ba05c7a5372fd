"""KM101/KM102 with UNKNOWN contents: a file that builds its model itself and
names no mode-dependent layer anywhere rules them out (rules/_evidence.py)."""
import textwrap

import pytest

from helpers import findings

BUILDER = '''
import numpy as np
import tensorflow as tf
from tensorflow import keras
{extra_import}

class Builder:
    def build(self, width):
        return keras.Sequential([keras.layers.Dense(width), {layer}, keras.layers.Dense(1)])

class GAN(keras.Model):
    def __init__(self):
        super().__init__()
        self.discriminator = Builder().build(16)

    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(self.discriminator(data))
        grads = tape.gradient(loss, self.discriminator.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.discriminator.trainable_variables))
        return {{}}

net = Builder().build(8)
opt = keras.optimizers.Adam()
with tf.GradientTape() as tape:
    loss = tf.reduce_mean(net(np.ones((2, 4))))
grads = tape.gradient(loss, net.trainable_variables)
opt.apply_gradients(zip(grads, net.trainable_variables))
'''


def _codes(layer, extra_import=""):
    src = BUILDER.format(layer=layer, extra_import=extra_import)
    return sorted(code for _, code in findings(src, "3"))


def test_nothing_mode_dependent_in_the_file():
    # Both models come from a method the contents analysis does not follow,
    # but the file has no Dropout/BatchNormalization at all.
    assert _codes("keras.layers.LayerNormalization()") == []


@pytest.mark.parametrize("layer", ["keras.layers.Dropout(0.2)", "keras.layers.BatchNormalization()"])
def test_a_mode_dependent_layer_anywhere_in_the_file_keeps_them(layer):
    assert _codes(layer) == ["KM101", "KM102"]


@pytest.mark.parametrize("extra_import", ["from .nets import Head", "import transformers", "import keras_hub"])
def test_a_model_source_the_file_cannot_see_keeps_them(extra_import):
    assert _codes("keras.layers.LayerNormalization()", extra_import) == ["KM101", "KM102"]


@pytest.mark.parametrize("where", ["beside", "above"])
def test_a_module_of_the_project_is_read(tmp_path, where):
    from kerasmode_lint import lint_source

    folder = tmp_path if where == "beside" else tmp_path / "scripts"
    folder.mkdir(exist_ok=True)
    src = BUILDER.format(layer="keras.layers.LayerNormalization()", extra_import="from models import make_backbone")

    def codes():
        return sorted(d.code for d in lint_source(src, str(folder / "train.py"), keras_version="3"))

    # The project's module builds BatchNormalization: the unseen model may hold it.
    (tmp_path / "models.py").write_text(
        "from tensorflow import keras\n\ndef make_backbone():\n"
        "    return keras.Sequential([keras.layers.Conv2D(8, 3), keras.layers.BatchNormalization()])\n"
    )
    assert codes() == ["KM101", "KM102"]
    # Dense-only, but it imports a module of its own that has Dropout (followed).
    (tmp_path / "blocks.py").write_text("from tensorflow import keras\nhead = keras.layers.Dropout(0.5)\n")
    (tmp_path / "models.py").write_text(
        "from tensorflow import keras\nimport blocks\n\n"
        "# BatchNormalization in a comment does not count\ndef make_backbone():\n"
        "    return keras.Sequential([keras.layers.Dense(8)])\n"
    )
    assert codes() == ["KM101", "KM102"]
    # Neither names a mode-dependent layer: whatever it builds has none.
    (tmp_path / "blocks.py").write_text("from tensorflow import keras\nhead = keras.layers.Dense(1)\n")
    assert codes() == []
    # A project package that cannot be read keeps them.
    (tmp_path / "models.py").unlink()
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "__init__.py").write_text("from .zoo import *\n")
    assert codes() == ["KM101", "KM102"]
    # A package that is not part of the project does not count.
    src = BUILDER.format(layer="keras.layers.LayerNormalization()", extra_import="import gdown")
    assert codes() == []


def test_words_in_comments_and_strings_do_not_count():
    src = BUILDER.format(
        layer="keras.layers.LayerNormalization()",
        extra_import='"""A pipeline like the applications guide, without Dropout."""\n# BatchNormalization',
    )
    assert sorted(code for _, code in findings(src, "3")) == []


def test_a_model_handed_over_by_a_caller_is_still_reported():
    src = textwrap.dedent('''
    import tensorflow as tf

    def train_step(model, optimizer, x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(model(x))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
    ''')
    assert [code for _, code in findings(src, "3")] == ["KM101"]
