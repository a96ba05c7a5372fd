"""The screens: finer byte tests for rules whose trigger words are common.

A screen may let a file through that the rule leaves alone, never hide one it
reports; the on/off comparison lives in test_prefilter.py. Here: that each
screen does narrow (so the speed it buys is not lost by a later edit), and
that it says yes wherever it cannot tell.
"""
import subprocess
import sys
from pathlib import Path

import pytest

from kerasmode_lint.engine import screens
from kerasmode_lint.engine.screens import _opening_bracket

KERAS = b"import keras\n"


def passes(screen, source: bytes) -> bool:
    return screen.matches(source)


@pytest.mark.parametrize("source", [
    b"def call(self, x, training):\n",
    b"def call(self, x, training: bool):\n",
    b"def  call (\n    self,\n    x,\n    training,  # the mode\n):\n",
    b"async def call(self, x, *, training):\n",
    b"def call(self, x, training\n):\n",
])
def test_call_training_without_default_passes(source):
    assert passes(screens.CALL_TRAINING_WITHOUT_DEFAULT, source)


@pytest.mark.parametrize("source", [
    b"def call(self, x, training=None):\n",
    b"def call(self, x, training: bool = False):\n",
    b"def call(self, x):\n    return self.d(x, training=training)\n",
    b"def fit(self, x, training):\n",
])
def test_call_training_without_default_narrows(source):
    assert not passes(screens.CALL_TRAINING_WITHOUT_DEFAULT, source)


MODEL = b"class Net(keras.Model):\n"


@pytest.mark.parametrize("source,expected", [
    (MODEL + b"    def call(self, x):\n", True),
    (MODEL + b"    def call(self, x, mask=None, **kwargs):\n", True),
    (MODEL + b"    def call(self, x, training=None):\n", False),
    (MODEL + b"    def call(self, x, is_training):\n", False),
    (MODEL + b"    def call(self, x, *, train_mode: bool = False):\n", False),
    # A nested call, a string or a comment in the signature: unsure, yes.
    (MODEL + b"    def call(self, x, k=f(a, training=1), training=None):\n", True),
    (MODEL + b"    def call(self, x, training=None, mode='a)'):\n", True),
    (MODEL + b"    def call(self, x,  # training comes later\n", True),
    # An annotation naming "training" is not a parameter named so.
    (MODEL + b"    def call(self, x: TrainingInput):\n", True),
    # Which class may be a Keras model.
    (b"class Net(layers.Layer):\n    def call(self, x):\n", False),
    (b"class Net(mixin(x), keras.Model):\n    def call(self, x):\n", True),
    (b"class Net(\n    keras.models.Model,\n):\n    def call(self, x):\n", True),
    (b"from keras import Model as M\nclass Net(M):\n    def call(self, x):\n", True),
    (b"Base = tf.keras.Model\nclass Net(Base):\n    def call(self, x):\n", True),
    (b"if kind == Model:\n    pass\nclass Net(Base):\n    def call(self, x):\n", False),
    (b"# see Model\nclass Net(Layer):\n    def call(self, x):\n", False),
    (b"class Net(Base, metaclass=Meta" + b" " * 3000 + b"):\n    def call(self, x):\n", True),
])
def test_model_call_without_flag(source, expected):
    assert passes(screens.MODEL_CALL_WITHOUT_FLAG, source) is expected


FIT = b"m.compile()\nm.fit(x)\n"


@pytest.mark.parametrize("source", [
    b"model.trainable = False\n",
    b"model . trainable=True\n",
    b"model.\\\n    trainable = True\n",
    b"layer.trainable: bool = False\n",
    b"make_trainable(D, False)\n",
    b"set_trainable(D, False)\n",
    b"D.setTrainable (False)\n",
    b"freeze_all(base)  # trainable\n",
    b"Unfreeze(base)  # trainable\n",
    b"BatchNormalization(trainable=False)\n",
    b"BatchNormalization(trainable = not True)\n",
])
def test_trainable_change_passes(source):
    assert passes(screens.TRAINABLE_CHANGE_BEFORE_FIT, source + FIT)
    assert passes(screens.BATCHNORM_FREEZE_CHANGE, source + b"# bn\n")


@pytest.mark.parametrize("source", [
    b"Dense(3, trainable=trainable)\n",
    b"if layer.trainable == False:\n    pass\n",
    b"print(model.trainable)\n",
    b"antifreeze_trainable = 1\n",
])
def test_trainable_change_narrows(source):
    assert not passes(screens.TRAINABLE_CHANGE_BEFORE_FIT, source + FIT)
    assert not passes(screens.BATCHNORM_FREEZE_CHANGE, source + b"# bn\n")


def test_km501_km502_need_a_compile_and_a_training_call():
    assert not passes(screens.TRAINABLE_CHANGE_BEFORE_FIT, b"model.trainable = False\nm.fit(x)\n")
    assert not passes(screens.TRAINABLE_CHANGE_BEFORE_FIT, b"model.trainable = False\nm.compile()\n")
    assert passes(screens.TRAINABLE_CHANGE_BEFORE_FIT, b"m.trainable = False\nm.compile()\nm.train_on_batch(x)\n")


