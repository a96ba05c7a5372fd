"""Settings resolved per file, the same way for every entry point: config
files per folder, --config, --isolated, run-level settings, --python, the
Keras decision shown by --show-settings, the "assumed" wording, and a cache
that never outlives a change to any input of the resolution."""
from __future__ import annotations

import io
import json
import os
import textwrap

import pytest

from helpers import FLAGGED
from kerasmode_lint.frontends import cli

# KM302 applies to Keras 3 only, KM101 to every version: together they show
# which version and which config a file got.
KERAS3_ONLY = textwrap.dedent("""\
    import keras


    class Block(keras.layers.Layer):
        def call(self, x, training):
            return x
""")
BOTH = KERAS3_ONLY + FLAGGED.replace("import tensorflow as tf\n", "import tensorflow as tf\n\n")

# KM306: Keras 3.0-3.15 with the JAX backend only.
JAX_ONLY = textwrap.dedent("""\
    import keras


    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(16)
            self.dropout = keras.layers.Dropout(0.5)

        def call(self, x, training=None):
            return self.dropout(self.dense(x))
""")


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """An empty repository as the working folder."""
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def run(capsys, *args, stdin=None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def codes(out):
    """{(file, code)} of the finding lines."""
    found = set()
    for line in out.splitlines():
        parts = line.split(" ", 2)
        if len(parts) >= 2 and parts[1].startswith("KM"):
            found.add((parts[0].split(":")[0], parts[1]))
    return found


# --- config per file -------------------------------------------------------------

def test_nearest_config_governs_each_file_when_linting_the_root(tree, capsys):
    write(tree, {
        "requirements.txt": "keras>=3.8\n",
        "pyproject.toml": '[tool.kerasmode-lint]\nignore = ["KM302"]\n',
        "app.py": BOTH,
        "sub/pyproject.toml": '[project]\nname = "sub"\n[tool.kerasmode-lint]\nignore = ["KM101"]\n',
        "sub/lib.py": BOTH,
    })
    expected = {("app.py", "KM101"), ("sub/lib.py", "KM302")}
    assert codes(run(capsys, "--no-cache", ".")[1]) == expected
    assert codes(run(capsys, "--no-cache", "app.py", "sub/lib.py")[1]) == expected
    os.chdir(tree / "sub")  # the working folder does not change which config governs a file
    found = codes(run(capsys, "--no-cache", "lib.py", "../app.py")[1])
    assert {(os.path.basename(f), c) for f, c in found} == {("lib.py", "KM302"), ("app.py", "KM101")}


def test_config_file_names_and_their_order_in_one_folder(tree, capsys):
    write(tree, {"requirements.txt": "keras>=3.8\n", "m.py": BOTH,
                 "pyproject.toml": '[tool.kerasmode-lint]\nignore = ["KM101"]\n'})
    assert codes(run(capsys, "--no-cache", "m.py")[1]) == {("m.py", "KM302")}
    write(tree, {"kerasmode-lint.toml": 'ignore = ["KM302"]\n'})
    assert codes(run(capsys, "--no-cache", "m.py")[1]) == {("m.py", "KM101")}
    write(tree, {".kerasmode-lint.toml": 'select = ["KM1", "KM3"]\n'})
    assert codes(run(capsys, "--no-cache", "m.py")[1]) == {("m.py", "KM101"), ("m.py", "KM302")}
    out = run(capsys, "--show-settings", "m.py")[1]
    assert f"config: {tree / '.kerasmode-lint.toml'}" in out


def test_pyproject_without_our_section_is_passed_over(tree, capsys):
    write(tree, {"kerasmode-lint.toml": 'ignore = ["KM302"]\n', "requirements.txt": "keras>=3.8\n",
                 "pkg/pyproject.toml": '[project]\nname = "pkg"\n', "pkg/m.py": BOTH})
    assert codes(run(capsys, "--no-cache", ".")[1]) == {("pkg/m.py", "KM101")}


def test_bad_key_in_a_kerasmode_lint_toml_names_the_file(tree, capsys):
    write(tree, {"kerasmode-lint.toml": "selct = []\n", "m.py": BOTH})
    code, out, err = run(capsys, "m.py")
    assert code == 2 and out == ""
    assert err.startswith(f"kerasmode-lint: error: {tree / 'kerasmode-lint.toml'} unknown key 'selct'")
    assert len(err.splitlines()) == 1


def test_config_flag_forces_one_file_and_isolated_reads_none(tree, capsys):
    write(tree, {"requirements.txt": "keras>=3.8\n", "m.py": BOTH,
                 "pyproject.toml": '[tool.kerasmode-lint]\nignore = ["KM101"]\n',
                 "sub/kerasmode-lint.toml": 'ignore = ["KM302"]\n', "sub/n.py": BOTH,
                 "other.toml": 'ignore = ["KM101", "KM302"]\n'})
    assert codes(run(capsys, "--no-cache", ".")[1]) == {("m.py", "KM302"), ("sub/n.py", "KM101")}
    assert codes(run(capsys, "--no-cache", "--config", "other.toml", ".")[1]) == set()
    both = {("m.py", "KM101"), ("m.py", "KM302"), ("sub/n.py", "KM101"), ("sub/n.py", "KM302")}
    assert codes(run(capsys, "--no-cache", "--isolated", ".")[1]) == both
    code, _, err = run(capsys, "--config", "missing.toml", ".")
    assert code == 2 and "missing.toml: config file not found" in err


def test_run_level_settings_come_from_the_config_nearest_the_working_folder(tree, capsys):
    write(tree, {"pyproject.toml": '[tool.kerasmode-lint]\ncache-dir = "root-cache"\njobs = 1\n',
                 "sub/kerasmode-lint.toml": 'cache-dir = "sub-cache"\n', "sub/m.py": FLAGGED})
    assert run(capsys, ".")[0] == 1
    assert (tree / "root-cache").is_dir() and not (tree / "sub" / "sub-cache").exists()
    os.chdir(tree / "sub")
    assert run(capsys, ".")[0] == 1
    assert (tree / "sub" / "sub-cache").is_dir()
    assert "cache-dir: " + str(tree / "sub" / "sub-cache") in run(capsys, "--show-settings", ".")[1]


@pytest.mark.parametrize("value", ["-1", "true", '"4"'])
def test_jobs_key_is_validated(tree, capsys, value):
    write(tree, {"kerasmode-lint.toml": f"jobs = {value}\n", "m.py": "x = 1\n"})
    code, _, err = run(capsys, "m.py")
    assert code == 2 and "jobs must be 0 (all cores) or more" in err


# --- the project's environment ------------------------------------------------------

def fake_environment(prefix, **installed):
    site = prefix / "lib" / "python3.12" / "site-packages"
    site.mkdir(parents=True)
    (prefix / "pyvenv.cfg").write_text("home = /usr/bin\n")
    for name, version in installed.items():
        (site / f"{name}-{version}.dist-info").mkdir()
    return prefix


def test_project_venv_decides_not_the_linters_environment(tree, capsys):
    # This process has keras 3.15 installed; the project's .venv has Keras 2.
    from importlib.metadata import version

    assert version("keras").startswith("3.")  # installed here: the premise of this test

    write(tree, {"m.py": BOTH})
    assert ("m.py", "KM302") in codes(run(capsys, "--no-cache", "m.py")[1])  # assumed Keras 3
    fake_environment(tree / ".venv", keras="2.15.0", tensorflow="2.15.1")
    assert codes(run(capsys, "--no-cache", "m.py")[1]) == {("m.py", "KM101")}
    assert f"keras 2.15.0 installed in {tree / '.venv'}" in run(capsys, "--show-settings", "m.py")[1]


def test_python_option_and_config_key(tree, capsys, tmp_path_factory):
    old = fake_environment(tmp_path_factory.mktemp("envs") / "old", keras="2.15.0")
    write(tree, {"m.py": BOTH, "requirements.txt": "keras>=3.8\n"})
    assert ("m.py", "KM302") in codes(run(capsys, "--no-cache", "m.py")[1])
    assert codes(run(capsys, "--no-cache", "--python", str(old), "m.py")[1]) == {("m.py", "KM101")}
    (old / "bin").mkdir()
    (old / "bin" / "python").write_text("")
    write(tree, {"kerasmode-lint.toml": f'python = "{old / "bin" / "python"}"\n'})
    assert codes(run(capsys, "--no-cache", "m.py")[1]) == {("m.py", "KM101")}
    write(tree, {"kerasmode-lint.toml": 'python = "missing-env"\n'})  # relative to the config's folder
    out = run(capsys, "--show-settings", "m.py")[1]
    assert f"python: {tree / 'missing-env'}" in out


# --- --show-settings uses the lint's own resolution ------------------------------------

NOTEBOOK = json.dumps({
    "cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
               "source": ["%env TF_USE_LEGACY_KERAS=1\n"]},
              {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
               "source": KERAS3_ONLY.splitlines(keepends=True)}],
    "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
})


