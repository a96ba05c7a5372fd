"""--fix, --unsafe-fixes and --diff: what is written, what is not, and exit codes."""
import os
import stat
import textwrap

import pytest

from kerasmode_lint.engine import autofix
from kerasmode_lint import lint_source
from kerasmode_lint.engine.autofix import PythonFile, fix_file
from kerasmode_lint.frontends.cli import main
from kerasmode_lint.engine.lint import LintOptions, parse
from kerasmode_lint.engine.fixes import Edit, Fix, apply_edits, non_overlapping

STEP = textwrap.dedent("""\
    import tensorflow as tf
    with tf.GradientTape() as tape:
        pred = CALL
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
""")
FLAGGED = STEP.replace("CALL", "model(x)")
FIXED = STEP.replace("CALL", "model(x, training=True)")


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("call, expected", [
    ("model(x)", "model(x, training=True)"),
    ("model()", "model(training=True)"),
    ("model ( )", "model ( training=True)"),
    ("(model())", "(model(training=True))"),
    ("model(x,)", "model(x, training=True,)"),
    ("model(*batch)", "model(*batch, training=True)"),
    ("model(x, mask=m)  # why", "model(x, mask=m, training=True)  # why"),
    ("model(\n        x,\n    )", "model(\n        x, training=True,\n    )"),
])
def test_km101_fix_adds_training_true_whatever_the_call_looks_like(call, expected):
    source = STEP.replace("CALL", call)
    [diag] = lint_source(source, "x.py", keras_version="3")
    assert diag.fix.applicability == "unsafe" and diag.fix.message == "Pass `training=True`"
    fixed = apply_edits(source, diag.fix.edits)
    assert fixed == STEP.replace("CALL", expected)
    parse(fixed)
    assert lint_source(fixed, "x.py", keras_version="3") == []


