"""The fixes of KM102, KM103, KM201, KM302, KM303, KM305 and KM401: where each
is offered and where not, the exact text it writes (nothing else changes), that
the result parses and is no longer flagged, and that a second --fix run
changes nothing. tests/test_fixture_runtime.py runs the fixed fixtures."""
import textwrap

import pytest

from kerasmode_lint import lint_source
from kerasmode_lint.engine.autofix import PythonFile, fix_file
from kerasmode_lint.engine.lint import parse
from kerasmode_lint.engine.fixes import apply_edits
from kerasmode_lint.engine.options import LintOptions


def findings(source, code, version):
    return [d for d in lint_source(source, "x.py", keras_version=version) if d.code == code]


def fixed(source, code, version, applicability):
    """``source`` with the rule's fixes applied (each finding has one), checked:
    it parses, the rule no longer reports it, and --fix leaves it as it is."""
    found = findings(source, code, version)
    assert found and all(d.fix is not None for d in found), [d.message for d in found]
    assert {d.fix.applicability for d in found} == {applicability}
    result = apply_edits(source, [e for d in found for e in d.fix.edits])
    parse(result)
    assert findings(result, code, version) == []
    options = LintOptions(enabled=frozenset({code}), keras_version=version)
    again, _, count = fix_file(PythonFile("x.py", result.encode()), options, True)
    assert count == 0 and again.data == result.encode()
    return result


def not_fixed(source, code, version):
    found = findings(source, code, version)
    assert found, "the rule must still report it"
    assert all(d.fix is None for d in found)


# -- KM102: add training=True in train_step -----------------------------------------
STEP = textwrap.dedent("""\
    import tensorflow as tf


    class Net(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.encoder = tf.keras.Sequential([tf.keras.layers.Dense(4), tf.keras.layers.Dropout(0.5)])

        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                y_pred = CALL
                loss = self.compute_loss(y=y, y_pred=y_pred)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            return {"loss": loss}
""")


@pytest.mark.parametrize("call, expected", [
    ("self(x)", "self(x, training=True)"),
    ("self.encoder(x)", "self.encoder(x, training=True)"),
    ("self(x, mask=m)  # why", "self(x, mask=m, training=True)  # why"),
    ("self(\n                x,\n            )", "self(\n                x, training=True,\n            )"),
])
@pytest.mark.parametrize("version", ["2", "3"])
def test_km102_adds_training_true(call, expected, version):
    source = STEP.replace("CALL", call)
    assert fixed(source, "KM102", version, "unsafe") == STEP.replace("CALL", expected)


@pytest.mark.parametrize("call", ["self(x, y)", "self(*batch)"])
def test_km102_no_fix_when_a_positional_argument_may_bind_training(call):
    # `self(x, y)`: y is the second parameter of call, maybe `training`.
    source = STEP.replace("CALL", call)
    found = findings(source, "KM102", "3")
    assert all(d.fix is None for d in found)


def test_km102_stateless_call_gets_the_keyword_after_its_three_positionals():
    source = STEP.replace(
        "CALL", "self.stateless_call(self.trainable_variables, self.non_trainable_variables, x)")
    out = fixed(source, "KM102", "3", "unsafe")
    assert "self.non_trainable_variables, x, training=True)" in out


# -- KM103: training=True -> training=False in evaluation code ----------------------
EVAL = textwrap.dedent("""\
    import tensorflow as tf

    model = tf.keras.Sequential([
        tf.keras.layers.Dense(64, activation="relu"),
        tf.keras.layers.BatchNormalization(),
        tf.keras.layers.Dropout(0.5),
        tf.keras.layers.Dense(10),
    ])


    def evaluate(dataset):
        for x, y in dataset:
            logits = model(x, training=True)  # measured
            acc.update_state(y, logits)
""")


@pytest.mark.parametrize("version", ["2", "3", "3.16"])
def test_km103_turns_true_into_false(version):
    assert fixed(EVAL, "KM103", version, "unsafe") == EVAL.replace("training=True", "training=False")


def test_km103_in_test_step():
    source = textwrap.dedent("""\
        import tensorflow as tf


        class Net(tf.keras.Model):
            def test_step(self, data):
                x, y = data
                y_pred = self(x, training = True)
                return {"loss": self.compute_loss(y=y, y_pred=y_pred)}
    """)
    assert fixed(source, "KM103", "3", "unsafe") == source.replace("training = True", "training = False")


def test_km103_no_fix_for_monte_carlo_sampling_with_batchnorm():
    source = EVAL.replace(
        "def evaluate(dataset):\n    for x, y in dataset:\n        logits = model(x, training=True)  # measured\n"
        "        acc.update_state(y, logits)\n",
        "def predict_with_uncertainty(x):\n    return [model(x, training=True) for _ in range(10)]\n")
    not_fixed(source, "KM103", "3")


