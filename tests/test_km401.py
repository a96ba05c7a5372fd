"""KM401 learning-phase-api: every spelling of the legacy API, per-version
messages, and the look-alikes it must leave alone (look-alike 12 of docs/semantics.md)."""
import textwrap

import pytest

from helpers import findings
from kerasmode_lint import lint_source


def lint(src, version="3"):
    return [(line, code) for line, code in findings(src, version) if code == "KM401"]


@pytest.mark.parametrize("src, line", [
    ("import tensorflow as tf\ntf.keras.backend.set_learning_phase(1)\n", 2),
    ("import tensorflow as tf\ntf.compat.v1.keras.backend.set_learning_phase(0)\n", 2),
    ("import keras\nkeras.backend.learning_phase()\n", 2),
    ("from keras import backend as K\nK.set_learning_phase(1)\n", 2),
    ("from tensorflow.keras import backend as K\nwith K.learning_phase_scope(1):\n    pass\n", 2),
    ("import tensorflow.keras.backend as KB\nKB.learning_phase()\n", 2),
    ("import tf_keras\ntf_keras.backend.set_learning_phase(1)\n", 2),
    ("from tensorflow.python.keras import backend\nbackend.set_learning_phase(1)\n", 2),
    ("import tensorflow as tf\nK = tf.keras.backend\nK.set_learning_phase(1)\n", 3),
    # the classic Keras 2 idiom: learning_phase() as an input of K.function
    ("from keras import backend as K\nf = K.function([m.input, K.learning_phase()], [m.output])\n", 2),
    # referenced without a call
    ("import tensorflow as tf\nphase = tf.keras.backend.learning_phase\n", 2),
])
@pytest.mark.parametrize("version", ["2", "3", "3.16"])
def test_flagged_spellings(src, line, version):
    # Keras 2 honours the phase unless fit/evaluate/predict pass `training`
    # themselves: there, it is reported where the file also calls one.
    trains = src + "preds = model.predict(x)\n"
    assert lint(trains, version) == [(line, "KM401")]
    assert lint(src, version) == ([] if version == "2" else [(line, "KM401")])


@pytest.mark.parametrize("src", [
    # a TF1-style export: the phase is set before the graph is built, never fit
    "import tensorflow as tf\ntf.keras.backend.set_learning_phase(0)\nmodel = build()\nfreeze(model)\n",
    # the classic K.function idiom, the phase fed as an input
    "from keras import backend as K\nf = K.function([m.input, K.learning_phase()], [m.output])\nout = f([x, 0])\n",
])
def test_keras2_without_fit_evaluate_predict_is_left_alone(src):
    assert lint(src, "2") == []
    assert [code for _, code in lint(src, "3")] == ["KM401"]


def test_from_import_reports_the_import_and_each_use():
    src = """\
    from tensorflow.keras.backend import set_learning_phase, learning_phase_scope as lps
    set_learning_phase(1)
    with lps(1):
        pass
    """
    assert lint(textwrap.dedent(src)) == [(1, "KM401"), (1, "KM401"), (2, "KM401"), (3, "KM401")]


def test_messages_per_version():
    src = "import tensorflow as tf\ntf.keras.backend.set_learning_phase(1)\ny = model.predict(x)\n"
    [k3] = lint_source(src, "x.py", keras_version="3")
    [k2] = lint_source(src, "x.py", keras_version="2")
    assert "AttributeError" in k3.message and "removed in Keras 3" in k3.message
    assert "`set_learning_phase`" in k3.message and "training=" in k3.message
    assert "deprecated" in k2.message and "predict" in k2.message and "training=" in k2.message
    assert "predict()" in k2.explanation and "`model(x)`" in k2.explanation
    imported = lint_source("from keras.backend import learning_phase\n", "x.py", keras_version="3")
    assert "ImportError" in imported[0].message
    read = "import tf_keras\nif training is None:\n    training = tf_keras.backend.learning_phase()\nmodel.fit(x, y)\n"
    [k2_read] = lint_source(read, "x.py", keras_version="2")
    assert "`learning_phase` is deprecated" in k2_read.message and "never read it" in k2_read.message
    assert "never consult" in k2_read.explanation


# --- look-alikes -------------------------------------------------------------------

