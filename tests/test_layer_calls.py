"""layer_calls: "is this callee a Keras layer?" from what one file shows."""
import textwrap

import libcst as cst
import pytest

from kerasmode_lint.analysis.keras_knowledge import Tri
from kerasmode_lint.analysis.layer_calls import LayerCalls
from kerasmode_lint.analysis.names import ImportTracker
from kerasmode_lint.engine.walker import walk

SOURCE = """
import tensorflow as tf
from tensorflow.keras import layers
import keras_hub

class Block(layers.Layer):
    def __init__(self, inner, rate):
        super().__init__()
        self.bn = layers.BatchNormalization()
        self.drop = layers.Dropout(rate) if rate else None
        self.blocks = [Inner() for _ in range(3)]
        self.more = []
        self.more.append(layers.Dense(3))
        self.fn = tf.nn.relu
        self.inner = inner
        self.backbone = keras_hub.models.Backbone.from_preset("x")
        self.tok = keras_hub.models.BertTokenizer.from_preset("x")

    def _helper(self, x, training):
        return x

    def call(self, x, training=None):
        x = self.bn(x)
        x = self._helper(x)
        x = self.drop(x)
        for b in self.blocks:
            x = b(x)
        for i, m in enumerate(self.more):
            x = m(x)
        x = self.blocks[0](x)
        x = self.fn(x)
        x = self.inner(x)
        lstm = layers.LSTM(3)
        x = lstm(x)
        x = layers.Dropout(0.5)(x)
        x = self.backbone(x)
        x = self.tok(x)
        return self(x)

class Inner(Block):
    pass

class Plain:
    def call(self, x):
        return self.f(x)

class Unknown(somewhere.Base):
    def call(self, x):
        return x

def apply(layer, x):
    return layer(x)

model = tf.keras.Sequential([layers.Dense(1)])
model(x)
"""


@pytest.fixture(scope="module")
def index_and_calls():
    module = cst.parse_module(textwrap.dedent(SOURCE))
    imports = ImportTracker()
    walk(module, {cst.Import: [imports.visit_Import], cst.ImportFrom: [imports.visit_ImportFrom]}, {})
    index = LayerCalls(module, imports)
    calls = []
    walk(module, {cst.Call: [calls.append]}, {})
    by_text = {module.code_for_node(c.func): c for c in calls}
    return index, by_text


@pytest.mark.parametrize("text, label, class_name", [
    ("self.bn", "self.bn", "BatchNormalization"),
    ("self.drop", "self.drop", "Dropout"),
    ("b", "b", "Inner"),
    ("m", "m", "Dense"),
    ("self.blocks[0]", "self.blocks[...]", "Inner"),
    ("lstm", "lstm", "LSTM"),
    ("layers.Dropout(0.5)", "layers.Dropout(...)", "Dropout"),
    ("self.backbone", "self.backbone", None),
    ("self", "self", "Block"),
    ("model", "model", "Sequential"),
])
def test_layers(index_and_calls, text, label, class_name):
    index, calls = index_and_calls
    callee = index.callee(calls[text])
    assert callee is not None and callee.label == label and callee.class_name == class_name


@pytest.mark.parametrize("text", ["self._helper", "self.fn", "self.inner", "self.tok", "layer", "self.f"])
def test_not_known_to_be_layers(index_and_calls, text):
    index, calls = index_and_calls
    assert index.callee(calls[text]) is None


def test_class_status(index_and_calls):
    index, _ = index_and_calls
    status = {name: index.class_status(info.node) for name, info in index.classes.items()}
    assert status == {"Block": Tri.YES, "Inner": Tri.YES, "Plain": Tri.NO, "Unknown": Tri.UNKNOWN}
    # An unknown base counts as a layer in a Keras file when the class defines call().
    assert index.is_layer_class(index.classes["Unknown"].node)
    assert not index.is_layer_class(index.classes["Plain"].node)


def _index(src):
    module = cst.parse_module(textwrap.dedent(src))
    imports = ImportTracker()
    walk(module, {cst.Import: [imports.visit_Import], cst.ImportFrom: [imports.visit_ImportFrom]}, {})
    calls = []
    walk(module, {cst.Call: [calls.append]}, {})
    return LayerCalls(module, imports), calls, module


def test_lambda_parameters_shadow_and_comprehensions_bind():
    index, calls, module = _index("""
    from tensorflow.keras import layers
    layer = layers.Dropout(0.1)
    blocks = [layers.Dense(2), layers.Dropout(0.2)]
    apply = lambda layer, x: layer(x)
    outs = [blk(x) for blk in blocks]
    """)
    found = {module.code_for_node(c.func): index.callee(c) for c in calls}
    assert found["layer"] is None  # the lambda's parameter, not the module's Dropout
    assert found["blk"] is not None and found["blk"].class_name is None  # Dense or Dropout
