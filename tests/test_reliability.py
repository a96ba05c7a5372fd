"""Reliability: every input gets findings, a KM001 or silence, never a
traceback; one bad file or one broken rule costs that file or that rule only;
nothing but findings on stdout; the linted code is never run.

Fuzzing is in test_fuzz.py; the site-packages sweep is scripts/sweep.py.
"""
import ast
import faulthandler
import os
import random
import re
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from helpers import FLAGGED, add_rules
from kerasmode_lint.frontends import cli
from kerasmode_lint import rules
from kerasmode_lint.engine.lint import LintOptions, lint_bytes
from kerasmode_lint.engine.rule import Rule
from kerasmode_lint.engine.settings import Resolver
from kerasmode_lint.engine.versions import ALL

REPO = Path(__file__).resolve().parent.parent
FINDING_LINE = re.compile(r"^.+:\d+:\d+: KM\d{3} \S.*$")
OPTIONS = LintOptions(keras_version="3")


def lint(data: bytes):
    return [(d.line, d.column, d.code, d.message) for d in lint_bytes(data, "x.py", OPTIONS).diagnostics]


def env_for_subprocess(**extra):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    env.update(extra)
    return env


def run_cli(args, cwd, timeout=120, **env):
    return subprocess.run(
        [sys.executable, "-m", "kerasmode_lint", *args], cwd=cwd, capture_output=True,
        timeout=timeout, env=env_for_subprocess(**env),
    )


# -- odd files -------------------------------------------------------------------
def odd_files(root: Path):
    """name -> (bytes, expected findings as (line, column, code, message part))."""
    rng = random.Random(7)
    flagged = FLAGGED.encode()
    files = {
        "random_bytes.py": (bytes(rng.getrandbits(8) for _ in range(4096)),
                            [(None, None, "KM001", "cannot decode as utf-8")]),
        "nul.py": (b"# GradientTape\nx = 1\x00\n", [(2, 6, "KM001", "NUL byte")]),
        "bad_utf8.py": (b"x = 1\ny = '\xff'\n" + flagged, [(2, 6, "KM001", "invalid byte 0xff")]),
        "latin1.py": (b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + flagged, [(5, 12, "KM101", "")]),
        "bom.py": (b"\xef\xbb\xbf" + flagged, [(3, 12, "KM101", "")]),
        "crlf.py": (flagged.replace(b"\n", b"\r\n"), [(3, 12, "KM101", "")]),
        "cr_only.py": (flagged.replace(b"\n", b"\r"), [(3, 12, "KM101", "")]),
        "tabs.py": (flagged.replace(b"    ", b"\t"), [(3, 9, "KM101", "")]),
        "python2.py": (b"# GradientTape\nprint 'hello'\n", [(2, 1, "KM001", "Missing parentheses")]),
        "nested.py": (b"# GradientTape\nx = " + b"(" * 3000 + b"1" + b")" * 3000 + b"\n",
                      [(2, None, "KM001", "too many nested parentheses")]),
        "empty.py": (b"", []),
        "broken.ipynb": (b'{"cells": [', [(1, 12, "KM001", "notebook is not valid JSON")]),
        "x.py/inside.py": (flagged, [(3, 12, "KM101", "")]),  # a folder named x.py
    }
    for name, (data, _) in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (root / "loop.py").symlink_to("loop.py")  # a symlink loop: not a file, skipped in a walk
    (root / "dangling.py").symlink_to("nowhere.py")
    return files


def check_output(out: str, files, root: str):
    by_file = {}
    for line in out.splitlines():
        assert FINDING_LINE.match(line), line
        path, line_no, column, rest = line.split(":", 3)
        code, message = rest.strip().split(" ", 1)
        by_file.setdefault(os.path.relpath(path, root), []).append((int(line_no), int(column), code, message))
    for name, (_, expected) in files.items():
        got = by_file.pop(name, [])
        assert len(got) == len(expected), (name, got)
        for (line, column, code, part), found in zip(expected, got):
            assert found[2] == code and part in found[3], (name, found)
            assert line is None or found[0] == line, (name, found)
            assert column is None or found[1] == column, (name, found)
    assert not by_file, by_file


def test_odd_files_in_one_batch(tmp_path, monkeypatch, capsys):
    files = odd_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    code = cli.main(["."])
    out, err = capsys.readouterr()
    check_output(out, files, ".")
    assert code == 1 and err.startswith("Found "), err


