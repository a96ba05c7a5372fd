"""The analysis is linear in the length of a file: counted in function calls
(cProfile's count, the same on every machine), never in seconds.

The file is a long Keras training script (benchmarks/training_scripts.py:
models with Dropout and BatchNormalization, tape loops, freezing, compile and
fit, the scripts of a notebook concatenated), where a query that scans every
variable or every function per call site shows as a ratio well above 2."""
import cProfile
import os
import pstats
import sys

from kerasmode_lint.engine import lint as engine
from kerasmode_lint.engine.lint import LintOptions, lint_bytes

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))

from training_scripts import one_file  # noqa: E402

LINES = 2000
_RUN = engine._run  # the rules' walk, unwrapped


def analysis_calls(text: str, monkeypatch) -> int:
    """Function calls made by the rules' walk and analyses (the parse excluded)."""
    counted = []

    def profiled(context, rules):
        profile = cProfile.Profile()
        profile.enable()
        try:
            _RUN(context, rules)
        finally:
            profile.disable()
        counted.append(pstats.Stats(profile).total_calls)

    monkeypatch.setattr(engine, "_run", profiled)
    result = lint_bytes(text.encode(), "train.py", LintOptions(keras_version="3"))
    assert any(d.code.startswith("KM") and d.code != "KM001" for d in result.diagnostics)
    return sum(counted)


def test_twice_the_file_costs_at_most_two_and_a_half_times_the_calls(monkeypatch):
    short = analysis_calls(one_file(LINES), monkeypatch)
    long = analysis_calls(one_file(2 * LINES), monkeypatch)
    assert long <= 2.5 * short, f"{LINES} lines: {short} calls, {2 * LINES} lines: {long} ({long / short:.2f}x)"
