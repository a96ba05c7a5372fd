"""KM306 jax-training-not-forwarded: backend and version gating, flagged forms,
and the look-alikes it must leave alone."""
import textwrap

import pytest

from kerasmode_lint import lint_source

JAX = 'import os\nos.environ["KERAS_BACKEND"] = "jax"\nimport keras\n'

MODEL = """
class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(16)
        self.bn = keras.layers.BatchNormalization()
        self.dropout = keras.layers.Dropout(0.5)
        self.out = keras.layers.Dense(1)

    def call(self, x, training=None):
        h = self.bn(self.dense(x))
        h = self.dropout(h)
        return self.out(h)
"""
BN_LINE, DROPOUT_LINE = 14, 15  # with the JAX header


def lint(src, version="3", backend="auto", header=JAX):
    diags = lint_source(header + textwrap.dedent(src), "model.py", keras_version=version,
                        keras_backend=backend)
    return [(d.line, d.code) for d in diags if d.code == "KM306"]


def test_flags_sublayers_with_training_behaviour():
    assert lint(MODEL) == [(BN_LINE, "KM306"), (DROPOUT_LINE, "KM306")]


@pytest.mark.parametrize("version, expected", [
    ("2", []), ("3", 2), ("3.0", 2), ("3.15", 2), ("3.16", []),
])
def test_versions(version, expected):
    found = lint(MODEL, version)
    assert (len(found) if expected else found) == (expected or [])


def test_only_with_the_jax_backend(monkeypatch):
    plain = "import keras\n"
    assert lint(MODEL, header=plain) == []  # default: tensorflow
    assert len(lint(MODEL, header=plain, backend="jax")) == 2  # --keras-backend jax
    assert lint(MODEL, backend="tensorflow") == []  # the option beats the code
    assert lint(MODEL, header='import os\nos.environ["KERAS_BACKEND"] = "torch"\n') == []
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    assert len(lint(MODEL, header=plain)) == 2  # the environment


def test_keras_json(tmp_path, monkeypatch):
    from kerasmode_lint.engine import backends

    (tmp_path / "keras.json").write_text('{"backend": "jax"}')
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    backends.clear_caches()
    assert len(lint(MODEL, header="import keras\n")) == 2


def test_message():
    diags = lint_source(JAX + textwrap.dedent(MODEL), "m.py", keras_version="3")
    message, explanation = diags[0].message, diags[0].explanation
    assert "`self.bn(...)` gets no `training` from fit() on JAX" in message
    assert "pass `training=training`" in message
    assert "`self.bn(...)`" in explanation and "`Net.call`" in explanation and "JAX" in explanation
    assert "training=training" in explanation and "training=None" in explanation


def test_call_without_training_parameter():
    src = MODEL.replace("def call(self, x, training=None):", "def call(self, x):")
    [diag, _] = lint_source(JAX + textwrap.dedent(src), "m.py", keras_version="3")
    assert "as `call` takes none" in diag.message and "add `training=None`" in diag.message
    assert "has no `training` parameter" in diag.explanation and "training=None" in diag.explanation


def test_tf_keras_spellings_and_model_bases():
    src = """
    import tensorflow as tf
    from tensorflow.keras import layers, Model
    class A(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.drop = layers.Dropout(0.2)
        def call(self, x, training=None):
            return self.drop(x)
    class B(A):
        def __init__(self):
            super().__init__()
            self.noise = layers.GaussianNoise(0.1)
        def call(self, x, training=None):
            return self.noise(x)
    class C(Model):
        def __init__(self):
            super().__init__()
            self.seq = tf.keras.Sequential([layers.Dense(4), layers.BatchNormalization()])
        def call(self, inputs):
            return self.seq(inputs)
    """
    assert lint(src) == [(12, "KM306"), (18, "KM306"), (24, "KM306")]


def test_lists_of_layers_called_in_a_loop():
    src = """
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.blocks = [keras.layers.Dense(8), keras.layers.Dropout(0.1)]
        def call(self, x, training=None):
            for block in self.blocks:
                x = block(x)
            return x
    """
    assert lint(src) == [(11, "KM306")]


# --- look-alikes ---------------------------------------------------------------

@pytest.mark.parametrize("call", [
    "self.bn(h, training=training)", "self.bn(h, training=False)", "self.bn(h, training=True)",
    "self.bn(h, **kwargs)",
])
def test_forwarded_or_explicit(call):
    src = MODEL.replace("self.bn(self.dense(x))", call.replace("h,", "self.dense(x),"))
    src = src.replace("h = self.dropout(h)", "h = self.dropout(h, training=training)")
    assert lint(src) == []


