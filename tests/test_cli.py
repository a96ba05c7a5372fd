"""The command line as users meet it: output, exit codes, config, selection."""
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kerasmode_lint.frontends.cli import main

FLAGGED = textwrap.dedent("""\
    import tensorflow as tf
    with tf.GradientTape() as tape:
        pred = model(x)
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
""")
CLEAN = FLAGGED.replace("model(x)", "model(x, training=True)")


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    return tmp_path


def write(root, rel, text):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_flagged_file_prints_flake8_lines_and_exits_1(project, capsys):
    write(project, "src/train.py", FLAGGED)
    code, out, err = run(capsys, "src")
    assert code == 1
    [line] = out.splitlines()
    assert line.startswith("src/train.py:3:12: KM101 `model` runs in inference mode while trained")
    assert err.splitlines() == [
        "Found 1 problem in 1 file.",
        "1 fixable with `--fix --unsafe-fixes` (unsafe fixes change run-time behaviour: review them).",
    ]


def test_clean_prints_nothing_and_exits_0(project, capsys):
    write(project, "src/train.py", CLEAN)
    assert run(capsys, "src") == (0, "", "")


def test_default_path_is_cwd(project, capsys):
    write(project, "a.py", FLAGGED)
    code, out, _ = run(capsys)
    assert code == 1 and out.startswith("a.py:3:12: KM101")


def test_quiet_and_exit_zero(project, capsys):
    write(project, "a.py", FLAGGED)
    code, out, err = run(capsys, "--quiet", "--exit-zero", "a.py")
    assert (code, err) == (0, "") and "KM101" in out


def test_output_sorted_by_path_line_column(project, capsys):
    write(project, "b.py", FLAGGED)
    write(project, "a.py", FLAGGED.replace("pred = model(x)", "pred = model(x)\n    more = model(y)"))
    code, out, err = run(capsys, ".")
    keys = [tuple(l.split(":")[:3]) for l in out.splitlines()]
    assert keys == [("a.py", "3", "12"), ("a.py", "4", "12"), ("b.py", "3", "12")]
    assert err.splitlines()[0] == "Found 3 problems in 2 files."


def test_missing_path_exits_2_but_lints_the_rest(project, capsys):
    write(project, "a.py", FLAGGED)
    code, out, err = run(capsys, "nope.py", "a.py")
    assert code == 2
    assert "KM101" in out
    assert "nope.py: no such file or directory" in err


def test_unparsable_file_is_km001_and_others_still_linted(project, capsys):
    write(project, "bad.py", "def f(:\n")
    write(project, "good.py", FLAGGED)
    code, out, _ = run(capsys, ".")
    assert code == 1
    assert out.splitlines()[0].startswith("bad.py:1:7: KM001 cannot parse")
    assert "good.py:3:12: KM101" in out


def test_km001_shown_whatever_select_says(project, capsys):
    write(project, "bad.py", "x = (\n")
    code, out, _ = run(capsys, "--ignore", "KM1", "bad.py")
    assert code == 1 and "KM001" in out


@pytest.mark.parametrize("flag", ["--select", "--ignore", "--extend-select"])
def test_unknown_code_is_a_usage_error(project, capsys, flag):
    write(project, "a.py", FLAGGED)
    code, out, err = run(capsys, flag, "KM999", "a.py")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "unknown rule code or prefix 'KM999'" in err


def test_select_by_prefix_and_ignore(project, capsys):
    write(project, "a.py", FLAGGED)
    assert run(capsys, "--select", "KM1", "a.py")[0] == 1
    assert run(capsys, "--select", "ALL", "--ignore", "KM101", "a.py")[0] == 0
    assert run(capsys, "--ignore", "KM10", "a.py")[0] == 0


def test_config_select_ignore_and_cli_wins(project, capsys):
    write(project, "a.py", FLAGGED)
    (project / "pyproject.toml").write_text('[tool.kerasmode-lint]\nignore = ["KM101"]\n')
    assert run(capsys, "a.py")[0] == 0
    assert run(capsys, "--select", "KM101", "a.py")[0] == 1


def test_config_found_up_from_the_linted_path(tmp_path, monkeypatch, capsys):
    sub = tmp_path / "proj"
    write(sub, "pkg/a.py", FLAGGED)
    write(sub, "pyproject.toml", '[tool.kerasmode-lint]\nignore = ["KM1"]\n')
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "proj/pkg/a.py")[0] == 0


