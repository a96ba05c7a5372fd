"""Keras backend resolution: option/config > KERAS_BACKEND set in the file's
code > environment KERAS_BACKEND > keras.json (under KERAS_HOME) > tensorflow,
and the ``--keras-backend`` / ``keras-backend`` settings that feed it."""
import json
import os
import textwrap

import pytest

from kerasmode_lint.engine import backends
from kerasmode_lint import lint_source
from kerasmode_lint.engine.backends import parse_keras_backend, resolve_backend
from kerasmode_lint.frontends.cli import main
from kerasmode_lint.engine.lint import LintOptions, lint_bytes
from kerasmode_lint.engine.rule import Rule
from kerasmode_lint.rules import ALL_RULES


def backend(source=b"", setting="auto"):
    return resolve_backend(setting, source).backend


def write_keras_json(directory, content):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "keras.json"), "w") as handle:
        handle.write(content if isinstance(content, str) else json.dumps(content))
    backends.clear_caches()


# --- the order ------------------------------------------------------------------

def test_default_is_tensorflow():
    resolved = resolve_backend("auto", b"import keras\n")
    assert resolved.backend == "tensorflow" and "default" in resolved.reason


def test_keras_json_under_keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    write_keras_json(tmp_path, {"backend": "jax", "floatx": "float32"})
    resolved = resolve_backend("auto", b"")
    assert resolved.backend == "jax" and str(tmp_path) in resolved.reason


def test_keras_json_in_home_dot_keras_when_no_keras_home(tmp_path, monkeypatch):
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    write_keras_json(tmp_path / ".keras", {"backend": "torch"})
    assert backend() == "torch"


@pytest.mark.parametrize("content", ["{not json", "[]", '{"backend": ""}', '{"floatx": "float32"}'])
def test_broken_or_silent_keras_json_falls_back_to_tensorflow(tmp_path, monkeypatch, content):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    write_keras_json(tmp_path, content)
    assert backend() == "tensorflow"