def test_show_settings_and_lint_agree_on_a_notebook_with_env_magic(tree, capsys):
    write(tree, {"requirements.txt": "keras>=3.8\n", "nb.ipynb": NOTEBOOK, "m.py": KERAS3_ONLY})
    assert codes(run(capsys, "--no-cache", ".")[1]) == {("m.py", "KM302")}  # the notebook is Keras 2
    out = run(capsys, "--show-settings", ".")[1]
    groups = out.split("settings for ")[1:]
    assert len(groups) == 2
    [legacy] = [g for g in groups if "file: nb.ipynb" in g]
    assert "keras-version: 2.15 (file sets TF_USE_LEGACY_KERAS (line 1))" in legacy
    [modern] = [g for g in groups if "file: m.py" in g]
    assert f"keras-version: 3.15 (pin 'keras>=3.8' in {tree / 'requirements.txt'})" in modern


def test_show_settings_groups_files_by_decision_and_verbose_lists_each(tree, capsys):
    write(tree, {"a/requirements.txt": "tensorflow==2.15\n", "a/x.py": "", "a/y.py": "",
                 "b/requirements.txt": "keras==3.12\n", "b/z.py": ""})
    out = run(capsys, "--show-settings", ".")[1]
    assert out.count("settings for ") == 2
    assert "settings for 2 files:" in out and "settings for 1 file:" in out
    verbose = run(capsys, "--show-settings", "--verbose", ".")[1]
    assert [line for line in verbose.splitlines() if line.startswith("path: ")] == [
        "path: a/x.py", "path: a/y.py", "path: b/z.py"]