def test_layers_without_training_behaviour_methods_and_passed_in_layers():
    src = """
    class Net(keras.Model):
        def __init__(self, backbone):
            super().__init__()
            self.backbone = backbone
            self.dense = keras.layers.Dense(4)
            self.norm = keras.layers.LayerNormalization()
        def _block(self, x):
            return x
        def call(self, x, training=None):
            return self.norm(self.dense(self._block(self.backbone(x))))
    """
    assert lint(src) == []


def test_layer_subclasses_are_not_top_level_models():
    src = """
    class Block(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.dropout = keras.layers.Dropout(0.5)
        def call(self, x, training=None):
            return self.dropout(x)
    """
    assert lint(src) == []


def test_model_used_only_as_a_sublayer():
    src = """
    class Block(keras.Model):
        def __init__(self):
            super().__init__()
            self.dropout = keras.layers.Dropout(0.5)
        def call(self, x, training=None):
            return self.dropout(x)
    class Outer(keras.Model):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.blocks = [Block(), Block()]
        def call(self, x, training=None):
            return self.block(x, training=training)
    inputs = keras.Input((4,))
    functional = keras.Model(inputs, Block()(inputs))
    sequential = keras.Sequential([keras.layers.Dense(4), Block()])
    """
    assert lint(src) == []


def test_model_used_as_a_sublayer_and_trained_itself():
    src = """
    class Block(keras.Model):
        def __init__(self):
            super().__init__()
            self.dropout = keras.layers.Dropout(0.5)
        def call(self, x, training=None):
            return self.dropout(x)
    class Outer(keras.Model):
        def __init__(self):
            super().__init__()
            self.block = Block()
    pretrain = Block()
    pretrain.compile(optimizer="adam", loss="mse")
    pretrain.fit(x, y)
    """
    assert lint(src) == [(10, "KM306")]


def test_model_called_directly_only():
    # A direct call opens a call context: model(x, training=True) reaches the sublayers.
    src = MODEL + "\nnet = Net()\ny = net(x, training=True)\n"
    assert lint(src) == []
    assert len(lint(MODEL + "\nnet = Net()\nnet(x)\nnet.compile(loss='mse')\nnet.fit(x, y)\n")) == 2


def test_functional_subclass_without_call():
    src = """
    class Classifier(keras.Model):
        def train_step(self, data):
            return super().train_step(data)
    inputs = keras.Input((4,))
    model = Classifier(inputs, keras.layers.Dropout(0.5)(inputs))
    """
    assert lint(src) == []


def test_noqa():
    src = MODEL.replace("h = self.dropout(h)", "h = self.dropout(h)  # noqa: KM306").replace(
        "h = self.bn(self.dense(x))", "h = self.bn(self.dense(x))  # noqa")
    assert lint(src) == []


# --- the k3jax fixture flavour ------------------------------------------------------

def test_k3jax_flavour_in_the_harness():
    import os
    import sys
    from pathlib import Path

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from fixture_harness import FIXTURES_DIR, fixture_env, parse_observations

    env = fixture_env("k3jax")
    assert env["KERAS_BACKEND"] == "jax" and "TF_USE_LEGACY_KERAS" not in env
    declared = parse_observations(Path(FIXTURES_DIR, "KM306", "flagged_subclassed_model.py"))
    assert declared["k3jax"] == {"bn": "frozen", "fit_forward": "inference"}
    assert declared["k3"] == declared["tfk"] == {"bn": "updated", "fit_forward": "training"}


_ALWAYS_ON = """
class MyDropout(keras.layers.Layer):
    def __init__(self, rate):
        super().__init__()
        self.rate = rate

    def call(self, inputs):
        return keras.random.dropout(inputs, self.rate)

class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.dp = MyDropout(0.5)
        self.out = keras.layers.Dense(1)

    def call(self, x):
        return self.out(self.dp(x))
"""


def test_a_random_op_that_ignores_the_mode_is_not_reported():
    # MyDropout takes no training and calls keras.random.dropout itself: it
    # drops in every mode, so "never drops in fit" would be untrue.
    assert lint(_ALWAYS_ON) == []


def test_a_sublayer_class_that_calls_dropout_layers_still_counts():
    src = _ALWAYS_ON.replace(
        "        self.rate = rate\n", "        self.rate = rate\n        self.inner = keras.layers.Dropout(rate)\n"
    ).replace("return keras.random.dropout(inputs, self.rate)", "return self.inner(inputs)")
    assert [code for _, code in lint(src)] == ["KM306"]