def test_environment_beats_keras_json(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    write_keras_json(tmp_path, {"backend": "torch"})
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    resolved = resolve_backend("auto", b"")
    assert resolved.backend == "jax" and "environment" in resolved.reason


def test_empty_environment_variable_is_ignored(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "")  # Keras ignores it too
    assert backend() == "tensorflow"


def test_code_beats_environment(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    src = b'import os\nos.environ["KERAS_BACKEND"] = "jax"\nimport keras\n'
    resolved = resolve_backend("auto", src)
    assert resolved.backend == "jax" and "line 2" in resolved.reason


def test_setdefault_in_code_yields_to_environment(monkeypatch):
    src = b'import os\nos.environ.setdefault("KERAS_BACKEND", "jax")\n'
    assert backend(src) == "jax"
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    assert backend(src) == "tensorflow"


def test_setdefault_in_code_beats_keras_json(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    write_keras_json(tmp_path, {"backend": "torch"})
    assert backend(b'os.environ.setdefault("KERAS_BACKEND", "jax")\n') == "jax"


def test_setting_beats_everything(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    src = b'os.environ["KERAS_BACKEND"] = "jax"\n'
    resolved = resolve_backend("tensorflow", src, setting_origin="--keras-backend")
    assert resolved.backend == "tensorflow" and resolved.reason == "set by --keras-backend"


# --- what counts as setting it in code -------------------------------------------

@pytest.mark.parametrize("line", [
    'os.environ["KERAS_BACKEND"] = "jax"',
    "os.environ['KERAS_BACKEND']='jax'",
    'environ["KERAS_BACKEND"] = "JAX"',
    'os.putenv("KERAS_BACKEND", "jax")',
    'os.environ.update(KERAS_BACKEND="jax")',
    'os.environ.update({"KERAS_BACKEND": "jax", "XLA_FLAGS": ""})',
    '%env KERAS_BACKEND=jax',
    '%set_env KERAS_BACKEND jax',
    'keras.config.set_backend("jax")',
    'os.environ.setdefault("KERAS_BACKEND", "jax")',
])
def test_code_forms(line):
    assert backend(f"import os\n{line}\n".encode()) == "jax"


@pytest.mark.parametrize("line", [
    '# os.environ["KERAS_BACKEND"] = "jax"',
    'os.environ["KERAS_BACKEND"] = backend_name',  # not a literal
    'os.environ["KERAS_BACKEND"] = "mxnet"',        # not a Keras 3 backend
    'print(os.environ["KERAS_BACKEND"])',
    'if os.environ.get("KERAS_BACKEND") == "jax": pass',
])
def test_not_code_signals(line):
    assert backend(f"import os\n{line}\n".encode()) == "tensorflow"


def test_first_setting_in_the_file_wins():
    src = b'os.environ["KERAS_BACKEND"] = "torch"\nkeras.config.set_backend("jax")\n'
    assert backend(src) == "torch"


# --- settings ---------------------------------------------------------------------

@pytest.mark.parametrize("text", ["auto", "jax", " JAX ", "tensorflow", "torch", "numpy", "openvino"])
def test_parse_valid(text):
    assert parse_keras_backend(text) == text.strip().lower()


@pytest.mark.parametrize("text", ["", "mxnet", "tf", 3, None])
def test_parse_invalid(text):
    with pytest.raises(ValueError):
        parse_keras_backend(text)


def test_lint_source_rejects_invalid_backend():
    with pytest.raises(ValueError):
        lint_source("x = 1\n", keras_backend="theano")


def _show_settings(capsys, *args):
    assert main([*args, "--show-settings"]) == 0
    return [l.strip() for l in capsys.readouterr().out.splitlines() if "keras-backend" in l]


def test_show_settings_reports_the_resolved_backend(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = tmp_path / "train.py"
    code.write_text('import os\nos.environ["KERAS_BACKEND"] = "jax"\n')
    plain = tmp_path / "plain.py"
    plain.write_text("import keras\n")
    lines = _show_settings(capsys, str(code), str(plain))
    assert lines[0] == "keras-backend: jax (KERAS_BACKEND set in the file (line 2))"
    assert lines[1].startswith("keras-backend: tensorflow (default")
    assert _show_settings(capsys, "--keras-backend", "torch", str(code)) == [
        "keras-backend: torch (set by --keras-backend)"]


def test_config_key(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.kerasmode-lint]\nkeras-backend = "jax"\n')
    (tmp_path / "m.py").write_text("import keras\n")
    [line] = _show_settings(capsys, str(tmp_path / "m.py"))
    assert line == f"keras-backend: jax (set by keras-backend in {tmp_path / 'pyproject.toml'})"
    # the command-line option beats the config
    assert _show_settings(capsys, "--keras-backend", "tensorflow", str(tmp_path / "m.py")) == [
        "keras-backend: tensorflow (set by --keras-backend)"]


def test_config_key_invalid_value_is_an_error(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.kerasmode-lint]\nkeras-backend = "theano"\n')
    (tmp_path / "m.py").write_text("import keras\n")
    assert main([str(tmp_path / "m.py")]) == 2
    err = capsys.readouterr().err
    assert "keras-backend" in err and "theano" in err


def test_invalid_option_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "m.py").write_text("import keras\n")
    assert main(["--keras-backend", "mxnet", str(tmp_path / "m.py")]) == 2
    assert "mxnet" in capsys.readouterr().err


# --- the engine: backend-specific rules run only on their backends ----------------

class _JaxOnly(Rule):
    code = "KM999"
    name = "jax-only-probe"
    summary = "probe"
    versions = ALL_RULES[0].versions
    triggers = (b"probe",)
    backends = frozenset({"jax"})

    def visit_Name(self, node):
        if node.value == "probe":
            self.report(node, f"backend={self.context.keras_backend}")


@pytest.fixture
def jax_only_rule(monkeypatch):
    from helpers import add_rules

    add_rules(monkeypatch, _JaxOnly)
    return LintOptions(enabled=frozenset({"KM999"}), keras_version="3")


def test_backend_rule_runs_only_on_its_backend(jax_only_rule):
    opts = jax_only_rule
    assert lint_bytes(b"probe\n", "x.py", opts).diagnostics == []
    [diag] = lint_bytes(b'import os\nos.environ["KERAS_BACKEND"] = "jax"\nprobe\n', "x.py", opts).diagnostics
    assert diag.message == "backend=jax"
    from dataclasses import replace

    [diag] = lint_bytes(b"probe\n", "x.py", replace(opts, keras_backend="jax")).diagnostics
    assert diag.message == "backend=jax"


def test_environment_reaches_the_rules(jax_only_rule, monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    assert [d.message for d in lint_bytes(b"probe\n", "x.py", jax_only_rule).diagnostics] == ["backend=jax"]


def test_existing_rules_declare_no_backend_unless_backend_specific():
    for rule in ALL_RULES:
        assert rule.backends is None or rule.backends <= set(backends.BACKENDS), rule.code


def test_source_text_decoding_does_not_matter():
    src = textwrap.dedent('''\
        # -*- coding: latin-1 -*-
        import os
        os.environ["KERAS_BACKEND"] = "jax"  # caf\xe9
    ''').encode("latin-1")
    assert backend(src) == "jax"