@pytest.mark.parametrize("name", [b"BatchNormalization", b"layer.name == 'conv1_bn'", b"'batch_norm'", b"BN"])
def test_km503_needs_batchnorm_text(name):
    assert passes(screens.BATCHNORM_FREEZE_CHANGE, b"m.trainable = True\n" + name)
    assert not passes(screens.BATCHNORM_FREEZE_CHANGE, b"m.trainable = True\nabnormal\n")


@pytest.mark.parametrize("source", [
    b"layer = Dense(3)\ny = layer(x, True)\n",
    b"y = self.bn(x, training)\nself.bn = BatchNormalization()\n",
    b"y = self(x, False)\n",
    b"y = Dropout(0.5)(x, True)\n",
    b"y = blocks[0](x, is_training)\n",
    b"model = f()\ny = model(\n    x,\n    # comment\n    True,\n)\n",
    b"model = f()\ny = model(x, (True))\n",
    b"model = f()\ny = model(x, self.training)\n",
    b"model = f()\ny = model(f(g(x), 'a,b'), True)\n",
    b"y = model('''doc''', x, True)\n",  # a triple-quoted string: unsure, so yes
    b"y = (a if c else b)(x, False)\n",
])
def test_positional_flag_to_layer_passes(source):
    assert passes(screens.POSITIONAL_FLAG_TO_LAYER, KERAS + source)


@pytest.mark.parametrize("source", [
    b"y = np.mean(x, 0, True)\n",
    b"self.assertEqual(x, False)\n",
    b"cases = [(x, True), (y, False)]\n",
    b"return (x, True)\n",
    b"y = isinstance(x, bool) or getattr(x, 'training', False)\n",
    b"def block(x, training):\n    pass\n",
    b"y = layer(x, training=True)\n",
    b"y = self.helper.run(x, True)\n",
])
def test_positional_flag_to_layer_narrows(source):
    assert not passes(screens.POSITIONAL_FLAG_TO_LAYER, KERAS + source)


def test_positional_flag_needs_keras():
    assert not passes(screens.POSITIONAL_FLAG_TO_LAYER, b"layer = Dense(3)\ny = layer(x, True)\n")


def test_opening_bracket_skips_strings_and_comments():
    data = b"f(a, ')', g(b), # )\n  c, True)"
    assert _opening_bracket(data, data.index(b", True")) == 1
    assert _opening_bracket(b"x, True", 1) == -1
    multi = b'f("""a\n)""", True)'
    assert _opening_bracket(multi, multi.index(b", True")) == -2


@pytest.mark.parametrize("source,expected", [
    (b"def call(self, x, training=True):\n", True),
    (b"def call(\n    self,\n    x,\n    training: bool = True,  # on\n) -> Tensor:\n", True),
    (b"def call(self, x, mask=f(1), training=(True)):\n", True),
    (b"def call(self, x, training=None):\n    return self.d(x, training=True)\n", False),
    (b"def build(self, training=True):\n", False),
])
def test_call_default_training_true(source, expected):
    assert passes(screens.CALL_DEFAULT_TRAINING_TRUE, source) is expected


@pytest.mark.parametrize("source,expected", [
    (b"i = keras.Input((3,))\ny = base(i, training=False)\nm = keras.Model(i, y)\n", True),
    (b"y = base(b.output, training = True)\nclass M(Functional): pass\n", True),
    (b"inputs = layers.Input((3,))\ny = base(inputs, training=False)\nsuper().__init__(inputs, y)\n", True),
    (b"i = keras.Input((3,))\ny = base(i, training=False)\n", False),
    (b"i = keras.Input((3,))\ny = base(i, training=training)\nm = keras.Model(i, y)\n", False),
    (b"y = self(x, training=False)\nm = keras.Model(a, b)\n", False),  # nothing symbolic
])
def test_functional_node_pin(source, expected):
    assert passes(screens.FUNCTIONAL_NODE_PIN, source) is expected


@pytest.mark.parametrize("source,expected", [
    (b"def call(self, x):\n    h = self.base(x, training=False)\n", True),
    (b"def call(self, x):\n    h = self.base(x, training=None)\n", True),
    (b"def call(self, x):\n    h = self.drop(x, training=True)\n", True),
    (b"h = base(x, training=False)\n", False),
])
def test_pin_inside_call(source, expected):
    assert passes(screens.PIN_INSIDE_CALL, source) is expected


@pytest.mark.parametrize("source,expected", [
    (b"bn = BatchNormalization()\ny = bn(x, training=True)\n", True),
    (b"base = ResNet50()\ny = base(x, training=True)\n", True),
    (b"d = Dropout(0.5)\ny = d(x, training=True)\n", False),
])
def test_batchnorm_pinned(source, expected):
    assert passes(screens.BATCHNORM_PINNED, source) is expected