def test_odd_files_in_a_subprocess_with_warnings_as_errors(tmp_path):
    """Real streams, PYTHONWARNINGS=error, a pool of workers: the same
    findings, nothing else on stdout, only the summary on stderr."""
    files = odd_files(tmp_path)
    for i in range(40):  # enough files for the process pool
        (tmp_path / f"pad{i:02d}.py").write_text("x = r'\\d' if y is 1 else '\\d'\n")
        files[f"pad{i:02d}.py"] = (b"", [])
    proc = run_cli(["-j", "2", "."], tmp_path, PYTHONWARNINGS="error")
    check_output(proc.stdout.decode(), files, ".")
    assert proc.returncode == 1
    summary = proc.stderr.decode().splitlines()  # the count, then how many --fix can fix
    assert re.fullmatch(r"Found \d+ problems in \d+ files\.", summary[0]) and len(summary) <= 2, summary
    assert all("Traceback" not in line and "Warning" not in line for line in summary), summary


def test_missing_path_and_symlink_loop_named_exit_2_and_the_rest_is_linted(tmp_path, monkeypatch, capsys):
    (tmp_path / "a.py").write_text(FLAGGED)
    (tmp_path / "loop.py").symlink_to("loop.py")
    monkeypatch.chdir(tmp_path)
    code = cli.main(["a.py", "nothere.py", "loop.py"])
    out, err = capsys.readouterr()
    assert code == 2 and out.startswith("a.py:3:12: KM101")
    assert "nothere.py: no such file or directory" in err
    assert "loop.py: too many levels of symbolic links" in err


def test_unreadable_file_is_km001_and_the_rest_is_linted(tmp_path, monkeypatch, capsys):
    # Tests run as root, for whom chmod 000 changes nothing: refuse the read instead.
    (tmp_path / "secret.py").write_text(FLAGGED)
    (tmp_path / "b.py").write_text(FLAGGED)
    real_open = os.open

    def guarded_open(path, flags, *args, **kwargs):
        if os.fspath(path).endswith("secret.py"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded_open)
    monkeypatch.chdir(tmp_path)
    code = cli.main(["-j", "1", "."])
    out, _ = capsys.readouterr()
    assert code == 1
    assert out.splitlines() == [
        "b.py:3:12: KM101 " + out.splitlines()[0].split(" KM101 ", 1)[1],
        "secret.py:1:1: KM001 cannot read: Permission denied",
    ]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_fifo_named_on_the_command_line_is_refused_not_waited_for(tmp_path):
    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "a.py").write_text(FLAGGED)
    proc = run_cli(["pipe.py", "a.py"], tmp_path, timeout=60)  # blocked forever before
    lines = proc.stdout.decode().splitlines()
    assert lines[0].startswith("a.py:3:12: KM101")
    assert lines[1] == "pipe.py:1:1: KM001 cannot read: not a regular file"
    assert proc.returncode == 1


def test_file_name_not_valid_utf8_and_an_ascii_terminal(tmp_path):
    (tmp_path / os.fsdecode(b"caf\xe9.py")).write_text(FLAGGED)
    proc = run_cli(["--explain", "KM101"], tmp_path, PYTHONIOENCODING="ascii:strict")
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr
    proc = run_cli(["."], tmp_path, PYTHONIOENCODING="utf-8:strict")
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith(b"caf\xe9.py:3:12: KM101")  # the name's own bytes


def test_reader_that_stops_early_is_no_traceback(tmp_path):
    for i in range(100):  # far more output than a pipe buffers
        (tmp_path / f"m{i:03d}.py").write_text(FLAGGED * 4)
    proc = subprocess.Popen(
        [sys.executable, "-m", "kerasmode_lint", "-j", "1", "."], cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env_for_subprocess(),
    )
    assert proc.stdout.readline().startswith(b"m000.py:")
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == cli.EXIT_FINDINGS
    assert b"Traceback" not in err and b"Exception" not in err, err


# -- the engine on odd text ------------------------------------------------------------
def test_every_codec_named_in_a_cookie_gives_a_result():
    import encodings.aliases

    names = set(encodings.aliases.aliases) | set(encodings.aliases.aliases.values())
    body = b"# GradientTape\nx = '\xe9\xff\\N{x}'\n"
    for name in sorted(names) + ["no-such-codec"]:
        data = f"# coding: {name}\n".encode() + body
        for line, column, code, message in lint(data):  # raised LookupError for rot13 before
            assert code == "KM001" and not message.startswith("internal error"), (name, message)
    assert lint(b"# coding: rot13\n# GradientTape\n") == [
        (1, 1, "KM001", "cannot decode: 'rot13' is not a text encoding")]


