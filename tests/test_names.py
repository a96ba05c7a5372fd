"""Import alias tracking: every spelling of Keras resolves to one canonical name."""
import textwrap

import libcst as cst
import pytest

from kerasmode_lint.analysis.names import ImportTracker, canonical, dotted, keras_class
from kerasmode_lint.engine.walker import walk


def resolve_last(source):
    """Canonical name of the expression on the last line of ``source``."""
    module = cst.parse_module(textwrap.dedent(source))
    tracker = ImportTracker()
    walk(module, {cst.Import: [tracker.visit_Import], cst.ImportFrom: [tracker.visit_ImportFrom],
                  cst.Assign: [tracker.visit_Assign]}, {})
    expr = module.body[-1].body[0].value
    return tracker.resolve(expr)


@pytest.mark.parametrize(
    "source",
    [
        "import keras\nkeras.layers.Dropout",
        "from keras import layers as L\nL.Dropout",
        "import tensorflow as tf\ntf.keras.layers.Dropout",
        "from tensorflow import keras\nkeras.layers.Dropout",
        "from tensorflow.keras.layers import Dropout\nDropout",
        "from tensorflow.keras.layers import Dropout as D\nD",
        "import tf_keras\ntf_keras.layers.Dropout",
        "import tf_keras as keras\nkeras.layers.Dropout",
        "import keras_core as K\nK.layers.Dropout",
        "import tensorflow as tf\nkeras = tf.keras\nkeras.layers.Dropout",
        "import tensorflow as tf\nlayers = tf.keras.layers\nlayers.Dropout",
        "import tensorflow.keras.layers\ntensorflow.keras.layers.Dropout",
        "from tensorflow.compat.v1 import keras\nkeras.layers.Dropout",
        "from keras.layers import *\nDropout",
    ],
)
def test_spellings_of_dropout(source):
    assert resolve_last(source) == "keras.layers.Dropout"


@pytest.mark.parametrize(
    "source",
    [
        "Dropout",                                   # never imported
        "from mylib.layers import Dropout\nDropout",  # not Keras
        "import torch.nn as nn\nnn.Dropout",
        "import tensorflow as tf\nkeras = make()\nkeras.layers.Dropout",  # alias rebound
        "from .layers import Dropout\nDropout",       # relative import
    ],
)
def test_non_keras_names_do_not_resolve_to_keras(source):
    resolved = resolve_last(source)
    assert resolved is None or not resolved.startswith("keras.")


def test_gradient_tape():
    assert resolve_last("import tensorflow as tf\ntf.GradientTape") == "tensorflow.GradientTape"
    assert resolve_last("from tensorflow import GradientTape as GT\nGT") == "tensorflow.GradientTape"


def test_helpers():
    assert canonical("tensorflow.keras.Model") == "keras.Model"
    assert canonical("tensorflow.GradientTape") == "tensorflow.GradientTape"
    assert keras_class("keras.layers.Dense") == "Dense" and keras_class("numpy.zeros") is None
    assert dotted(cst.parse_expression("a.b.c")) == "a.b.c"
    assert dotted(cst.parse_expression("a().b")) is None


def test_local_assignment_does_not_forget_a_module_alias():
    from kerasmode_lint import lint_source

    src = textwrap.dedent("""\
        import tensorflow as tf
        layers = tf.keras.layers
        def helper():
            layers = []
            return layers
        model = tf.keras.Sequential([layers.Dense(4), layers.Dropout(0.5)])
        with tf.GradientTape() as tape:
            pred = model(x)
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
    """)
    dense_only = src.replace("layers.Dropout(0.5)", "layers.Dense(1)")
    # With the alias kept, the Dense-only variant is known to be harmless.
    assert [d.code for d in lint_source(src, "x.py", keras_version="3", select=["KM101"])] == ["KM101"]
    assert lint_source(dense_only, "x.py", keras_version="3", select=["KM101"]) == []


def test_kerascv_backend_keras_is_keras():
    from kerasmode_lint.analysis.names import canonical

    assert canonical("keras_cv.src.backend.keras.layers.Dropout") == "keras.layers.Dropout"
    assert canonical("keras_cv.backend.keras.Model") == "keras.Model"
    assert canonical("keras_cv.layers.RandomFlip") == "keras_cv.layers.RandomFlip"