def test_nothing_decides_findings_say_what_they_assume(tree, capsys):
    write(tree, {"m.py": BOTH})
    out = run(capsys, "--no-cache", "m.py")[1]
    [km302] = [line for line in out.splitlines() if " KM302 " in line]
    [km101] = [line for line in out.splitlines() if " KM101 " in line]
    assert " KM302 Keras 3 assumed: " in km302
    assert "assumed" not in km101  # KM101 holds under every version
    assert "keras-version: 3.15 (assumed: " in run(capsys, "--show-settings", "m.py")[1]
    # Once the project says which Keras it uses, nothing is assumed.
    write(tree, {"requirements.txt": "keras==3.10\n"})
    assert "assumed" not in run(capsys, "--no-cache", "m.py")[1]


def test_stdin_filename_gets_the_settings_of_that_path(tree, capsys, monkeypatch):
    write(tree, {"requirements.txt": "keras>=3.8\n",
                 "sub/kerasmode-lint.toml": 'ignore = ["KM101"]\n'})
    out = run(capsys, "--stdin-filename", "sub/m.py", "-", stdin=BOTH, monkeypatch=monkeypatch)[1]
    assert codes(out) == {("sub/m.py", "KM302")}
    out = run(capsys, "--show-settings", "--stdin-filename", "sub/m.py", "-", stdin=BOTH, monkeypatch=monkeypatch)[1]
    assert f"config: {tree / 'sub' / 'kerasmode-lint.toml'}" in out