def test_cr_only_file_cookie_and_positions():
    assert lint(b"# GradientTape\rx = 1\ry = '\xff'\r") == [
        (3, 6, "KM001", "cannot decode as utf-8: invalid byte 0xff")]
    latin1 = b"#!/usr/bin/env python\r# -*- coding: latin-1 -*-\r# caf\xe9\r" + FLAGGED.encode().replace(b"\n", b"\r")
    assert [(line, code) for line, _, code, _ in lint(latin1)] == [(6, "KM101")]


def test_syntax_warnings_of_the_linted_code_never_show_nor_become_errors():
    source = ("x = '\\d' if y is 1 else f'\\w'\nassert (x, 'never false')\n" + FLAGGED).encode()
    for action in ("always", "error"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter(action)
            assert [(line, code) for line, _, code, _ in lint(source)] == [(5, "KM101")]
            # A file no rule can match only gets CPython's syntax check: same rule.
            assert lint(source.replace(b"GradientTape", b"Something")) == []
        assert caught == []


def test_valid_code_libcst_cannot_parse_is_not_called_invalid():
    # A GradientTape and an optimizer step send the file to libcst (KM101's words).
    [(line, _, code, message)] = lint(b"# GradientTape apply_gradients\n(pars): bool = True\n")
    assert (line, code) == (2, "KM001")
    assert message.startswith("cannot parse with libcst, although Python accepts this code: ")


def test_200000_line_file_without_trigger_words_is_checked_fast():
    """Files that cannot match skip libcst: a huge one gets CPython's syntax
    check only (the same file with trigger words: test_huge_file, -m slow)."""
    body = b"x = [1, 2, 3]\n" * 199_999
    assert lint(body + b"y = (\n") == [(200_000, 5, "KM001", "cannot parse: '(' was never closed")]


@pytest.mark.slow
def test_huge_file_with_trigger_words_is_linted():
    data = FLAGGED.encode() * 40_000  # 200,000 lines, 40,000 findings
    found = lint(data)
    assert len(found) == 40_000 and {code for _, _, code, _ in found} == {"KM101"}


# -- deep code: libcst recurses per level -----------------------------------------------
def run_isolated_lint(source: str, timeout=300):
    """Lint ``source`` in a child process, so that a segfault fails the test
    instead of killing pytest."""
    code = (
        "import sys; from kerasmode_lint.engine.lint import lint_bytes, LintOptions; "
        "r = lint_bytes(sys.stdin.buffer.read(), 'x.py', LintOptions(keras_version='3')); "
        "print(r.internal_error); [print(d.line, d.code, d.message) for d in r.diagnostics]"
    )
    proc = subprocess.run([sys.executable, "-c", code], input=source.encode(), capture_output=True,
                          timeout=timeout, env=env_for_subprocess())
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    internal, *lines = proc.stdout.decode().splitlines()
    assert internal == "False"
    return lines


@pytest.mark.parametrize("name, expression, expected", [
    # Valid Python that once crashed: libcst's parser overflowed the main
    # thread's stack (segfault) or code generation hit the recursion limit.
    ("chained and", "x = " + " and ".join(["a"] * 12_000), "KM101"),
    ("elif chain", "if a:\n    pass\n" + "elif a:\n    pass\n" * 3_000, "KM101"),
    ("implicit concatenation", "x = (\n" + "    'a'\n" * 3_000 + ")", "KM101"),
    ("binary chain", "x = " + " + ".join(["a"] * 1_000), "KM101"),
    # Deeper than CPython accepts: refused before libcst spends gigabytes or minutes on it.
    ("unary chain", "x = " + "-" * 10_000 + "y", "KM001 cannot parse"),
    ("not chain", "x = " + "not " * 10_000 + "y", "KM001 cannot parse"),
    ("power chain", "x = " + "**".join(["a"] * 3_000), "KM001 cannot parse"),
    ("brackets", "x = " + "[" * 20_000 + "]" * 20_000, "KM001 cannot parse"),
])
def test_deeply_nested_code(name, expression, expected):
    lines = run_isolated_lint(expression + "\n" + FLAGGED)
    assert len(lines) == 1 and " ".join(lines[0].split(" ")[1:]).startswith(expected), lines


# -- bugs of ours: one rule, one file --------------------------------------------------
class _Working(Rule):
    code, name, summary, versions, triggers = "KM990", "working", "always reports", ALL, (b"tf",)

    def visit_Module(self, node):
        self.report(node)


class _Broken(Rule):
    code, name, summary, versions, triggers = "KM991", "broken", "always raises", ALL, (b"tf",)

    def visit_Call(self, node):
        if "bad" in self.context.path:
            raise ZeroDivisionError("boom")


@pytest.fixture
def extra_rules(monkeypatch):
    add_rules(monkeypatch, _Working, _Broken)
    return LintOptions(keras_version="3", enabled=frozenset(rules.CODES))


def test_broken_rule_costs_only_itself(extra_rules):
    result = lint_bytes(FLAGGED.encode(), "bad.py", extra_rules)
    codes = sorted(d.code for d in result.diagnostics)
    assert result.internal_error and codes == ["KM001", "KM101", "KM990"]
    [error] = [d for d in result.diagnostics if d.code == "KM001"]
    assert error.message.startswith("internal error in rule KM991 (broken): ZeroDivisionError: boom;")
    assert "please report it" in error.explanation and "report" not in error.message
    assert not lint_bytes(FLAGGED.encode(), "good.py", extra_rules).internal_error


def test_broken_rule_in_the_cli_exits_2_and_the_other_files_are_linted(tmp_path, monkeypatch, capsys):
    add_rules(monkeypatch, _Broken)
    for name in ("bad.py", "good.py"):
        (tmp_path / name).write_text(FLAGGED)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(Resolver, "_make_plan", _plan_with_all_rules(Resolver._make_plan))
    code = cli.main(["-j", "1", "."])
    out = capsys.readouterr().out.splitlines()
    assert code == 2
    assert [line.split(" ")[:2] for line in out] == [
        ["bad.py:1:1:", "KM001"], ["bad.py:3:12:", "KM101"], ["good.py:3:12:", "KM101"]]


def _plan_with_all_rules(make_plan):
    def patched(self, config):
        plan = make_plan(self, config)
        plan.options = LintOptions(keras_version="3", enabled=frozenset(rules.CODES))
        return plan
    return patched


def test_bug_outside_any_rule_costs_only_that_file(monkeypatch):
    from kerasmode_lint.analysis.names import ImportTracker

    def broken(self, node):
        raise KeyError(node)  # carries a whole syntax tree: its repr must not end up in the message

    monkeypatch.setattr(ImportTracker, "visit_Import", broken)
    result = lint_bytes(FLAGGED.encode(), "x.py", OPTIONS)
    [diag] = result.diagnostics
    assert result.internal_error and diag.code == "KM001"
    assert diag.message.startswith("internal error: KeyError: Import;") and len(diag.message) < 200


def test_bug_in_fixing_costs_only_that_file(tmp_path, monkeypatch, capsys):
    from kerasmode_lint.engine import autofix

    def broken(source, options, unsafe):
        if source.path.endswith("bad.py"):
            raise ValueError("fix bug")
        return real(source, options, unsafe)

    real = autofix.fix_file
    monkeypatch.setattr(autofix, "fix_file", broken)
    for name in ("bad.py", "good.py"):
        (tmp_path / name).write_text(FLAGGED)
    monkeypatch.chdir(tmp_path)
    code = cli.main(["-j", "1", "--fix", "--unsafe-fixes", "."])
    out = capsys.readouterr().out.splitlines()
    assert code == 2
    assert out == ["bad.py:1:1: KM001 internal error: ValueError: fix bug; this file was not checked"]
    assert "training=True" in (tmp_path / "good.py").read_text()  # fixed all the same
    assert (tmp_path / "bad.py").read_text() == FLAGGED  # left as it was


_PYTEST_PID = os.getpid()
_REAL_LINT_TASK = cli.lint_task


def _lint_task_crashing_on_crash_py(path, *args):  # module level: sent to the workers by reference
    if path.endswith("crash.py"):
        assert os.getpid() != _PYTEST_PID  # never in pytest's own process
        faulthandler.disable()  # pytest's would print the worker's stack
        os.kill(os.getpid(), signal.SIGSEGV)  # what a crash in native code looks like
    return _REAL_LINT_TASK(path, *args)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs fork to carry the patch to workers")
def test_worker_that_dies_costs_only_its_file(tmp_path, monkeypatch, capsys):
    from kerasmode_lint.engine import runner

    monkeypatch.setattr(cli, "lint_task", _lint_task_crashing_on_crash_py)
    monkeypatch.setattr(runner, "PARALLEL_MIN_BYTES", 0)
    for i in range(40):
        (tmp_path / f"m{i:02d}.py").write_text(FLAGGED)
    (tmp_path / "crash.py").write_text(FLAGGED)
    monkeypatch.chdir(tmp_path)
    code = cli.main(["-j", "2", "--no-cache", "."])
    out = capsys.readouterr().out.splitlines()
    assert code == 2
    assert out[0].startswith("crash.py:1:1: KM001 internal error: the worker process linting it died")
    assert len(out) == 41 and all(" KM101 " in line for line in out[1:])


# -- bare excepts ------------------------------------------------------------------------
def test_no_bare_except_in_the_package():
    for path in (REPO / "kerasmode_lint").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        bare = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.ExceptHandler) and n.type is None]
        assert not bare, (path, bare)