def test_per_file_ignores(project, capsys):
    write(project, "tests/test_a.py", FLAGGED)
    write(project, "src/a.py", FLAGGED)
    (project / "pyproject.toml").write_text(
        '[tool.kerasmode-lint.per-file-ignores]\n"tests/*" = ["KM101"]\n')
    code, out, _ = run(capsys, ".")
    assert code == 1 and out.startswith("src/a.py:") and "tests/" not in out


@pytest.mark.parametrize(
    "body, message",
    [
        ("[tool.kerasmode-lint\n", "invalid TOML"),
        ('[tool.kerasmode-lint]\nselct = ["KM1"]\n', "unknown key 'selct'"),
        ('[tool.kerasmode-lint]\nselect = "KM1"\n', "select must be a list of strings"),
        ('[tool.kerasmode-lint]\nselect = ["KM9"]\n', "unknown rule code or prefix 'KM9'"),
        ('[tool.kerasmode-lint]\nkeras-version = "4"\n', "invalid keras-version '4'"),
        ('[tool.kerasmode-lint]\nexclude = ["[abc"]\n', "exclude: bad glob '[abc'"),
        ('[tool.kerasmode-lint.per-file-ignores]\n"[x" = ["KM101"]\n', "per-file-ignores: bad glob '[x'"),
        ('[tool.kerasmode-lint]\nforce-exclude = "yes"\n', "force-exclude must be true or false"),
    ],
)
def test_bad_config_is_one_line_exit_2(project, capsys, body, message):
    write(project, "a.py", FLAGGED)
    (project / "pyproject.toml").write_text(body)
    code, out, err = run(capsys, "a.py")
    assert code == 2 and out == ""
    [line] = err.strip().splitlines()
    assert message in line and "pyproject.toml" in line


def test_bad_keras_version_flag(project, capsys):
    code, _, err = run(capsys, "--keras-version", "three", ".")
    assert code == 2 and "invalid keras-version 'three'" in err


def test_excludes_and_force_exclude(project, capsys):
    write(project, "gen/a_pb2.py", FLAGGED)
    write(project, ".venv/lib/x.py", FLAGGED)
    assert run(capsys, "--extend-exclude", "*_pb2.py", ".")[0] == 0
    # A file named explicitly is linted anyway, unless --force-exclude.
    assert run(capsys, "--extend-exclude", "*_pb2.py", "gen/a_pb2.py")[0] == 1
    assert run(capsys, "--extend-exclude", "*_pb2.py", "--force-exclude", "gen/a_pb2.py")[0] == 0


def test_gitignore_is_honoured_in_a_repo(project, capsys):
    (project / ".git").mkdir()
    write(project, ".gitignore", "scratch/\n")
    write(project, "scratch/a.py", FLAGGED)
    assert run(capsys, ".")[0] == 0
    assert run(capsys, "--no-respect-gitignore", ".")[0] == 1


def test_keras_version_flag_beats_config(project, capsys):
    (project / "pyproject.toml").write_text('[tool.kerasmode-lint]\nkeras-version = "2"\n')
    write(project, "a.py", "x = 1\n")
    _, out, _ = run(capsys, "--show-settings", "a.py")
    assert "keras-version: 2.15 (set by keras-version in" in out
    _, out, _ = run(capsys, "--show-settings", "--keras-version", "3.16", "a.py")
    assert "keras-version: 3.16 (set by --keras-version)" in out


def test_show_settings_explains_auto(project, capsys):
    write(project, "legacy.py", "import tf_keras as keras\n")
    _, out, _ = run(capsys, "--show-settings", "legacy.py")
    assert "keras-version: 2.15 (file imports tf_keras (line 1))" in out


def test_explain_unknown_code(capsys):
    code, out, err = run(capsys, "--explain", "KM999")
    assert code == 2 and "unknown rule code 'KM999'" in err


def test_parallel_run_gives_the_same_output_as_serial(project, capsys):
    for i in range(40):
        write(project, f"pkg/m{i:02d}.py", FLAGGED if i % 3 == 0 else CLEAN)
    serial = run(capsys, "-j", "1", "pkg")
    parallel = run(capsys, "-j", "2", "pkg")
    assert serial == parallel and serial[0] == 1 and len(serial[1].splitlines()) == 14


