"""KM002 unused-noqa and --add-noqa."""
import textwrap

import pytest

from kerasmode_lint import lint_source
from kerasmode_lint.frontends.cli import main
from kerasmode_lint.engine.fixes import apply_edits
from kerasmode_lint.rules import RULES_BY_CODE
from kerasmode_lint.engine.versions import KERAS2_ONLY

FLAGGED = textwrap.dedent("""\
    import tensorflow as tf
    with tf.GradientTape() as tape:
        pred = model(x)
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
""")
CLEAN = FLAGGED.replace("model(x)", "model(x, training=True)")


def lint(source, **kwargs):
    return lint_source(source, "x.py", keras_version="3", **kwargs)


def on_line_3(source, comment):
    lines = source.splitlines(keepends=True)
    lines[2] = lines[2].rstrip("\n") + comment + "\n"
    return "".join(lines)


def km002(source, **kwargs):
    return [d for d in lint(source, **kwargs) if d.code == "KM002"]


def test_a_noqa_that_silences_nothing_is_reported_with_a_safe_fix():
    source = on_line_3(CLEAN, "  # noqa: KM101")
    [diag] = km002(source)
    assert (diag.line, diag.column, diag.end_column) == (3, 37, 50)
    assert diag.message == "Unused `noqa` directive (unused: `KM101`)"
    assert diag.fix.applicability == "safe"
    assert apply_edits(source, diag.fix.edits) == CLEAN


def test_a_noqa_that_silences_a_finding_is_used():
    assert lint(on_line_3(FLAGGED, "  # noqa: KM101")) == []
    assert lint(on_line_3(FLAGGED, "  # noqa: KM1")) == []


@pytest.mark.parametrize("comment, after", [
    ("  # noqa: E501, KM101", "  # noqa: E501"),
    ("  # noqa: KM101, E501", "  # noqa: E501"),
    ("  # noqa:KM101 old step", "  # old step"),
    ("  # type: ignore  # noqa: KM101", "  # type: ignore"),
])
def test_the_fix_keeps_what_is_not_ours(comment, after):
    source = on_line_3(CLEAN, comment)
    [diag] = km002(source)
    assert apply_edits(source, diag.fix.edits) == on_line_3(CLEAN, after)


@pytest.mark.parametrize("comment", ["  # noqa", "  # noqa: E501", "  # NOQA"])
def test_bare_and_foreign_noqa_are_left_alone(comment):
    assert km002(on_line_3(CLEAN, comment)) == []


def test_noqa_text_inside_a_string_is_not_a_comment():
    source = CLEAN + 'note = "# noqa: KM101"\n'
    assert km002(source) == []


def test_reported_in_a_file_that_no_rule_had_to_parse():
    [diag] = km002("import numpy as np\nx = np.zeros(3)  # noqa: KM101\n")
    assert (diag.line, diag.column) == (2, 18)


def test_unknown_codes_are_reported():
    [diag] = km002(on_line_3(FLAGGED, "  # noqa: KM101, KM999"))
    assert diag.message == "Unused `noqa` directive (unknown: `KM999`)"


def test_codes_of_rules_that_did_not_run_are_kept():
    source = on_line_3(CLEAN, "  # noqa: KM101")
    assert km002(source, ignore=["KM101"]) == []
    assert km002(source, select=["KM002"]) == []


def test_codes_of_rules_outside_the_files_keras_version_are_kept(monkeypatch):
    monkeypatch.setattr(RULES_BY_CODE["KM101"], "versions", KERAS2_ONLY)
    source = on_line_3(CLEAN, "  # noqa: KM101")
    assert km002(source) == []
    assert [d.code for d in lint_source(source, "x.py", keras_version="2")] == ["KM002"]


def test_km002_follows_selection_and_noqa_settings():
    source = on_line_3(CLEAN, "  # noqa: KM101")
    assert km002(source, ignore=["KM002"]) == []
    assert km002(source, select=["KM1"]) == []
    assert km002(source, disable_noqa=True) == []
    assert km002(on_line_3(CLEAN, "  # noqa: KM101, KM002")) == []
    assert km002("# kerasmode-lint: noqa: KM002\n" + source) == []


def test_per_file_ignores_keep_the_noqa_of_the_ignored_rule(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.kerasmode-lint.per-file-ignores]\n"legacy_*.py" = ["KM101"]\n')
    (tmp_path / "legacy_a.py").write_text(on_line_3(CLEAN, "  # noqa: KM101"))
    (tmp_path / "b.py").write_text(on_line_3(CLEAN, "  # noqa: KM101"))
    code = main(["--keras-version", "3", "."])
    out = capsys.readouterr().out
    assert code == 1 and out.splitlines() == ["b.py:3:37: KM002 Unused `noqa` directive (unused: `KM101`)"]