# --- an invalid backend is the same error wherever it comes from ----------------------

def test_invalid_keras_backend_environment_variable_is_a_usage_error(tree, capsys, monkeypatch):
    write(tree, {"m.py": FLAGGED})
    flag = run(capsys, "--keras-backend", "garbage", "m.py")
    monkeypatch.setenv("KERAS_BACKEND", "garbage")
    env = run(capsys, "m.py")
    for code, out, err in (flag, env):
        assert code == 2 and out == ""
        assert len(err.splitlines()) == 1 and "invalid keras-backend 'garbage'" in err
    assert env[2].startswith("kerasmode-lint: error: environment variable KERAS_BACKEND: ")
    assert run(capsys, "--keras-backend", "jax", "m.py")[0] == 1  # an explicit setting needs no environment


# --- the cache never outlives a change to an input of the resolution ---------------------

def same_warm_and_cold(capsys, *args):
    cold = run(capsys, "--no-cache", *args)
    warm = run(capsys, *args)
    assert warm == cold
    return cold[1]


def test_cache_follows_the_backend_from_the_environment_and_keras_json(tree, capsys, monkeypatch):
    write(tree, {"requirements.txt": "keras==3.12\n", "net.py": JAX_ONLY})
    assert "KM306" not in same_warm_and_cold(capsys, "net.py")  # tensorflow
    run(capsys, "net.py")  # warm the cache under tensorflow
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    assert "KM306" in same_warm_and_cold(capsys, "net.py")
    monkeypatch.delenv("KERAS_BACKEND")
    assert "KM306" not in same_warm_and_cold(capsys, "net.py")
    (tree / "keras-home").mkdir()
    (tree / "keras-home" / "keras.json").write_text('{"backend": "jax"}')
    monkeypatch.setenv("KERAS_HOME", str(tree / "keras-home"))
    assert "KM306" in same_warm_and_cold(capsys, "net.py")
    (tree / "keras-home" / "keras.json").write_text('{"backend": "torch"}')
    assert "KM306" not in same_warm_and_cold(capsys, "net.py")


def test_cache_follows_pin_edits_and_dotenv(tree, capsys):
    write(tree, {"requirements.txt": "tensorflow==2.17\ntf-keras==2.17\n", "m.py": BOTH})
    assert "KM302" in same_warm_and_cold(capsys, "m.py")
    write(tree, {".env": "TF_USE_LEGACY_KERAS=1\n"})
    assert "KM302" not in same_warm_and_cold(capsys, "m.py")
    write(tree, {".env": "TF_USE_LEGACY_KERAS=0\n"})
    assert "KM302" in same_warm_and_cold(capsys, "m.py")
    write(tree, {"requirements.txt": "tensorflow==2.15\n"})
    assert "KM302" not in same_warm_and_cold(capsys, "m.py")
    write(tree, {"requirements.txt": "-r more.txt\n", "more.txt": "keras==3.12\n"})
    assert "KM302" in same_warm_and_cold(capsys, "m.py")
    write(tree, {"more.txt": "keras<3\n"})  # an included file changed, the requirements.txt did not
    assert "KM302" not in same_warm_and_cold(capsys, "m.py")


