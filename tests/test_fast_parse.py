"""engine.parse skips libcst's per-node validation and the cyclic GC: same
trees, and both are back afterwards, also when the parse fails."""
import gc
from pathlib import Path

import libcst as cst
import pytest

from kerasmode_lint.engine import lint as engine

REPO = Path(__file__).resolve().parent.parent
SOURCES = sorted((REPO / "fixtures").rglob("*.py")) + sorted((REPO / "kerasmode_lint").rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_same_tree_as_libcst(path):
    text = path.read_text(encoding="utf-8")
    module = engine.parse(text)
    assert module.code == text
    assert module.deep_equals(cst.parse_module(text))


def unbalanced_name():
    return cst.Name("x", lpar=[cst.LeftParen()])


@pytest.mark.parametrize("source", ["x = 1\n", "def f(:\n"])
def test_validation_and_gc_are_back_afterwards(source):
    assert gc.isenabled()
    try:
        engine.parse(source)
    except engine.InvalidFile:
        pass
    assert gc.isenabled()
    with pytest.raises(cst.CSTValidationError):
        unbalanced_name()


def test_gc_left_off_stays_off():
    gc.disable()
    try:
        engine.parse("x = 1\n")
        assert not gc.isenabled()
    finally:
        gc.enable()
