"""The trace on the rule fixtures: for every rule the trace reports at run
time, each ``flagged_*.py`` traced (``python -m kerasmode_lint.trace
--output-format json``) under each flavour it declares (k3: Keras 3 on
TensorFlow, tfk: tf_keras) must give the rule's runtime finding at exactly the
lines its ``# expect`` comments declare for that flavour's Keras version (a
recipe clean under one Keras declares no expectation there, and then must get
no finding either); every ``fixed_*.py`` and ``lookalike_*.py`` of those rules
gets no runtime finding of the rule's code.

One trace process per fixture and flavour: the trace runs one script per
process (its recorder is the process's), so xdist spreads the runs."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_harness import (  # noqa: E402
    FIX_VERSION,
    FIXTURES_DIR,
    REPO_ROOT,
    _require_tensorflow,
    fixture_env,
    fixture_files,
    parse_expectations,
    parse_observations,
)

#: the rules with a runtime twin (kerasmode_lint/runtime/findings.py)
RUNTIME_CODES = ("KM101", "KM102", "KM201", "KM202", "KM301", "KM501", "KM502")
#: the flavours the trace is checked under (those of tests/test_trace.py)
TRACE_FLAVOURS = ("k3", "tfk")


def test_runtime_codes_are_the_ones_the_trace_reports():
    source = (REPO_ROOT / "kerasmode_lint" / "runtime" / "findings.py").read_text(encoding="utf-8")
    assert tuple(sorted(set(re.findall(r'"(KM\d{3})"', source)))) == RUNTIME_CODES


def _runs():
    for code in RUNTIME_CODES:
        paths = [p for p in fixture_files(code) if p.name.startswith(("flagged_", "fixed_", "lookalike_"))]
        assert any(p.name.startswith("flagged_") for p in paths), code
        for path in paths:
            for flavour in TRACE_FLAVOURS:
                if flavour in parse_observations(path):
                    yield pytest.param(code, path, flavour,
                                       id=f"{path.relative_to(FIXTURES_DIR).as_posix()}-{flavour}")


def trace(path, flavour, tmp_path):
    """The JSON report of ``python -m kerasmode_lint.trace`` on `path` under
    `flavour` (the fixture harness's environment, with this checkout first)."""
    _require_tensorflow(flavour)
    env = fixture_env(flavour)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env["PYTHONPATH"]])
    env["KERAS_HOME"] = str(tmp_path / "keras_home")
    out = tmp_path / "trace.json"
    proc = subprocess.run(
        [sys.executable, "-m", "kerasmode_lint.trace", "--output-format", "json", "-o", str(out), str(path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    tail = "\n".join(proc.stderr.splitlines()[-30:])
    assert proc.returncode == 0, f"{path.name} [{flavour}] exited with {proc.returncode}:\n{tail}"
    assert out.is_file(), f"{path.name} [{flavour}] wrote no report:\n{tail}"
    return json.loads(out.read_text(encoding="utf-8"))


@pytest.mark.tensorflow
@pytest.mark.parametrize("code, path, flavour", list(_runs()))
def test_trace_finds_what_the_fixture_declares(code, path, flavour, tmp_path):
    report = trace(path, flavour, tmp_path)
    found = sorted({f["line"] for f in report["findings"] if f["code"] == code})
    assert all(Path(f["path"]).resolve() == path.resolve()
               for f in report["findings"] if f["code"] == code), report["findings"]
    # The flavour runs the Keras version the fixture's `# expect(...)` names.
    expected = sorted(line for line, c in parse_expectations(path)[FIX_VERSION[flavour]] if c == code)
    if not path.name.startswith("flagged_"):
        assert expected == [], f"{path.name} declares {code} but is not a flagged fixture"
    assert found == expected, (
        f"{path.name} [{flavour}]: {code} traced at lines {found}, declared at {expected}; "
        f"findings: {report['findings']}")