@pytest.mark.parametrize("path,source,expected", [
    ("eval.py", b"def evaluate(m):\n    y = model(x, training=True)\n", True),
    ("", b"def evaluate(m):\n    y = model(x, training=True)\n", True),
    ("pkg/model_test.py", b"def test_eval(m):\n    y = model(x, training=True)\n", False),
    ("tests/test_model.py", b"def test_step(self, d):\n    y = self(x, training=True)\n", True),
])
def test_evaluation_pin(path, source, expected):
    assert screens.EVALUATION_PIN.matches(source, path) is expected


@pytest.mark.parametrize("source,expected", [
    (b"base.trainable = False\nmodel = keras.Sequential([base])\n", True),
    (b"base.trainable=False\ny = base(i)\nm = keras.Model(keras.Input((3,)), y)\n", True),
    (b"base = ResNet50(trainable=False)\nmodel = keras.Sequential([base])\n", True),
    (b"base.trainable = False\nbase.compile()\n", False),
    (b"self.w = self.add_weight(shape=(), trainable=False)\nmodel = keras.Sequential([a])\n", False),
])
def test_frozen_model_used(source, expected):
    assert passes(screens.FROZEN_MODEL_USED, source) is expected


@pytest.mark.parametrize("source,expected", [
    (b"y = knp.LogicalAnd()(x, True)\nfrom keras.src.ops import numpy as knp\n", False),
    (b"y = layers.Dropout(0.5)(x, True)\n", True),
    (b"from keras.src import layers as L\ny = L.Dropout(0.5)(x, True)\n", True),
    (b"from keras_hub import models as hm\ny = hm.Backbone(x)(x, True)\n", True),
    (b"y = MyBlock()(x, True)\n", True),
    (b"y = can_use(params, True)\n", False),  # a function, never assigned
    (b"layer = Dense(3)\ny = layer(x, True)\n", True),
    (b"for block in self.blocks:\n    x = block(x, False)\n", True),
])
def test_positional_flag_callee(source, expected):
    assert passes(screens.POSITIONAL_FLAG_TO_LAYER, KERAS + source) is expected


def test_call_method_needs_no_training_parameter():
    """KM306 also reports a model whose call has no `training` at all."""
    assert passes(screens.CALL_METHOD, b"class M(keras.Model):\n    def call(self, x):\n        return self.bn(x)\n")
    assert not passes(screens.CALL_METHOD, b"def caller(x):\n    return call(x)\n")


@pytest.mark.parametrize("source,expected", [
    (b"y = model(x, training=True)\ndef evaluate(model, ds):\n    pass\n", True),
    (b"y = model(x, training=True)\nfor x, y in val_ds:\n    pass\n", True),
    (b"def runValidation():\n    y = model(x, training=True)\n", True),
    (b"def call(self, x):\n    return self.aug(x, training=True)\n", False),
])
def test_evaluation_pin_needs_an_evaluation_place(source, expected):
    assert screens.EVALUATION_PIN.matches(source, "model.py") is expected


@pytest.mark.parametrize("source,expected", [
    (b"class M(keras.Model):\n    def train_step(self, data):\n        pass\n", True),
    (b"def on_train_step_end(self):\n    pass\n", False),
    (b"self._train_step = make()\n", False),
])
def test_train_step_method(source, expected):
    assert passes(screens.TRAIN_STEP_METHOD, source) is expected


@pytest.mark.parametrize("text,expected", [
    (b"y = self.bn", (b"self.bn", 4)),
    (b"y = self . bn  ", (b"self.bn", 4)),
    (b"return foo", (b"foo", 7)),
    (b"x = (a + b)", None),
    (b"x = 3", None),
    (b"keras.layers.\\\n    Dense", (b"keras.layers.Dense", 0)),
])
def test_dotted_before(text, expected):
    assert screens._dotted_before(text) == expected


BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "screen_adversarial.py"


def test_no_input_makes_a_screen_slow():
    """Every screen, the parts it may skip, and the flake8 plugin's noqa test
    on 1 MB adversarial inputs (long runs of each character class after each
    word the patterns start from): within 20x ast.parse + 0.5 s, and about
    linear (twice the input, at most three times the time). Run in a child
    process, so that a pattern that backtracks fails the test instead of
    hanging it."""
    try:
        done = subprocess.run([sys.executable, str(BENCHMARK), "--check"], capture_output=True, text=True,
                              timeout=300)
    except subprocess.TimeoutExpired:
        pytest.fail("the screens did not finish on the adversarial inputs within 300 s")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("text, expected", [
    ("x = 1  # noqa: KM101\n", True),
    ("x = 1  # NOQA:km101\n", True),
    ("x = 1  # noqa: E501\ny = 'KM101'\n", False),
    ("x = 1  # noqa # noqa: KM3\n", True),
    ("KM101 # noqa\n", False),
])
def test_flake8_noqa_test(text, expected):
    from kerasmode_lint.frontends.flake8_plugin import has_our_noqa

    assert has_our_noqa(text) is expected