# -- KM201: training=False on the frozen base's node -------------------------------
FROZEN = textwrap.dedent("""\
    from tensorflow import keras

    base = keras.applications.EfficientNetB0(weights="imagenet", include_top=False)
    base.trainable = False

    inputs = keras.Input(shape=(224, 224, 3))
    x = CALL
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(1)(x))
""")


@pytest.mark.parametrize("version", ["2", "3.16"])
@pytest.mark.parametrize("call, expected", [
    ("base(inputs)", "base(inputs, training=False)"),
    ("base(inputs,)", "base(inputs, training=False,)"),
    ("base(  # the backbone\n    inputs\n)", "base(  # the backbone\n    inputs, training=False\n)"),
])
def test_km201_adds_training_false_where_the_node_keeps_it(version, call, expected):
    assert fixed(FROZEN.replace("CALL", call), "KM201", version, "unsafe") == FROZEN.replace("CALL", expected)


def test_km201_no_fix_in_keras_3_0_to_3_15():
    # fit() overrides the node's training=False there (KM202): the wrapper layer is the fix.
    not_fixed(FROZEN.replace("CALL", "base(inputs)"), "KM201", "3")


def test_km201_no_fix_for_a_sequential_element():
    source = textwrap.dedent("""\
        from tensorflow import keras

        base = keras.applications.EfficientNetB0(weights="imagenet", include_top=False)
        base.trainable = False
        model = keras.Sequential([base, keras.layers.Dense(1)])
    """)
    not_fixed(source, "KM201", "2")


# -- KM302: training=None default ----------------------------------------------------
BLOCK = textwrap.dedent("""\
    import tensorflow as tf


    class Block(tf.keras.layers.Layer):
        def call(SIGNATURE):
            return self.dropout(x, training=training)
""")


@pytest.mark.parametrize("signature, expected", [
    ("self, x, training", "self, x, training=None"),
    ("self, x, training, mask=None", "self, x, training=None, mask=None"),
    ("self, x, *, training", "self, x, *, training=None"),
    ("self, x, training: bool", "self, x, training: bool = None"),
    ("self, x, training  # the mode\n        ", "self, x, training=None  # the mode\n        "),
    ("self, x, *, training, mask", "self, x, *, training=None, mask"),
])
@pytest.mark.parametrize("version", ["3", "3.16"])
def test_km302_gives_training_a_default(signature, expected, version):
    source = BLOCK.replace("SIGNATURE", signature)
    assert fixed(source, "KM302", version, "safe") == BLOCK.replace("SIGNATURE", expected)


def test_km302_no_fix_when_a_positional_parameter_without_default_follows():
    # `def call(self, x, training=None, mask)` would not parse.
    not_fixed(BLOCK.replace("SIGNATURE", "self, x, training, mask"), "KM302", "3")


def test_km302_fix_is_applied_by_plain_fix(tmp_path, monkeypatch, capsys):
    from kerasmode_lint.frontends.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.py").write_text(BLOCK.replace("SIGNATURE", "self, x, training"))
    assert main(["--keras-version", "3", "--fix", "a.py"]) == 0
    assert (tmp_path / "a.py").read_text() == BLOCK.replace("SIGNATURE", "self, x, training=None")
    assert capsys.readouterr().err == "Fixed 1 problem.\n"


# -- KM303: positional training -> keyword ---------------------------------------------
DENSE_BN = textwrap.dedent("""\
    import tensorflow as tf


    class DenseBN(tf.keras.layers.Layer):
        def __init__(self, units):
            super().__init__()
            self.dense = tf.keras.layers.Dense(units)
            self.bn = tf.keras.layers.BatchNormalization()
            self.drop = tf.keras.layers.Dropout(0.5)

        def call(self, x, training=None):
            return CALL
""")


@pytest.mark.parametrize("call, expected", [
    ("self.bn(self.dense(x), training)", "self.bn(self.dense(x), training=training)"),
    ("self.drop(x, True)", "self.drop(x, training=True)"),
    ("self.bn(x, training, mask=None)", "self.bn(x, training=training, mask=None)"),
    ("self.bn(x,  training )", "self.bn(x,  training=training )"),
])
@pytest.mark.parametrize("version", ["3", "3.16"])
def test_km303_passes_training_by_keyword_where_the_position_is_training(call, expected, version):
    source = DENSE_BN.replace("CALL", call)
    assert fixed(source, "KM303", version, "safe") == DENSE_BN.replace("CALL", expected)


