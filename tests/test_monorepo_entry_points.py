"""A monorepo with nested configs and projects that target different Keras
versions gives the same findings through every entry point: the command
line over the root folder, over explicit file names (as pre-commit passes
them), a real pre-commit run, the flake8 plugin and stdin with
--stdin-filename."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from helpers import FLAGGED

REPO = Path(__file__).resolve().parent.parent
FINDING = re.compile(r"^(?:\./)?(?P<path>[^\s:]+\.py):(?P<line>\d+):(?P<col>\d+): (?P<code>KM\d{3}) ")

KERAS3_ONLY = textwrap.dedent("""\
    import keras


    class Block(keras.layers.Layer):
        def call(self, x, training):
            return x
""")
BOTH = KERAS3_ONLY + "\n" + FLAGGED

LAYOUT = {
    # The root: Keras 3 by its pins; its config drops KM203 (nothing here has it).
    "requirements.txt": "keras>=3.8\n",
    ".kerasmode-lint.toml": 'ignore = ["KM203"]\n',
    "app/model.py": BOTH,
    # A nested legacy project: TensorFlow 2.15 (Keras 2) and its own config.
    "legacy/pyproject.toml": textwrap.dedent("""\
        [project]
        name = "legacy"
        dependencies = ["tensorflow==2.15.1"]

        [project.optional-dependencies]
        new = ["keras>=3"]

        [tool.kerasmode-lint]
        ignore = ["KM101"]
    """),
    "legacy/train.py": BOTH,
    # Nested config without pins: Keras from the root, settings of its own.
    "tools/kerasmode-lint.toml": 'select = ["KM3"]\n',
    "tools/probe.py": BOTH,
}
EXPECTED = {
    ("app/model.py", 5, 23, "KM302"), ("app/model.py", 10, 12, "KM101"),
    ("tools/probe.py", 5, 23, "KM302"),
}


@pytest.fixture
def monorepo(tmp_path):
    root = tmp_path / "mono"
    for name, text in LAYOUT.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "."], cwd=root, check=True)
    return root


def findings(text: str):
    found = set()
    for line in text.splitlines():
        m = FINDING.match(line.strip())
        if m:
            found.add((m["path"], int(m["line"]), int(m["col"]), m["code"]))
    return found


def environment(tmp_path):
    env = dict(os.environ, KERAS_HOME=str(tmp_path / "keras-home"), HOME=str(tmp_path / "home"))
    for variable in ("KERAS_BACKEND", "TF_USE_LEGACY_KERAS", "VIRTUAL_ENV", "CONDA_PREFIX", "PRE_COMMIT"):
        env.pop(variable, None)
    return env


def lint(root, env, *args, stdin=None):
    command = [sys.executable, "-P", "-m", "kerasmode_lint", "--no-cache", *args]
    done = subprocess.run(command, cwd=root, env=env, input=stdin, capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


def test_same_findings_through_every_entry_point(monorepo, tmp_path):
    env = environment(tmp_path)
    files = sorted(name for name in LAYOUT if name.endswith(".py"))

    over_root = findings(lint(monorepo, env, "."))
    assert over_root == EXPECTED

    assert findings(lint(monorepo, env, *files)) == EXPECTED

    through_stdin = set()
    for name in files:
        through_stdin |= findings(lint(monorepo, env, "--stdin-filename", name, "-", stdin=LAYOUT[name]))
    assert through_stdin == EXPECTED

    flake8 = subprocess.run([sys.executable, "-m", "flake8", "--select", "KM", *files], cwd=monorepo, env=env,
                            capture_output=True, text=True, timeout=300)
    assert flake8.returncode in (0, 1), flake8.stderr
    assert findings(flake8.stdout) == EXPECTED

    hook_env = dict(env, PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"))
    pre_commit = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), "kerasmode-lint", "--all-files",
         "--color", "never"],
        cwd=monorepo, env=hook_env, capture_output=True, text=True, timeout=900)
    assert pre_commit.returncode == 1, pre_commit.stdout + pre_commit.stderr
    assert findings(pre_commit.stdout) == EXPECTED


def test_show_settings_names_each_projects_decision(monorepo, tmp_path):
    out = lint(monorepo, environment(tmp_path), "--show-settings", "--verbose", ".")
    entries = {block.split("\n", 1)[0]: block for block in out.split("path: ")[1:]}
    assert "keras-version: 2.15 (pin 'tensorflow==2.15.1'" in entries["legacy/train.py"]
    assert "keras-version: 3.15 (pin 'keras>=3.8'" in entries["app/model.py"]
    assert "keras-version: 3.15 (pin 'keras>=3.8'" in entries["tools/probe.py"]
    assert f"config: {monorepo / 'tools' / 'kerasmode-lint.toml'}" in entries["tools/probe.py"]