def test_assumed_wording_covers_rules_whose_findings_change_inside_a_version_range(tree, capsys):
    # KM303 applies to every version, but what it reports differs: Keras 3
    # raises on a positional `training`, Keras 2 binds it. The wording comes
    # from linting under the other version too, not from a rule's declaration.
    write(tree, {"m.py": "import keras\n\nh = keras.layers.Dropout(0.5)(x, True)\n"})
    out = run(capsys, "--no-cache", "m.py")[1]
    assert " KM303 Keras 3 assumed: " in out
    assert " KM303 Keras 3 assumed: " not in run(capsys, "--no-cache", "--keras-version", "3", "m.py")[1]
    write(tree, {"m.py": "import tensorflow as tf\n\nh = tf.keras.layers.Dropout(0.5)(x, True)\n"})
    assert "KM303" not in run(capsys, "--no-cache", "m.py")[1]  # assumed Keras 2: it binds to `training`


def test_a_nested_configs_excludes_apply_when_walking_from_above(tree, capsys):
    write(tree, {"m.py": FLAGGED, "sub/kerasmode-lint.toml": 'extend-exclude = ["generated"]\n',
                 "sub/generated/g.py": FLAGGED, "sub/kept.py": FLAGGED, "generated/top.py": FLAGGED})
    found = {f for f, _ in codes(run(capsys, "--no-cache", ".")[1])}
    assert found == {"m.py", "sub/kept.py", "generated/top.py"}  # the root's config does not exclude it
    os.chdir(tree / "sub")
    assert {f for f, _ in codes(run(capsys, "--no-cache", ".")[1])} == {"kept.py"}
    # Named on the command line a file is linted, as pre-commit expects, unless force-exclude is set.
    os.chdir(tree)
    assert codes(run(capsys, "--no-cache", "sub/generated/g.py")[1]) == {("sub/generated/g.py", "KM101")}


# --- the flake8 plugin resolves through the same Resolver --------------------------------

def flake8(root, *args):
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "CONDA_PREFIX", "KERAS_BACKEND")}
    done = subprocess.run([sys.executable, "-m", "flake8", "--select", "KM", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


def test_flake8_plugin_reads_the_project_environment_and_keras_python(tree, tmp_path_factory):
    write(tree, {"m.py": BOTH, "requirements.txt": "keras>=3.8\n"})
    assert {c for _, c in codes(flake8(tree, "m.py"))} == {"KM101", "KM302"}
    old = fake_environment(tmp_path_factory.mktemp("envs") / "old", keras="2.15.0")
    assert {c for _, c in codes(flake8(tree, "--keras-python", str(old), "m.py"))} == {"KM101"}
    assert {c for _, c in codes(flake8(tree, "--keras-version", "2", "m.py"))} == {"KM101"}


def test_flake8_plugin_reports_a_broken_config_in_one_line(tree):
    write(tree, {"m.py": BOTH, "kerasmode-lint.toml": "selct = []\n"})
    out = flake8(tree, "m.py")
    from kerasmode_lint.engine.config import KEYS

    assert out.strip() == f"m.py:1:1: KM001 kerasmode-lint settings: {tree / 'kerasmode-lint.toml'} unknown key " \
        f"'selct' (valid keys: {', '.join(KEYS)})"


def test_invalid_backend_in_keras_json_is_a_usage_error(tree, capsys, monkeypatch):
    write(tree, {"m.py": FLAGGED, "home/keras.json": '{"backend": "theano"}'})
    monkeypatch.setenv("KERAS_HOME", str(tree / "home"))
    code, out, err = run(capsys, "m.py")
    assert code == 2 and out == ""
    assert err == (f"kerasmode-lint: error: \"backend\" in {tree / 'home' / 'keras.json'}: invalid keras-backend "
                   "'theano': expected auto or one of tensorflow, jax, torch, numpy, openvino\n")
    monkeypatch.setenv("KERAS_BACKEND", "jax")  # the variable wins, as in Keras: keras.json is not used
    assert run(capsys, "m.py")[0] == 1
