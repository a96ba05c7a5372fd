"""The pre-commit hook, run for real with `pre-commit try-repo` on this repository."""
import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import FLAGGED

REPO = Path(__file__).resolve().parent.parent

NOTEBOOK = json.dumps({
    "cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# Training"]},
              {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
               "source": FLAGGED.splitlines(keepends=True)}],
    "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
}, indent=1)


def git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_hook_fails_on_a_flagged_file_and_passes_once_fixed(tmp_path):
    work = tmp_path / "user-repo"
    work.mkdir()
    git(work, "init", "-q")
    git(work, "config", "user.email", "dev@example.com")
    git(work, "config", "user.name", "dev")
    (work / "train.py").write_text(FLAGGED)
    (work / "explore.ipynb").write_text(NOTEBOOK)
    git(work, "add", "train.py", "explore.ipynb")
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"))
    command = [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), "kerasmode-lint",
               "--all-files", "--color", "never"]

    failed = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=900)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "train.py:3:12: KM101" in failed.stdout
    assert "explore.ipynb:cell_2:3:12: KM101" in failed.stdout

    (work / "train.py").write_text(FLAGGED.replace("model(x)", "model(x, training=True)"))
    (work / "explore.ipynb").write_text(NOTEBOOK.replace("model(x)", "model(x, training=True)"))
    git(work, "add", "train.py", "explore.ipynb")
    passed = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=900)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "KM101" not in passed.stdout


def test_fix_hook_applies_safe_fixes_and_fails_only_when_it_changed_a_file(tmp_path):
    work = tmp_path / "user-repo"
    work.mkdir()
    git(work, "init", "-q")
    (work / "util.py").write_text("x = 1  # noqa: KM101\n")  # KM002, safely fixable
    git(work, "add", "util.py")
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"))
    command = [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), "kerasmode-lint-fix",
               "--all-files", "--color", "never"]
    changed = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=900)
    assert changed.returncode == 1, changed.stdout + changed.stderr
    assert (work / "util.py").read_text() == "x = 1\n"
    git(work, "add", "util.py")
    clean = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=900)
    assert clean.returncode == 0, clean.stdout + clean.stderr