# -- the linted code is never run, the network never reached ---------------------------------
MARKER_CODE = "open({marker!r}, 'a').write({name!r} + '\\n')\n"


def make_trap_project(root: Path, marker: Path):
    """A project whose every module, if imported or run, appends its name to ``marker``."""
    def trap(rel):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(MARKER_CODE.format(marker=str(marker), name=rel))

    # Names of standard modules the linter imports lazily: with `python -m`
    # the working folder comes first on sys.path.
    for rel in ("mypkg/__init__.py", "evil.py", "setup.py", "conftest.py", "dataclasses.py",
                "tomllib.py", "json.py", "configparser.py", "fnmatch.py", "typing.py"):
        trap(rel)
    (root / "train.py").write_text(
        "import mypkg\nfrom evil import x\nimport setup\n" + FLAGGED
        + "exec(open('evil.py').read())\neval('__import__(\"evil\")')\n"
    )
    (root / "pyproject.toml").write_text(
        '[project]\nname = "trap"\ndependencies = ["keras>=3"]\n[tool.kerasmode-lint]\nselect = ["KM"]\n'
    )
    (root / "requirements.txt").write_text("tensorflow>=2.16\n")


def test_the_linted_code_is_never_imported_or_run(tmp_path):
    marker = tmp_path / "ran.txt"
    project = tmp_path / "project"
    make_trap_project(project, marker)
    for argv in ([sys.executable, "-m", "kerasmode_lint", "."],
                 [sys.executable, "-m", "kerasmode_lint", "-j", "2", "--show-settings", "train.py"]):
        proc = subprocess.run(argv, cwd=project, capture_output=True, timeout=120, env=env_for_subprocess())
        assert proc.returncode in (0, 1), proc.stderr
        assert not marker.exists(), marker.read_text()
    assert b"train.py:6:12: KM101" in subprocess.run(
        [sys.executable, "-m", "kerasmode_lint", "."], cwd=project, capture_output=True,
        env=env_for_subprocess()).stdout
    # The trap works: running the file does write the marker.
    subprocess.run([sys.executable, "evil.py"], cwd=project, timeout=60)
    assert marker.read_text() == "evil.py\n"


