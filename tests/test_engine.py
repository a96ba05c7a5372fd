"""The engine on odd input: KM001 instead of tracebacks, noqa, selection, internal errors."""
import textwrap

import pytest

from kerasmode_lint import lint_source
from kerasmode_lint.engine import lint as engine
from kerasmode_lint.rules import ALL_RULES

FLAGGED = textwrap.dedent("""\
    import tensorflow as tf
    with tf.GradientTape() as tape:
        pred = model(x)
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
""")


def km001(source, **kw):
    diags = lint_source(source, "bad.py", keras_version="3", **kw)
    assert [d.code for d in diags] == ["KM001"], diags
    return diags[0]


def test_syntax_error_is_km001_with_position():
    diag = km001(b"import tensorflow as tf\nGradientTape\ndef f(:\n    pass\n")
    assert diag.line == 3 and "cannot parse" in diag.message


def test_python2_syntax_is_km001():
    assert km001(b"# GradientTape\nprint 'hello'\n").line == 2


def test_invalid_utf8_is_km001_with_position():
    diag = km001(b"# GradientTape\nx = '\xff'\n")
    assert (diag.line, diag.column) == (2, 6)
    assert "cannot decode as utf-8" in diag.message


def test_latin1_with_cookie_is_linted():
    src = b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + FLAGGED.encode()
    assert [(d.line, d.code) for d in lint_source(src, "x.py", keras_version="3")] == [(5, "KM101")]


def test_bom_and_crlf():
    src = b"\xef\xbb\xbf" + FLAGGED.replace("\n", "\r\n").encode()
    assert [(d.line, d.column, d.code) for d in lint_source(src, "x.py", keras_version="3")] == [(3, 12, "KM101")]


def test_nul_byte_is_km001():
    assert "NUL" in km001(b"# GradientTape\nx = 1\x00\n").message


def test_unknown_cookie_is_km001():
    assert "cannot decode" in km001(b"# coding: nonsense-enc\n# GradientTape\n").message


def test_file_without_trigger_is_never_parsed(monkeypatch):
    def boom(text):
        raise AssertionError("parsed a file that cannot match")

    monkeypatch.setattr(engine, "parse", boom)
    assert lint_source("import numpy\nmodel(x)\n", "x.py", keras_version="3") == []


def test_noqa_forms():
    def lint(comment):
        src = FLAGGED.replace("pred = model(x)", f"pred = model(x)  {comment}")
        return [d.code for d in lint_source(src, "x.py", keras_version="3")]

    assert lint("# noqa") == []
    assert lint("# NOQA:KM101") == []
    assert lint("# noqa: KM1") == []
    assert lint("# noqa: E501, KM101") == []
    assert lint("# noqa: E501") == ["KM101"]
    assert lint("# not a noqa") == ["KM101"]
    assert lint_source(FLAGGED.replace("model(x)", "model(x)  # noqa"), "x.py",
                       keras_version="3", disable_noqa=True)


def test_file_level_noqa():
    assert lint_source("# kerasmode-lint: noqa\n" + FLAGGED, "x.py", keras_version="3") == []
    assert lint_source("# kerasmode-lint: noqa: KM101\n" + FLAGGED, "x.py", keras_version="3") == []
    assert lint_source("# kerasmode-lint: noqa: KM2\n" + FLAGGED, "x.py", keras_version="3")


def test_select_and_ignore():
    assert lint_source(FLAGGED, "x.py", keras_version="3", ignore=["KM1"]) == []
    assert lint_source(FLAGGED, "x.py", keras_version="3", select=["KM101"])
    with pytest.raises(ValueError, match="unknown rule code"):
        lint_source(FLAGGED, "x.py", select=["KM999"])
    with pytest.raises(ValueError, match="invalid keras-version"):
        lint_source(FLAGGED, "x.py", keras_version="7")


def test_rule_outside_its_versions_is_silent(monkeypatch):
    from kerasmode_lint.engine.versions import KERAS2_ONLY

    rule = ALL_RULES[0]
    monkeypatch.setattr(rule, "versions", KERAS2_ONLY)
    assert lint_source(FLAGGED, "x.py", keras_version="3") == []
    assert lint_source(FLAGGED, "x.py", keras_version="2")


def test_internal_error_in_a_rule_is_reported_not_raised(monkeypatch):
    rule = ALL_RULES[0]

    def broken(self, node):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(rule, "visit_With", broken)
    result = engine.lint_bytes(FLAGGED.encode(), "x.py", engine.LintOptions(keras_version="3"))
    assert result.internal_error
    [diag] = result.diagnostics
    assert diag.code == "KM001" and "internal error in rule KM101" in diag.message
    assert "ZeroDivisionError: boom" in diag.message


def test_deep_nesting_does_not_crash():
    src = "# GradientTape\nx = " + "(" * 3000 + "1" + ")" * 3000 + "\n"
    diags = lint_source(src, "x.py", keras_version="3")
    assert all(d.code == "KM001" for d in diags)


def test_every_rule_module_is_registered_and_loads_lazily():
    """rules/__init__.py maps codes to modules; a module missing there would
    never run. Loading one rule must not import the others."""
    import subprocess
    import sys
    from pathlib import Path

    from kerasmode_lint import rules

    modules = {p.stem for p in Path(rules.__file__).parent.glob("km*.py")}
    assert modules == {module for module, _ in rules.MODULES.values()}
    assert [rules.load(code).code for code in rules.CODES] == list(rules.CODES)
    probe = (
        "import sys; from kerasmode_lint import rules; rules.load('KM101'); "
        "print(sorted(m for m in sys.modules if m.startswith('kerasmode_lint.rules.km')))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "['kerasmode_lint.rules.km101_tape_call_without_training']"
