"""positions() stops early but must give exactly what PositionProvider gives."""
import random
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from kerasmode_lint.engine.positions import positions
from kerasmode_lint.engine.walker import iter_descendants

REPO = Path(__file__).resolve().parent.parent
SOURCES = sorted((REPO / "fixtures").rglob("*.py")) + sorted((REPO / "examples").glob("*.py")) + [
    REPO / "kerasmode_lint" / "engine" / "lint.py",  # decorators, nested defs, strings, comments
]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_same_ranges_as_position_provider(path):
    module = cst.parse_module(path.read_text(encoding="utf-8"))
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    nodes = list(iter_descendants(module))
    chooser = random.Random(path.name)
    for _ in range(25):
        sample = chooser.sample(nodes, min(len(nodes), chooser.randint(1, 4)))
        found = positions(module, sample)
        assert {n: found[n] for n in sample} == {n: expected[n] for n in sample}
    last = nodes[-1]
    assert positions(module, [last])[last] == expected[last]


@pytest.mark.parametrize("source", [
    "def f(a,\r\n\tb):\r\n\treturn (a +\r\n\t\tb)  # c\r\nx = f(1, 2)\r\n",
    "def f(a,\r\tb):\r\treturn (a +\r\t\tb)  # c\rx = f(1, 2)\r",  # old Mac line ends
    "@dec\nclass C(\n    B,\n):\n    '''doc\n    string'''\n    x: int = (1 +\\\n 2)\n",
])
def test_line_ends_tabs_and_continuations(source):
    module = cst.parse_module(source)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    nodes = list(iter_descendants(module))
    for node in nodes:
        assert positions(module, [node])[node] == expected[node]
    assert positions(module, nodes) == {node: expected[node] for node in nodes}


def test_the_engine_does_not_regenerate_the_whole_file(monkeypatch):
    """Reported positions come from positions(), which stops after the last
    reported node: a finding on line 4 of a long file must not pay for the
    rest (PositionProvider would, and costs seconds on large files)."""
    from kerasmode_lint.engine import positions as positions_module
    from kerasmode_lint.engine.lint import LintOptions, lint_bytes

    written = []
    real = positions_module.positions

    def spy(module, nodes):
        found = real(module, nodes)
        written.append(max(where.end.line for where in found.values()))
        return found

    monkeypatch.setattr(positions_module, "positions", spy)
    monkeypatch.setattr(MetadataWrapper, "resolve", lambda *a, **k: pytest.fail("PositionProvider used"))
    source = (REPO / "fixtures" / "KM101" / "flagged_custom_loop.py").read_bytes()
    result = lint_bytes(source + b"\nx = 1\n" * 5000, "x.py", LintOptions(keras_version="3"))
    assert [d.code for d in result.diagnostics] == ["KM101"]
    assert written and written[0] < 100
