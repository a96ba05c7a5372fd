"""KM307 model-call-without-training: what it flags and the look-alikes it must leave alone."""
import textwrap

import pytest

from helpers import findings
from kerasmode_lint import lint_source

MODEL = """
import keras
from keras import layers


class Regressor(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(64, activation="relu")
        self.norm = layers.BatchNormalization()
        self.dropout = layers.Dropout(0.5)
        self.out = layers.Dense(1)

    def call(self, inputs):
        return self.out(self.dropout(self.norm(self.hidden(inputs))))
"""
TRAINED = MODEL + """

model = Regressor()
model.compile(optimizer="adam", loss="mse")
model.fit(x_train, y_train)
"""
CALL_LINE = 14


def lint(source, version="3", **kwargs):
    return [(line, code) for line, code in findings(source, version, **kwargs) if code == "KM307"]


@pytest.mark.parametrize("version, expected", [("2", []), ("3", [(CALL_LINE, "KM307")]),
                                               ("3.16", [(CALL_LINE, "KM307")])])
def test_top_level_model_without_training_parameter_keras3_only(version, expected):
    assert lint(TRAINED, version) == expected


def test_message_is_one_sentence_naming_the_class_and_the_sublayer():
    [diag] = [d for d in lint_source(textwrap.dedent(TRAINED), "x.py", keras_version="3") if d.code == "KM307"]
    assert diag.message.startswith("`Regressor.call` takes no `training`")
    assert "`self.dropout` never drops" in diag.message
    assert len(diag.message) <= 120 and ". " not in diag.message


def test_kwargs_do_not_carry_training():
    src = TRAINED.replace("def call(self, inputs):", "def call(self, inputs, **kwargs):").replace(
        "self.norm(self.hidden(inputs))", "self.norm(self.hidden(inputs), **kwargs)")
    assert lint(src) == [(CALL_LINE, "KM307")]


def test_backends_tensorflow_and_torch_but_jax_315_is_km306s():
    assert lint(TRAINED, keras_backend="torch") == [(CALL_LINE, "KM307")]
    assert lint(TRAINED, keras_backend="jax") == []
    assert "KM306" in [code for _, code in findings(TRAINED, "3", keras_backend="jax")]
    assert lint(TRAINED, "3.16", keras_backend="jax") == [(CALL_LINE, "KM307")]


@pytest.mark.parametrize("change", [
    ("def call(self, inputs):", "def call(self, inputs, training=None):"),
    ("def call(self, inputs):", "def call(self, inputs, is_training=False):"),
    ("self.dropout(self.norm(self.hidden(inputs)))",
     "self.dropout(self.norm(self.hidden(inputs), training=True), training=True)"),
    ("class Regressor(keras.Model):", "class Regressor(layers.Layer):"),
    ("self.norm = layers.BatchNormalization()\n        self.dropout = layers.Dropout(0.5)",
     "self.norm = layers.LayerNormalization()\n        self.dropout = layers.Dense(4)"),
])
def test_clean_variants(change):
    assert lint(TRAINED.replace(*change)) == []


def test_used_only_as_a_layer_of_a_functional_model():
    src = MODEL + """

inputs = keras.Input((8,))
outer = keras.Model(inputs, layers.Dense(1)(Regressor()(inputs)))
outer.fit(x_train, y_train)
"""
    assert lint(src) == []


def test_own_train_step_decides():
    src = TRAINED.replace("    def call(self, inputs):", """    def train_step(self, data):
        x, y = data
        return {}

    def call(self, inputs):""")
    assert lint(src) == []


def test_sublayer_passed_in_is_unknown():
    src = """
    import keras

    class Wrapper(keras.Model):
        def __init__(self, backbone):
            super().__init__()
            self.backbone = backbone

        def call(self, inputs):
            return self.backbone(inputs)

    model = Wrapper(make_backbone())
    model.fit(x, y)
    """
    assert lint(src) == []