def test_own_method_of_the_same_name():
    src = """\
    import tensorflow as tf
    class Runner:
        def set_learning_phase(self, value):
            self.training = bool(value)
        def learning_phase(self):
            return self.training
    runner = Runner()
    runner.set_learning_phase(1)
    self.learning_phase_scope(1)
    """
    assert lint(textwrap.dedent(src)) == []


def test_unrelated_backend_module():
    src = "from mylib import backend as K\nK.set_learning_phase(1)\n"
    assert lint(src) == []


def test_library_module_implementing_the_api():
    # look-alike 12 of docs/semantics.md: tf_keras/src/backend.py defines and uses these itself.
    src = """\
    import tensorflow as tf
    from tensorflow.keras import backend as K
    def learning_phase():
        return _GRAPH_LEARNING_PHASES.get(graph, 0)
    def set_learning_phase(value):
        K.set_learning_phase(value)
    def learning_phase_scope(value):
        previous = K.learning_phase()
    """
    assert lint(textwrap.dedent(src)) == []


def test_private_library_paths_are_not_uses():
    src = """\
    from tf_keras.src import backend
    training = backend.learning_phase()
    from keras.src.backend import common
    """
    assert lint(textwrap.dedent(src)) == []


@pytest.mark.parametrize("guard", [
    "try:\n    K.set_learning_phase(0)\nexcept AttributeError:\n    pass\n",
    "try:\n    K.set_learning_phase(0)\nexcept (ImportError, AttributeError):\n    pass\n",
    "try:\n    K.set_learning_phase(0)\nexcept Exception:\n    pass\n",
    "try:\n    K.set_learning_phase(0)\nexcept:\n    pass\n",
    "if hasattr(K, 'set_learning_phase'):\n    K.set_learning_phase(0)\n",
    "if tf.__version__ < '2.16':\n    K.set_learning_phase(0)\n",
    "phase = K.learning_phase() if hasattr(K, 'learning_phase') else 0\n",
    "try:\n    from tensorflow.keras.backend import set_learning_phase\nexcept ImportError:\n    set_learning_phase = None\n",
])
def test_guarded_for_keras3(guard):
    src = "import tensorflow as tf\nfrom tensorflow.keras import backend as K\n" + guard
    assert lint(src) == []


def test_guard_is_not_a_try_that_catches_something_else():
    src = "from tensorflow.keras import backend as K\ntry:\n    K.set_learning_phase(0)\nexcept ValueError:\n    pass\n"
    assert lint(src) == [(3, "KM401")]


def test_strings_and_keywords_are_not_uses():
    src = """\
    from keras import backend as K
    print("K.set_learning_phase(1) is gone")
    build(learning_phase=1)
    config["learning_phase"] = 1
    """
    assert lint(textwrap.dedent(src)) == []


def test_noqa():
    src = "import tensorflow as tf\ntf.keras.backend.set_learning_phase(1)  # noqa: KM401\n"
    assert lint(src) == []


def test_keras2_in_tf1_graph_code_reads_the_phase_fit_feeds():
    # TF1 graph mode: fit() and predict() feed the learning phase themselves.
    src = """
    import tensorflow as tf
    K = tf.keras.backend

    class StochasticDepth(tf.keras.layers.Layer):
        def call(self, x):
            return tf.keras.backend.in_train_phase(x * 0.5, x, training=K.learning_phase())

    with tf.Session() as sess:
        model.fit(x, y)
    """
    assert lint(textwrap.dedent(src), "2") == []
    assert [c for _, c in lint(textwrap.dedent(src), "3")] == ["KM401"]
    eager = textwrap.dedent(src).replace("with tf.Session() as sess:\n    ", "")
    assert [c for _, c in lint(eager, "2")] == ["KM401"]


def test_keras2_phase_set_after_the_last_fit_reaches_only_bare_calls():
    # the phase is honoured by the bare calls after it; nothing after it ignores it
    after = """
import numpy as np
from tensorflow import keras
model.fit(x, y)
keras.backend.set_learning_phase(1)
with tf.GradientTape() as tape:
    loss = loss_fn(y, model(x))
"""
    assert lint(after, "2") == []
    assert [code for _, code in lint(after + "model.evaluate(x, y)\n", "2")] == ["KM401"]
    assert [code for _, code in lint(after, "3")] == ["KM401"]