def test_console_script_and_module_entry_points(project):
    write(project, "a.py", FLAGGED)
    script = Path(sys.executable).with_name("kerasmode-lint")
    for argv in ([str(script)], [sys.executable, "-m", "kerasmode_lint"]):
        proc = subprocess.run(argv + ["a.py"], capture_output=True, text=True, cwd=project)
        assert proc.returncode == 1, proc.stderr
        assert proc.stdout.startswith("a.py:3:12: KM101")
        assert proc.stderr.splitlines()[0] == "Found 1 problem in 1 file."


def test_no_tensorflow_import_on_the_lint_path(project):
    write(project, "a.py", FLAGGED)
    code = (
        "import sys; from kerasmode_lint.frontends.cli import main; main(['-q', 'a.py']); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('tensorflow', 'keras', 'tf_keras', 'jax', 'torch')))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=project)
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_broken_pipe_is_quiet(project, monkeypatch):
    """``kerasmode-lint src | head``: the reader goes away, no traceback."""
    write(project, "a.py", FLAGGED)

    class ClosedPipe:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

        def fileno(self):
            return os.open(os.devnull, os.O_WRONLY)

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["a.py"]) == 1


# -- selection flags as ruff and flake8 spell them ------------------------------------
def codes_found(out):
    return sorted({line.split()[1] for line in out.splitlines()})


SECOND = textwrap.dedent("""\
    import tensorflow as tf
    tf.keras.backend.set_learning_phase(1)
""")


def test_repeated_select_accumulates(project, capsys):
    write(project, "a.py", FLAGGED)
    write(project, "b.py", SECOND)
    _, out, _ = run(capsys, "--keras-version", "3", "--select", "KM101", "--select", "KM401", ".")
    assert codes_found(out) == ["KM101", "KM401"]
    _, out, _ = run(capsys, "--keras-version", "3", "--select", "KM101,KM401", ".")
    assert codes_found(out) == ["KM101", "KM401"]


def test_extend_ignore_adds_to_config_ignore(project, capsys):
    write(project, "a.py", FLAGGED)
    write(project, "b.py", SECOND)
    (project / "pyproject.toml").write_text('[tool.kerasmode-lint]\nignore = ["KM401"]\n')
    _, out, _ = run(capsys, "--keras-version", "3", ".")
    assert codes_found(out) == ["KM101"]
    code, out, _ = run(capsys, "--keras-version", "3", "--extend-ignore", "KM101", ".")
    assert (code, out) == (0, "")


def test_per_file_ignores_on_the_command_line(project, capsys):
    write(project, "a.py", FLAGGED)
    write(project, "tests/b.py", FLAGGED)
    _, out, _ = run(capsys, "--keras-version", "3", "--per-file-ignores", "tests/*.py:KM1 other.py:KM401", ".")
    assert [line.split(":")[0] for line in out.splitlines()] == ["a.py"]
    code, _, err = run(capsys, "--per-file-ignores", "tests/*.py", ".")
    assert code == 2 and "--per-file-ignores" in err and "GLOB:CODES" in err
    code, _, err = run(capsys, "--per-file-ignores", "tests/*.py:KM9", ".")
    assert code == 2 and "'KM9' in --per-file-ignores" in err


@pytest.mark.parametrize("option", ["--select", "--ignore", "--extend-select", "--extend-ignore"])
def test_an_unknown_code_names_the_option_it_came_from(project, capsys, option):
    code, _, err = run(capsys, option, "KM9", ".")
    assert code == 2
    assert f"'KM9' in {option} " in err and err.count("\n") == 1


def test_an_empty_select_is_a_usage_error(project, capsys):
    code, _, err = run(capsys, "--select", "", ".")
    assert code == 2 and "--select" in err and err.count("\n") == 1


# -- files, fixes, exit codes, explain, help -----------------------------------------
def test_show_files_lists_what_would_be_linted(project, capsys):
    write(project, "pkg/a.py", FLAGGED)
    write(project, "pkg/nb.ipynb", "{}")
    write(project, "pkg/notes.txt", "x")
    write(project, ".venv/lib/x.py", FLAGGED)
    code, out, _ = run(capsys, "--show-files", ".")
    assert code == 0
    assert out.splitlines() == [os.path.join(".", "pkg", "a.py"), os.path.join(".", "pkg", "nb.ipynb")] or \
        out.splitlines() == ["pkg/a.py", "pkg/nb.ipynb"]