NO_NETWORK = """
import socket

def _refuse(*args, **kwargs):
    open({marker!r}, 'a').write('network\\n')
    raise OSError('network use refused by the test')

_connect = socket.socket.connect
def _connect_inet_only(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _refuse()
    return _connect(self, address)

socket.socket.connect = _connect_inet_only
socket.socket.connect_ex = _connect_inet_only
socket.getaddrinfo = socket.create_connection = _refuse
open({marker!r}, 'a').write('armed\\n')
"""


def test_no_network(tmp_path):
    marker = tmp_path / "net.txt"
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(NO_NETWORK.format(marker=str(marker)))
    project = tmp_path / "project"
    make_trap_project(project, tmp_path / "ran.txt")
    env = env_for_subprocess()
    env["PYTHONPATH"] = os.pathsep.join([str(guard), env["PYTHONPATH"]])
    for args in (["."], ["-j", "2", "."], ["--show-settings", "train.py"]):
        proc = subprocess.run([sys.executable, "-m", "kerasmode_lint", *args], cwd=project,
                              capture_output=True, timeout=120, env=env)
        assert proc.returncode in (0, 1), proc.stderr
    assert set(marker.read_text().split()) == {"armed"}
    # The guard works: a connection attempt is recorded.
    subprocess.run([sys.executable, "-c", "import socket; socket.create_connection(('example.com', 80))"],
                   env=env, capture_output=True, timeout=60)
    assert "network" in marker.read_text().split()