def test_km303_custom_call_whose_second_parameter_is_training():
    source = textwrap.dedent("""\
        import tensorflow as tf


        class Noisy(tf.keras.layers.Layer):
            def call(self, x, training=None):
                return x


        class Head(tf.keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.noisy = Noisy()

            def call(self, x, training=None):
                return self.noisy(x, training)
    """)
    assert fixed(source, "KM303", "3", "safe").endswith("self.noisy(x, training=training)\n")


@pytest.mark.parametrize("version", ["2", "3"])
def test_km303_no_fix_where_the_position_binds_elsewhere(version):
    lstm = "import tensorflow as tf\n\nlstm = tf.keras.layers.LSTM(4)\ny = lstm(x, True)\n"  # initial_state
    not_fixed(lstm, "KM303", version)
    masked = textwrap.dedent("""\
        import tensorflow as tf


        class Gate(tf.keras.layers.Layer):
            def call(self, x, mask=None, training=None):
                return x


        class Head(tf.keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.gate = Gate()

            def call(self, x, training=None):
                return self.gate(x, True)
    """)
    not_fixed(masked, "KM303", version)


def test_km303_no_fix_when_a_positional_argument_follows():
    not_fixed(DENSE_BN.replace("CALL", "self.bn(x, training, None)"), "KM303", "3")


# -- KM305: drop training=None -----------------------------------------------------------
CLASSIFIER = textwrap.dedent("""\
    import tensorflow as tf


    class Classifier(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.block = tf.keras.Sequential([tf.keras.layers.Dense(16), tf.keras.layers.Dropout(0.5)])

        def call(self, x, training=None):
            return CALL
""")


@pytest.mark.parametrize("call, expected", [
    ("self.block(x, training=None)", "self.block(x)"),
    ("self.block(x, training = None)  # note", "self.block(x)  # note"),
    ("self.block(x, training=None, mask=m)", "self.block(x, mask=m)"),
    ("self.block(x, training=None,)", "self.block(x,)"),
    ("self.block(\n            x,\n            training=None,\n        )", "self.block(\n            x,\n        )"),
    ("self.block(inputs=x, training=None)", "self.block(inputs=x)"),
    ("self.block(training=None, inputs=x)", "self.block(inputs=x)"),
])
@pytest.mark.parametrize("version", ["3", "3.16"])
def test_km305_removes_training_none(call, expected, version):
    source = CLASSIFIER.replace("CALL", call)
    assert fixed(source, "KM305", version, "unsafe") == CLASSIFIER.replace("CALL", expected)


def test_km305_augmentation_default():
    source = "import tensorflow as tf\n\nflip = tf.keras.layers.RandomFlip()\ny = flip(images, training=None)\n"
    assert fixed(source, "KM305", "3", "unsafe") == source.replace(", training=None", "")


def test_km305_no_fix_when_a_comment_would_go():
    not_fixed(CLASSIFIER.replace("CALL", "self.block(\n            x,  # features\n            training=None)"),
              "KM305", "3")


# -- KM401: remove set_learning_phase(0) ---------------------------------------------------
PHASE = textwrap.dedent("""\
    import tensorflow as tf


    def predict(model, images):
        # inference
        STATEMENT
        return model.predict(images)
""")


@pytest.mark.parametrize("statement, expected", [
    ("tf.keras.backend.set_learning_phase(0)\n", ""),
    ("tf.keras.backend.set_learning_phase(False)\n", ""),
    ("tf.keras.backend.set_learning_phase(0)  # no dropout\n", "# no dropout\n"),
])
@pytest.mark.parametrize("version", ["2", "3"])
def test_km401_removes_an_inference_phase_statement(statement, expected, version):
    source = PHASE.replace("STATEMENT\n", statement)
    out = fixed(source, "KM401", version, "unsafe")
    assert out == PHASE.replace("    STATEMENT\n", "    " + expected if expected else "")


def test_km401_alone_in_its_block_becomes_pass():
    source = textwrap.dedent("""\
        import tensorflow as tf
        from tensorflow.keras import backend as K


        def setup():
            K.set_learning_phase(0)


        setup()
        model.predict(x)
    """)
    assert fixed(source, "KM401", "3", "unsafe") == source.replace("K.set_learning_phase(0)", "pass")


def test_km401_last_line_without_a_newline():
    source = "import tensorflow as tf\nmodel.predict(x)\ntf.keras.backend.set_learning_phase(0)"
    assert fixed(source, "KM401", "3", "unsafe") == "import tensorflow as tf\nmodel.predict(x)\n"


