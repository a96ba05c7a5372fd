"""Rules that stay quiet in Keras's own sources and in test modules (file_kinds.py)."""
import textwrap

from kerasmode_lint import lint_source
from kerasmode_lint.analysis.file_kinds import KERAS_ITSELF, TEST, kinds_of

LEARNING_PHASE = textwrap.dedent("""
    from tf_keras import backend

    def call_dropout(inputs, training=None):
        if training is None:
            training = backend.learning_phase()
        return inputs, training
""")

DEFAULT_TRUE = textwrap.dedent("""
    import tensorflow as tf

    class CustomLayerDefaultTrainingTrue(tf.keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.drop = tf.keras.layers.Dropout(0.5)

        def call(self, inputs, training=True):
            return self.drop(inputs, training=training)
""")


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def _codes(path, version="2"):
    with open(path) as handle:
        return [d.code for d in lint_source(handle.read(), path, keras_version=version)]


def test_kinds(tmp_path):
    _write(tmp_path / "tf_keras" / "__init__.py", "")
    inside = _write(tmp_path / "tf_keras" / "layers" / "dropout.py", LEARNING_PHASE)
    _write(tmp_path / "tf_keras" / "layers" / "__init__.py", "")
    assert kinds_of(inside) == {KERAS_ITSELF}
    assert kinds_of(str(tmp_path / "tf_keras" / "backend_test.py")) == {KERAS_ITSELF, TEST}
    assert kinds_of(str(tmp_path / "src" / "train.py")) == frozenset()
    assert kinds_of(str(tmp_path / "tests" / "test_model.py")) == {TEST}
    assert kinds_of("-") == frozenset()


def test_learning_phase_inside_keras_itself_is_the_implementation(tmp_path):
    _write(tmp_path / "tf_keras" / "__init__.py", "")
    _write(tmp_path / "tf_keras" / "layers" / "__init__.py", "")
    inside = _write(tmp_path / "tf_keras" / "layers" / "dropout.py", LEARNING_PHASE)
    assert _codes(inside, "3") == []
    # The same code in a user's project is a use of the API (Keras 3: it raises).
    outside = _write(tmp_path / "project" / "layers.py", LEARNING_PHASE)
    assert _codes(outside, "3") == ["KM401"]
    # A user package that happens to contain a keras-named sub-package is not Keras.
    _write(tmp_path / "app" / "__init__.py", "")
    _write(tmp_path / "app" / "keras" / "__init__.py", "")
    nested = _write(tmp_path / "app" / "keras" / "phase.py", LEARNING_PHASE)
    assert _codes(nested, "3") == ["KM401"]


def test_deliberate_patterns_in_test_modules(tmp_path):
    in_test = _write(tmp_path / "tests" / "test_layers.py", DEFAULT_TRUE)
    assert _codes(in_test, "3") == []
    in_code = _write(tmp_path / "src" / "layers.py", DEFAULT_TRUE)
    assert _codes(in_code, "3") == ["KM301"]


def test_cli_agrees(tmp_path, capsys):
    from kerasmode_lint.frontends.cli import main as cli_main

    _write(tmp_path / "tests" / "test_layers.py", DEFAULT_TRUE)
    _write(tmp_path / "src" / "layers.py", DEFAULT_TRUE)
    code = cli_main(["--no-cache", "--keras-version", "3", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1
    assert "layers.py" in out and "test_layers.py" not in out