def test_fix_without_unsafe_leaves_an_unsafe_fix_alone(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.py").write_text(FLAGGED)
    code, out, err = run(capsys, "--fix", "a.py")
    assert code == 1
    assert (tmp_path / "a.py").read_text() == FLAGGED
    assert "a.py:3:12: KM101" in out
    assert err.splitlines() == [
        "Fixed 0 problems; 1 problem in 1 file left.",
        "1 fixable with `--fix --unsafe-fixes` (unsafe fixes change run-time behaviour: review them).",
    ]


def test_fix_with_unsafe_fixes_writes_and_exits_0(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.py").write_text(FLAGGED)
    assert run(capsys, "--fix", "--unsafe-fixes", "a.py") == (0, "", "Fixed 1 problem.\n")
    assert (tmp_path / "a.py").read_text() == FIXED
    # A second run has nothing left to change.
    assert run(capsys, "--fix", "--unsafe-fixes", "a.py") == (0, "", "")
    assert (tmp_path / "a.py").read_text() == FIXED


def test_fix_exits_1_when_findings_remain(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.py").write_text(FLAGGED)
    (tmp_path / "c.py").write_text("def f(:\n")
    code, out, err = run(capsys, "--fix", "--unsafe-fixes", ".")
    assert code == 1
    assert out.splitlines() == ["c.py:1:7: KM001 cannot parse: invalid syntax"]
    assert (tmp_path / "a.py").read_text() == FIXED
    assert err.splitlines()[0] == "Fixed 1 problem; 1 problem in 1 file left."


def test_diff_prints_the_change_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.py").write_text(FLAGGED)
    code, out, err = run(capsys, "--diff", "--unsafe-fixes", "a.py")
    assert code == 1
    assert (tmp_path / "a.py").read_text() == FLAGGED
    assert out.splitlines()[:2] == ["--- a/a.py", "+++ b/a.py"]
    assert "-    pred = model(x)" in out.splitlines()
    assert "+    pred = model(x, training=True)" in out.splitlines()
    assert err.strip() == "Would fix 1 problem."
    # Without --unsafe-fixes there is nothing safe to show.
    code, out, _ = run(capsys, "--diff", "a.py")
    assert code == 1 and out == ""


@pytest.mark.parametrize("prefix, newline, encoding", [
    (b"", "\r\n", "utf-8"),
    (b"\xef\xbb\xbf", "\n", "utf-8"),
    (b"\xef\xbb\xbf", "\r\n", "utf-8"),
    (b"# -*- coding: latin-1 -*-\n# caf\xe9\n", "\n", "latin-1"),
    (b"", "\r", "utf-8"),
])
def test_fix_keeps_encoding_bom_and_line_endings(tmp_path, monkeypatch, capsys, prefix, newline, encoding):
    monkeypatch.chdir(tmp_path)
    body = "# d\u00e9j\u00e0 vu\n" + FLAGGED
    path = tmp_path / "a.py"
    path.write_bytes(prefix + body.replace("\n", newline).encode(encoding))
    os.chmod(path, 0o640)
    assert run(capsys, "--fix", "--unsafe-fixes", "-q", "a.py")[0] == 0
    expected = prefix + ("# d\u00e9j\u00e0 vu\n" + FIXED).replace("\n", newline).encode(encoding)
    assert path.read_bytes() == expected
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["a.py"]  # no temporary left behind


def test_a_failed_write_leaves_the_file_intact(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.py").write_text(FLAGGED)

    def interrupted(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(autofix.os, "replace", interrupted)
    code, out, err = run(capsys, "--fix", "--unsafe-fixes", "a.py")
    assert code == 2
    assert "a.py:1:1: KM001 cannot write: No space left on device; the fixes were not applied" in out
    assert "KM101" in out  # still there: nothing was fixed
    assert "Fixed 1" not in err and "Fixed 0 problems" in err
    assert (tmp_path / "a.py").read_text() == FLAGGED
    assert [p.name for p in tmp_path.iterdir()] == ["a.py"]


def _fix_while(tmp_path, monkeypatch, capsys, meanwhile):
    """Run --fix on a.py, doing ``meanwhile`` between the read and the write."""
    from kerasmode_lint.engine import autofix as module

    original = module.fix_file

    def slow_fix(source, options, unsafe):
        outcome = original(source, options, unsafe)
        meanwhile()
        return outcome

    monkeypatch.setattr(module, "fix_file", slow_fix)
    monkeypatch.chdir(tmp_path)
    return run(capsys, "--fix", "--unsafe-fixes", "-j", "1", "--no-cache", "a.py")


def test_an_editor_save_during_the_fix_is_not_lost(tmp_path, monkeypatch, capsys):
    (tmp_path / "a.py").write_text(FLAGGED)
    saved = FLAGGED + "# saved by the editor\n"
    code, out, _ = _fix_while(tmp_path, monkeypatch, capsys, lambda: (tmp_path / "a.py").write_text(saved))
    assert code == 2
    assert "changed while fixing, not written" in out
    assert (tmp_path / "a.py").read_text() == saved


def test_a_file_swapped_for_a_symlink_during_the_fix_is_not_written_through(tmp_path, monkeypatch, capsys):
    (tmp_path / "a.py").write_text(FLAGGED)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")

    def swap():
        (tmp_path / "a.py").unlink()
        (tmp_path / "a.py").symlink_to(victim)

    code, out, _ = _fix_while(tmp_path, monkeypatch, capsys, swap)
    assert code == 2 and "changed while fixing, not written" in out
    assert victim.read_text() == "precious\n"


def test_a_file_the_user_cannot_write_is_refused(tmp_path, monkeypatch, capsys):
    target = tmp_path / "a.py"
    target.write_text(FLAGGED)
    target.chmod(0o444)  # the folder stays writable: a replace would succeed
    if os.geteuid() == 0:  # root may write anything: ask as a user would be answered
        real_access = autofix.os.access
        monkeypatch.setattr(autofix.os, "access", lambda p, m: False if m == os.W_OK else real_access(p, m))
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "--fix", "--unsafe-fixes", "a.py")
    assert code == 2 and "cannot write: permission denied" in out
    assert target.read_text() == FLAGGED


def test_mode_and_hard_links_are_kept(tmp_path, monkeypatch, capsys):
    target = tmp_path / "a.py"
    target.write_text(FLAGGED)
    target.chmod(0o640)
    link = tmp_path / "b.py"
    os.link(target, link)
    monkeypatch.chdir(tmp_path)
    run(capsys, "--fix", "--unsafe-fixes", "--no-cache", "a.py")
    assert "training=True" in target.read_text()
    assert link.read_text() == target.read_text()  # rewritten in place: the link sees it
    assert os.stat(target).st_ino == os.stat(link).st_ino
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640


def test_a_fix_that_breaks_the_code_is_refused(tmp_path, monkeypatch, capsys):
    from kerasmode_lint.rules import km101_tape_call_without_training as km101

    def broken(call):
        return Fix.unsafe("Pass `training=True`", [km101.insert_after(call.args[-1], ", training=(")])

    monkeypatch.setattr(km101, "_add_training_true", broken)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.py").write_text(FLAGGED)
    code, out, err = run(capsys, "--fix", "--unsafe-fixes", "a.py")
    assert code == 2
    assert (tmp_path / "a.py").read_text() == FLAGGED
    assert "a.py:3:12: KM001 internal error: the fix for KM101 (Pass `training=True`) would produce code" in out
    assert "a.py:3:12: KM101" in out


def test_overlapping_fixes_wait_for_the_next_pass():
    first = Fix.safe("a", [Edit(1, 1, 1, 3, "X")])
    touching = Fix.safe("b", [Edit(1, 3, 1, 4, "Y")])
    apart = Fix.safe("c", [Edit(2, 1, 2, 1, "Z")])
    assert non_overlapping([touching, apart, first]) == [first, apart]


def test_fix_loop_applies_every_finding_and_converges():
    source = FLAGGED.replace("pred = model(x)", "pred = model(x)\n    more = model(y)")
    fixed, result, count = fix_file(PythonFile("a.py", source.encode()), LintOptions(keras_version="3"), True)
    assert count == 2 and result.diagnostics == []
    assert b"model(x, training=True)" in fixed.data and b"model(y, training=True)" in fixed.data


def test_stdin_fix_writes_the_source_to_stdout(tmp_path, monkeypatch, capfdbinary):
    import io
    import sys

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(FLAGGED.encode())))
    code = main(["--fix", "--unsafe-fixes", "-", "--stdin-filename", "src/train.py"])
    out, err = capfdbinary.readouterr()
    assert code == 0
    assert out == FIXED.encode()
    assert b"Fixed 1 problem." in err
    assert not (tmp_path / "src").exists()


def test_owner_and_group_are_kept(tmp_path, monkeypatch, capsys):
    # A root run over another user's file must leave it theirs (and never
    # leave a set-id bit on a file that changed hands).
    target = tmp_path / "a.py"
    target.write_text(FLAGGED)
    if os.geteuid() == 0:
        os.chown(target, 12345, 12345)
    before = os.stat(target)
    monkeypatch.chdir(tmp_path)
    run(capsys, "--fix", "--unsafe-fixes", "--no-cache", "a.py")
    after = os.stat(target)
    assert "training=True" in target.read_text()
    assert (after.st_uid, after.st_gid) == (before.st_uid, before.st_gid)
    assert stat.S_IMODE(after.st_mode) == stat.S_IMODE(before.st_mode)


def test_a_symlink_to_a_file_outside_the_tree_is_not_written_through(tmp_path, monkeypatch, capsys):
    tree = tmp_path / "project"
    tree.mkdir()
    outside = tmp_path / "elsewhere.py"
    outside.write_text(FLAGGED)
    (tree / "linked.py").symlink_to(outside)
    inside_target = tree / "real.py"
    inside_target.write_text(FLAGGED)
    (tree / "alias.py").symlink_to(inside_target)
    monkeypatch.chdir(tree)
    code, out, _ = run(capsys, "--fix", "--unsafe-fixes", "--no-cache", "linked.py", "alias.py")
    assert code == 2
    assert "linked.py:1:1: KM001 a symlink to a file outside the linted tree, not written" in out
    assert outside.read_text() == FLAGGED
    assert "training=True" in inside_target.read_text()  # a link inside the tree is followed


def test_copies_left_by_a_killed_fix_are_removed_by_the_next(tmp_path, monkeypatch, capsys):
    import subprocess
    import sys

    (tmp_path / "a.py").write_text(FLAGGED)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    stale = tmp_path / f".a.py.kml{dead}.x1y2.tmp"  # what a SIGKILLed run leaves
    stale.write_text("half")
    alive = tmp_path / f".a.py.kml{os.getpid()}.zz.tmp"  # a running one's: kept
    alive.write_text("in use")
    unrelated = tmp_path / ".a.py.notours.tmp"
    unrelated.write_text("x")
    monkeypatch.chdir(tmp_path)
    run(capsys, "--fix", "--unsafe-fixes", "--no-cache", "a.py")
    assert "training=True" in (tmp_path / "a.py").read_text()
    assert not stale.exists() and alive.exists() and unrelated.exists()