@pytest.mark.parametrize("source", [
    # The training phase: what it meant must go to the calls as training=True.
    "import tensorflow as tf\ntf.keras.backend.set_learning_phase(1)\nmodel.predict(x)\n",
    # Not a statement of its own.
    "import tensorflow as tf\nphase = tf.keras.backend.set_learning_phase(0)\nmodel.predict(x)\n",
    "import tensorflow as tf\nx = 1; tf.keras.backend.set_learning_phase(0)\nmodel.predict(x)\n",
    # learning_phase() and learning_phase_scope: no mechanical replacement.
    "import tensorflow as tf\ny = model(x, training=tf.keras.backend.learning_phase())\nmodel.predict(x)\n",
    "from tensorflow.keras import backend as K\nwith K.learning_phase_scope(0):\n    model.predict(x)\n",
])
def test_km401_no_fix(source):
    not_fixed(source, "KM401", "3")


# -- whole-line removal in notebooks, and fixes that change nothing -------------------------
def test_km401_removal_at_the_end_of_a_notebook_cell(tmp_path, monkeypatch, capsys):
    import json

    from kerasmode_lint.frontends.cli import main

    def cell(*lines):
        return {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": list(lines)}

    notebook = {"cells": [
        cell("import tensorflow as tf\n", "tf.keras.backend.set_learning_phase(0)"),  # last line, no newline
        cell("tf.keras.backend.set_learning_phase(0)\n", "model.predict(x)"),
        cell("model.predict(x)\n", "tf.keras.backend.set_learning_phase(0)\n"),  # the notebook's last line
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.ipynb").write_text(json.dumps(notebook, indent=1))
    assert main(["--keras-version", "3", "--no-cache", "--fix", "--unsafe-fixes", "a.ipynb"]) == 0
    assert capsys.readouterr().err == "Fixed 3 problems.\n"
    cells = json.loads((tmp_path / "a.ipynb").read_text())["cells"]
    assert ["".join(c["source"]) for c in cells] == ["import tensorflow as tf\n", "model.predict(x)", "model.predict(x)\n"]


def test_a_fix_that_changes_nothing_is_not_counted(monkeypatch):
    from kerasmode_lint.engine.fixes import Fix, insert_after
    from kerasmode_lint.rules import km101_tape_call_without_training as km101

    monkeypatch.setattr(km101, "_add_training_true", lambda call: Fix.unsafe("Nothing", [insert_after(call.func, "")]))
    source = textwrap.dedent("""\
        import tensorflow as tf
        with tf.GradientTape() as tape:
            pred = model(x)
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
    """)
    out, result, count = fix_file(PythonFile("a.py", source.encode()), LintOptions(keras_version="3"), True)
    assert count == 0 and out.data == source.encode()
    assert [d.code for d in result.diagnostics] == ["KM101"]


# -- --statistics and --exit-non-zero-on-fix with the new fixes ------------------------------
SAFE_AND_UNSAFE = textwrap.dedent("""\
    import tensorflow as tf


    class Block(tf.keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.inner = tf.keras.Sequential([tf.keras.layers.Dense(4), tf.keras.layers.Dropout(0.5)])

        def call(self, x, training):
            return self.inner(x, training=None)
""")


def test_statistics_count_safe_and_unsafe_fixes(tmp_path, monkeypatch, capsys):
    import json

    from kerasmode_lint.frontends.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.py").write_text(SAFE_AND_UNSAFE)
    assert main(["--keras-version", "3", "--statistics", "--output-format", "json", "a.py"]) == 1
    rows = {r["code"]: r for r in json.loads(capsys.readouterr().out)}
    assert (rows["KM302"]["fixable"], rows["KM302"]["unsafe_fixable"]) == (1, 0)
    assert (rows["KM305"]["fixable"], rows["KM305"]["unsafe_fixable"]) == (0, 1)
    assert main(["--keras-version", "3", "a.py"]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == "1 fixable with `--fix`; 1 more with `--fix --unsafe-fixes`."


def test_exit_non_zero_on_fix_with_a_safe_fix(tmp_path, monkeypatch, capsys):
    from kerasmode_lint.frontends.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.py").write_text(SAFE_AND_UNSAFE)
    assert main(["--keras-version", "3", "--fix", "--exit-non-zero-on-fix", "a.py"]) == 1
    assert "def call(self, x, training=None):" in (tmp_path / "a.py").read_text()
    assert "training=None)" in (tmp_path / "a.py").read_text()  # the unsafe one waits for --unsafe-fixes
    capsys.readouterr()
    assert main(["--keras-version", "3", "--fix", "--unsafe-fixes", "--exit-non-zero-on-fix", "a.py"]) == 1
    assert (tmp_path / "a.py").read_text() == SAFE_AND_UNSAFE.replace(
        "x, training):", "x, training=None):").replace("self.inner(x, training=None)", "self.inner(x)")
    capsys.readouterr()
    assert main(["--keras-version", "3", "--fix", "--unsafe-fixes", "--exit-non-zero-on-fix", "a.py"]) == 0
