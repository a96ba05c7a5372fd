"""The flake8 plugin, run through real flake8 in a subprocess."""
import argparse
import os
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path


from kerasmode_lint.frontends.flake8_plugin import Plugin
from kerasmode_lint.rules import RULES_BY_CODE
from kerasmode_lint.engine.versions import KERAS2_ONLY

REPO = Path(__file__).resolve().parent.parent
FLAGGED = textwrap.dedent("""\
    import tensorflow as tf


    def step(model, opt, x, y, loss_fn):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))


    unused = 1  # noqa: KM101
""")


def plugin_installed():
    return any(ep.name == "KM" for ep in entry_points(group="flake8.extension"))


def flake8(cwd, *args, config=""):
    """Real flake8 with our plugin: the installed entry point if this checkout
    is installed, else the same class as a local plugin (an editable install
    of another checkout does not register this one's entry point)."""
    if not plugin_installed():
        config += "\n[flake8:local-plugins]\nextension =\n    KM = kerasmode_lint.frontends.flake8_plugin:Plugin\n"
    (cwd / "setup.cfg").write_text(config)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "flake8", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_flake8_prints_the_same_lines_as_kerasmode_lint(tmp_path):
    (tmp_path / "train.py").write_text(FLAGGED)
    ours = subprocess.run([sys.executable, "-m", "kerasmode_lint", "--keras-version", "3", "train.py"],
                          cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(REPO)),
                          capture_output=True, text=True, timeout=300)
    theirs = flake8(tmp_path, "--select", "KM", "train.py", config="[flake8]\nkeras-version = 3\n")
    assert theirs.returncode == 1, theirs.stderr
    expected = ours.stdout.splitlines()
    assert [l.split(": ")[1].split()[0] for l in expected] == ["KM101", "KM002"]
    assert theirs.stdout.splitlines() == expected
    assert expected[0].startswith("train.py:6:27: KM101")


def test_km_codes_are_on_by_default_and_flake8_noqa_applies(tmp_path):
    (tmp_path / "train.py").write_text(FLAGGED.replace("model(x))", "model(x))  # noqa: KM101"))
    proc = flake8(tmp_path, "train.py")
    codes = [l.split(": ")[1].split()[0] for l in proc.stdout.splitlines()]
    assert "KM101" not in codes and "KM002" in codes, proc.stdout + proc.stderr
    proc = flake8(tmp_path, "--disable-noqa", "--select", "KM", "train.py")
    codes = [l.split(": ")[1].split()[0] for l in proc.stdout.splitlines()]
    assert codes == ["KM101"], proc.stdout + proc.stderr


def test_a_bad_keras_version_in_the_flake8_config_is_a_usage_error(tmp_path):
    (tmp_path / "train.py").write_text(FLAGGED)
    proc = flake8(tmp_path, "train.py", config="[flake8]\nkeras-version = 7\n")
    assert proc.returncode != 0 and proc.stdout == ""
    assert "invalid keras-version '7'" in proc.stderr and "Traceback" not in proc.stderr


def test_keras_version_option_reaches_the_rules(monkeypatch):
    monkeypatch.setattr(RULES_BY_CODE["KM101"], "versions", KERAS2_ONLY)
    lines = FLAGGED.splitlines(keepends=True)

    def codes(version):
        Plugin.parse_options(argparse.Namespace(keras_version=version, disable_noqa=False))
        return [message.split()[0] for _, _, message, _ in Plugin(None, "train.py", lines).run()]

    try:
        assert codes("2") == ["KM101", "KM002"]
        assert codes("3") == []  # KM101 did not run, so its noqa is not judged
    finally:
        Plugin.parse_options(argparse.Namespace(keras_version="auto", disable_noqa=False))


def test_a_file_that_cannot_match_never_loads_the_linter(tmp_path):
    code = (
        "import sys\n"
        "from kerasmode_lint.frontends.flake8_plugin import Plugin\n"
        "lines = ['import numpy as np\\n', 'x = np.zeros(3)  # noqa: E501\\n']\n"
        "assert list(Plugin(None, 'a.py', lines).run()) == []\n"
        "print(sorted(m for m in ('libcst', 'kerasmode_lint.engine.lint') if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert proc.stdout.strip() == "[]", proc.stderr


def test_the_entry_point_is_declared():
    import tomllib

    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"]
    assert declared["flake8.extension"] == {"KM": "kerasmode_lint.frontends.flake8_plugin:Plugin"}