def test_fix_removes_unused_noqa(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.py").write_text(on_line_3(CLEAN, "  # noqa: KM101"))
    assert main(["--fix", "a.py"]) == 0
    assert (tmp_path / "a.py").read_text() == CLEAN


# -- --add-noqa ---------------------------------------------------------------------
def test_add_noqa_silences_every_finding(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    source = FLAGGED.replace("pred = model(x)", "pred = model(x)  # noqa: E501\n    more = model(y)")
    (tmp_path / "a.py").write_text(source)
    assert main(["--add-noqa", "a.py"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and err.strip() == "Added noqa comments for 2 findings."
    assert (tmp_path / "a.py").read_text() == source.replace(
        "# noqa: E501", "# noqa: E501, KM101").replace("more = model(y)", "more = model(y)  # noqa: KM101")
    assert main(["a.py"]) == 0  # clean now, and the comments are used


def test_add_noqa_skips_lines_that_end_inside_a_string(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    source = FLAGGED.replace("pred = model(x)", 'pred = model("""\n    text""")')
    (tmp_path / "a.py").write_text(source)
    assert main(["--add-noqa", "a.py"]) == 1
    assert (tmp_path / "a.py").read_text() == source
    assert "a.py:3:12: KM101" in capsys.readouterr().out


def test_add_noqa_cannot_be_combined_with_fix(capsys):
    assert main(["--add-noqa", "--fix", "."]) == 2
    assert "--add-noqa cannot be combined" in capsys.readouterr().err


# -- flake8's conventions: the comment after a multi-line string, # flake8: noqa
MULTILINE_CALL = textwrap.dedent('''\
    import tensorflow as tf
    with tf.GradientTape() as tape:
        pred = model(x), """
        a note
        """{comment}
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
''')


def test_a_noqa_after_a_multiline_string_covers_the_line_the_string_starts_on():
    flagged = MULTILINE_CALL.format(comment="")
    assert [d.code for d in lint(flagged)] == ["KM101"]
    silenced = MULTILINE_CALL.format(comment="  # noqa: KM101")
    assert lint(silenced) == []  # silenced, and no KM002: the comment was used
    assert lint(MULTILINE_CALL.format(comment="  # noqa")) == []


def test_a_noqa_after_a_multiline_string_does_not_reach_other_statements():
    source = MULTILINE_CALL.format(comment="") + 'doc = """\nx\n"""  # noqa: KM101\n'
    assert sorted(d.code for d in lint(source)) == ["KM002", "KM101"]


def test_the_cli_and_the_flake8_plugin_agree_on_a_noqa_after_a_multiline_string(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "train.py"
    path.write_text(MULTILINE_CALL.format(comment="  # noqa: KM101"))
    cli = subprocess.run([sys.executable, "-m", "kerasmode_lint", "--keras-version", "3", str(path)],
                         capture_output=True, text=True)
    plugin = subprocess.run([sys.executable, "-m", "flake8", "--select", "KM", str(path)],
                            capture_output=True, text=True)
    assert (cli.returncode, cli.stdout) == (0, "")
    assert plugin.stdout == ""


@pytest.mark.parametrize("comment, exempt", [
    ("# flake8: noqa", True),
    ("  #FLAKE8=NOQA  ", True),
    ("# Flake8: NoQA", True),
    ("# flake8: noqa: E501", False),  # flake8 ignores the file-level form with codes
    ("x = 1  # flake8: noqa", False),  # and one that is not a line of its own
])
def test_flake8_file_level_noqa(comment, exempt):
    diags = lint(comment + "\n" + FLAGGED)
    assert (diags == []) is exempt


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_add_noqa_on_every_line_ending(tmp_path, monkeypatch, capsys, newline):
    from helpers import FLAGGED
    from kerasmode_lint.frontends.cli import main

    path = tmp_path / "a.py"
    path.write_bytes(FLAGGED.replace("\n", newline).encode())
    monkeypatch.chdir(tmp_path)
    main(["--add-noqa", "--no-cache", "a.py"])
    data = path.read_bytes()
    assert b"# noqa: KM101" in data
    assert data.replace(b"  # noqa: KM101", b"") == FLAGGED.replace("\n", newline).encode()
    capsys.readouterr()
    assert main(["--no-cache", "a.py"]) == 0