def test_exit_non_zero_on_fix_and_show_fixes(project, capsys):
    write(project, "a.py", FLAGGED)
    code, _, err = run(capsys, "--keras-version", "3", "--fix", "--unsafe-fixes", "--show-fixes", "a.py")
    assert code == 0  # everything fixed: nothing left
    assert "a.py: got 1 fix" in err
    write(project, "a.py", FLAGGED)
    code, _, _ = run(capsys, "--keras-version", "3", "--fix", "--unsafe-fixes", "--exit-non-zero-on-fix", "a.py")
    assert code == 1
    assert "training=True" in (project / "a.py").read_text()
    code, _, _ = run(capsys, "--keras-version", "3", "--fix", "--exit-non-zero-on-fix", "a.py")
    assert code == 0  # nothing left to fix
    assert run(capsys, "--exit-non-zero-on-fix", "a.py")[0] == 2
    assert run(capsys, "--show-fixes", "a.py")[0] == 2


def test_explain_takes_several_codes(capsys):
    code, out, _ = run(capsys, "--explain", "KM101", "km202,KM002")
    assert code == 0
    assert [line for line in out.splitlines() if re.match(r"# KM\d{3} ", line)] == [
        "# KM101 tape-call-without-training", "# KM202 functional-training-overridden", "# KM002 unused-noqa"]
    assert run(capsys, "--explain", "KM101", "KM999")[0] == 2


def test_help_groups_options_as_ruff_does(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    groups = re.findall(r"^(\w[\w ]*):$", out, re.M)
    for group in ("rule selection", "file selection", "output", "fixes", "configuration", "performance"):
        assert group in groups, groups
    performance = out.split("performance:")[1].split("\n\n")[0]
    assert "--jobs" in performance and "--cache-dir" in performance


def test_progress_appears_on_a_terminal_after_a_second_and_is_erased(project):
    import pty
    import select

    for n in range(30):
        write(project, f"m{n}.py", FLAGGED)
    env = dict(os.environ, KERASMODE_LINT_PROGRESS_DELAY="0")
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "kerasmode_lint", "--no-cache", "-j", "1", "."],
                            stdout=subprocess.PIPE, stderr=follower, env=env)
    os.close(follower)
    out = proc.stdout.read().decode()
    proc.wait()
    seen = b""
    while select.select([leader], [], [], 0.5)[0]:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert out.count("KM101") == 30  # the findings go to stdout untouched
    assert re.search(rb"\r\d+/30 files", seen), seen[:300]
    assert b"\r\x1b[K" in seen


def test_no_progress_when_stderr_is_piped(project):
    for n in range(3):
        write(project, f"m{n}.py", FLAGGED)
    env = dict(os.environ, KERASMODE_LINT_PROGRESS_DELAY="0")
    proc = subprocess.run([sys.executable, "-m", "kerasmode_lint", "--no-cache", "."],
                          capture_output=True, text=True, env=env)
    assert "files" not in proc.stderr.replace("in 3 files", "")


def test_an_empty_path_is_an_error_not_the_current_folder(tmp_path, monkeypatch, capsys):
    from helpers import FLAGGED

    (tmp_path / "a.py").write_text(FLAGGED)
    monkeypatch.chdir(tmp_path)
    code = main([""])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert "an empty path names no file" in captured.err


def test_a_link_to_a_file_of_the_tree_is_linted_once(tmp_path, monkeypatch, capsys):
    from helpers import FLAGGED

    (tmp_path / "a.py").write_text(FLAGGED)
    (tmp_path / "b.py").symlink_to(tmp_path / "a.py")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.py"
    outside.write_text(FLAGGED)
    (tmp_path / "c.py").symlink_to(outside)  # a file outside the tree: linted through its link
    monkeypatch.chdir(tmp_path)
    main(["--no-cache", "."])
    files = sorted({line.split(":", 1)[0] for line in capsys.readouterr().out.splitlines()})
    assert files == ["a.py", "c.py"]
