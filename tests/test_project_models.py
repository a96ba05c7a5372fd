"""Models and layers imported from another module of the linted project are
read from that module (kerasmode_lint/analysis/project_models.py): a training script
over a Dense-only model from ``models.py`` is left alone, one over a model
with Dropout is reported and the message names the Dropout."""
import os
import subprocess
import sys
import textwrap

import pytest

from kerasmode_lint import lint_source

LOOP = '''\
import tensorflow as tf
{imports}

model = {build}
opt = tf.keras.optimizers.Adam()


def step(x, y):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((model(x) - y) ** 2)
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
'''


def write(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def lint(root, name="train.py"):
    path = root / name
    return lint_source(path.read_text(), str(path), keras_version="3")


def km101(root, name="train.py"):
    return [d for d in lint(root, name) if d.code == "KM101"]


BUILDERS = {
    "dense": "keras.Sequential([keras.layers.Dense(8), keras.layers.Dense(1)])",
    "dropout": "keras.Sequential([keras.layers.Dense(8), keras.layers.Dropout(0.5), keras.layers.Dense(1)])",
    "batchnorm": "keras.Sequential([keras.layers.Dense(8), keras.layers.BatchNormalization(), keras.layers.Dense(1)])",
}


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_a_builder_function_of_another_module(tmp_path, kind):
    write(tmp_path, {
        "models.py": f"from tensorflow import keras\n\ndef build_model():\n    return {BUILDERS[kind]}\n",
        "train.py": LOOP.format(imports="from models import build_model", build="build_model()"),
    })
    found = km101(tmp_path)
    if kind == "dense":
        assert found == []
    else:
        assert len(found) == 1
        named = "Dropout does not drop" if kind == "dropout" else "BatchNormalization"
        assert named in found[0].explanation and "could not be seen" not in found[0].message


def test_a_subclass_in_a_package_re_exported_by_its_init(tmp_path):
    write(tmp_path, {
        "nets/__init__.py": "from .backbone import ResNet\n",
        "nets/backbone.py": '''\
            from tensorflow import keras

            class Block(keras.layers.Layer):
                def __init__(self):
                    super().__init__()
                    self.conv = keras.layers.Conv2D(8, 3)
                    self.bn = keras.layers.BatchNormalization()

                def call(self, x, training=None):
                    return self.bn(self.conv(x), training=training)

            class ResNet(keras.Model):
                def __init__(self):
                    super().__init__()
                    self.block = Block()

                def call(self, x, training=None):
                    return self.block(x, training=training)
            ''',
        "train.py": LOOP.format(imports="from nets import ResNet", build="ResNet()"),
    })
    found = km101(tmp_path)
    assert len(found) == 1 and "BatchNormalization" in found[0].explanation


def test_a_module_attribute_and_a_mode_free_network(tmp_path):
    # VGG-style: convolutions and pooling only, nothing that depends on the mode.
    write(tmp_path, {
        "network.py": '''\
            from tensorflow import keras

            def VGG16():
                return keras.Sequential([keras.layers.Conv2D(8, 3), keras.layers.MaxPooling2D(),
                                         keras.layers.Flatten(), keras.layers.Dense(10)])
            ''',
        "train.py": LOOP.format(imports="import network", build="network.VGG16()"),
    })
    assert km101(tmp_path) == []


def test_a_base_class_from_another_module(tmp_path):
    write(tmp_path, {
        "base.py": '''\
            from tensorflow import keras

            class Base(keras.Model):
                def __init__(self):
                    super().__init__()
                    self.drop = keras.layers.Dropout(0.3)
            ''',
        "train.py": LOOP.format(
            imports="from base import Base\n\nclass Net(Base):\n    def call(self, x, training=None):\n"
                    "        return self.drop(x, training=training)\n",
            build="Net()"),
    })
    found = km101(tmp_path)
    assert len(found) == 1 and "Dropout does not drop" in found[0].explanation


def test_star_imported_layers_that_treat_none_as_training(tmp_path):
    # Layers of the project that drop whenever `training is not False`: a call
    # without training= in the tape does drop, so there is nothing to report.
    write(tmp_path, {
        "layers.py": '''\
            import tensorflow as tf
            from tensorflow import keras

            class GraphConv(keras.layers.Layer):
                def __init__(self, units, activation=tf.nn.relu, dropout=0.5):
                    super().__init__()
                    self.units = units
                    self.rate = dropout
                    self.activation = activation

                def call(self, x, training=None):
                    if training is not False:
                        x = tf.nn.dropout(x, self.rate)
                    return self.activation(x)
            ''',
        "models.py": '''\
            from tensorflow import keras
            from layers import *

            class GCN(keras.Model):
                def __init__(self):
                    super().__init__()
                    self.convs = [GraphConv(16), GraphConv(7)]

                def call(self, x, training=None):
                    for conv in self.convs:
                        x = conv(x, training)
                    return x
            ''',
        "train.py": LOOP.format(imports="from models import GCN", build="GCN()"),
    })
    assert km101(tmp_path) == []


def test_builder_flags_are_read_across_modules(tmp_path):
    write(tmp_path, {
        "blocks.py": '''\
            from tensorflow import keras

            def downsample(filters, apply_dropout=True):
                block = keras.Sequential()
                block.add(keras.layers.Conv2D(filters, 3))
                if apply_dropout:
                    block.add(keras.layers.Dropout(0.5))
                return block
            ''',
        "train.py": LOOP.format(imports="from blocks import downsample", build="downsample(8, apply_dropout=False)"),
    })
    assert km101(tmp_path) == []
    (tmp_path / "train.py").write_text(LOOP.format(imports="from blocks import downsample", build="downsample(8)"))
    assert len(km101(tmp_path)) == 1


def test_a_name_the_module_does_not_define_stays_unknown(tmp_path):
    write(tmp_path, {
        "models.py": "from tensorflow import keras\nkeras.layers.Dropout(0.1)\n",
        "train.py": LOOP.format(imports="from models import build_model", build="build_model()"),
    })
    found = km101(tmp_path)
    assert len(found) == 1 and "could not be seen" in found[0].message


def test_cycles_of_imports_end(tmp_path):
    write(tmp_path, {
        "a.py": "from tensorflow import keras\nfrom b import Net\nRATE_LAYER = keras.layers.Dropout\n",
        "b.py": "from a import Net\n",
        "train.py": LOOP.format(imports="from a import Net", build="Net()"),
    })
    found = km101(tmp_path)
    assert len(found) == 1 and "could not be seen" in found[0].message


def test_a_warm_run_sees_a_change_in_the_imported_module(tmp_path):
    """The cache keeps the files a result was read from: editing models.py
    re-lints train.py, which did not change."""
    models = "from tensorflow import keras\n\ndef build_model():\n    return {}\n"
    write(tmp_path, {
        "models.py": models.format(BUILDERS["dense"]),
        "train.py": LOOP.format(imports="from models import build_model", build="build_model()"),
    })
    (tmp_path / ".git").mkdir()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), os.environ.get("PYTHONPATH")])))

    def run():
        done = subprocess.run([sys.executable, "-m", "kerasmode_lint", "--keras-version", "3", "train.py"],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode in (0, 1), done.stderr
        return done.stdout

    assert "KM101" not in run()
    assert "KM101" not in run()  # warm
    (tmp_path / "models.py").write_text(models.format(BUILDERS["dropout"]))
    assert "KM101" in run()
    (tmp_path / "models.py").write_text(models.format(BUILDERS["dense"]) + "\n")
    assert "KM101" not in run()


def test_a_module_reached_again_deeper_keeps_its_own_depth(tmp_path):
    """models.py is read at one import from train.py, and again at three
    (through blocks.py) while its ``build`` is being answered: the second
    visit must not shorten the first one's reach, or ``head`` (two more
    modules away, within the limit) would end unknown and be reported."""
    write(tmp_path, {
        "models.py": """\
            from tensorflow import keras
            from blocks import block
            from heads import head

            def make_dense():
                return keras.layers.Dense(4)

            def build():
                return keras.Sequential([block(), head()])
            """,
        "blocks.py": """\
            from tensorflow import keras
            from models import make_dense

            def block():
                return keras.Sequential([make_dense()])
            """,
        "heads.py": "from deep import dense_head\n\ndef head():\n    return dense_head()\n",
        "deep.py": "from tensorflow import keras\n\ndef dense_head():\n    return keras.layers.Dense(1)\n",
        "train.py": LOOP.format(imports="from models import build", build="build()"),
    })
    assert km101(tmp_path) == []
    (tmp_path / "deep.py").write_text(
        "from tensorflow import keras\n\ndef dense_head():\n    return keras.layers.Dropout(0.5)\n")
    found = km101(tmp_path)  # the same chain, seen to its end: the Dropout is named
    assert len(found) == 1 and "could not be seen" not in found[0].message
