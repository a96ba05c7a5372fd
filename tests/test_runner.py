"""Running many files: the pool gives what one process gives, in task order."""
import os
import textwrap

import pytest

from kerasmode_lint.frontends import cli
from kerasmode_lint.engine import runner
from kerasmode_lint.engine.lint import LintOptions

FLAGGED = textwrap.dedent("""\
    import tensorflow as tf
    with tf.GradientTape() as tape:
        pred = model(x)
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
""")


@pytest.fixture
def tree(tmp_path):
    paths = []
    for number in range(40):
        path = tmp_path / f"m{number:02d}.py"
        body = FLAGGED if number % 4 == 0 else "x = 1\n" * number
        if number == 7:
            body = "def broken(:\n"
        path.write_text(body)
        paths.append(str(path))
    paths.append(str(tmp_path / "missing.py"))
    return paths


def summary(results):
    return [(r.path, [(d.line, d.code) for d in r.diagnostics]) for r in results]


def test_pool_and_serial_agree(tree, monkeypatch):
    options = LintOptions(keras_version="3")
    tasks = [(path, options) for path in tree]
    serial = runner.run(tasks, cli.lint_task, jobs=1)
    monkeypatch.setattr(runner, "PARALLEL_MIN_BYTES", 0)
    pooled = runner.run(tasks, cli.lint_task, jobs=2)
    assert summary(pooled) == summary(serial)
    assert [r.path for r in pooled] == tree  # task order, whatever finished first
    flagged = [p for p, diags in summary(serial) if (3, "KM101") in diags]
    assert len(flagged) == 10
    by_path = dict(summary(serial))
    assert by_path[tree[7]][0][1] == "KM001"
    assert by_path[tree[-1]] == [(1, "KM001")]


def test_pool_is_used_only_when_there_is_enough_work(tree, monkeypatch):
    pools = []
    real = runner._pool_context

    def counting():
        pools.append(1)
        return real()

    monkeypatch.setattr(runner, "_pool_context", counting)
    tasks = [(path, LintOptions(keras_version="3")) for path in tree]
    runner.run(tasks, cli.lint_task, jobs=2)
    assert pools == []  # a few kB: one process
    monkeypatch.setattr(runner, "PARALLEL_MIN_BYTES", 0)
    runner.run(tasks, cli.lint_task, jobs=2)
    assert pools == [1]
    runner.run(tasks, cli.lint_task, jobs=1)
    assert pools == [1]


def test_chunks_start_with_the_largest_files(tmp_path, monkeypatch):
    sizes = {"small.py": 10, "huge.py": 50_000, "mid.py": 5_000}
    tasks = []
    for name, size in sizes.items():
        (tmp_path / name).write_text("#" * (size - 1) + "\n")
        tasks.append((str(tmp_path / name), LintOptions(keras_version="3")))
    seen = []
    real = runner.lint_chunk

    def recording(lint, chunk, digests):
        seen.append([os.path.basename(task[0]) for _, task in chunk])
        return real(lint, chunk, digests)

    class InlinePool:
        def __init__(self, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def shutdown(self, wait=True, cancel_futures=False):
            pass

        def submit(self, fn, *args):
            class Done:
                def __init__(self, value):
                    self.value = value

                def result(self):
                    return self.value

            return Done(fn(*args))

    from kerasmode_lint.engine import pool

    monkeypatch.setattr(pool, "ProcessPoolExecutor", InlinePool)
    monkeypatch.setattr(runner, "lint_chunk", recording)
    monkeypatch.setattr(runner, "PARALLEL_MIN_BYTES", 0)
    results = runner.run(tasks, cli.lint_task, jobs=2)
    assert [os.path.basename(r.path) for r in results] == list(sizes)
    assert seen[0] == ["huge.py"]  # first, and alone
    assert [name for chunk in seen for name in chunk] == ["huge.py", "mid.py", "small.py"]


def test_jobs_must_not_be_negative(capsys):
    assert cli.main(["--jobs", "-1", "."]) == 2
    assert "--jobs" in capsys.readouterr().err


def test_a_huge_file_no_rule_can_match_is_not_syntax_checked():
    """CPython's syntax tree of a 10 MB data file costs gigabytes: above the
    cap the file gets a plain KM001, at once and in little memory."""
    import time

    from kerasmode_lint.engine import lint as engine
    from kerasmode_lint.engine.lint import LintOptions

    row = b"    [0.125, 0.250, 0.375, 0.500, 0.625, 0.750, 0.875],\n"
    data = b"VALUES = [\n" + row * (engine.SYNTAX_CHECK_MAX_BYTES // len(row) + 1) + b"]\n"
    started = time.perf_counter()
    [diag] = engine.lint_bytes(data, "table.py", LintOptions(keras_version="3")).diagnostics
    assert time.perf_counter() - started < 1.0
    assert (diag.line, diag.code) == (1, "KM001")
    assert diag.message.startswith("too large to check: 4.0 MiB, and no rule could match it")
    # At the cap, the syntax is still checked: a broken file is reported as broken.
    small = b"VALUES = [\n" + row * ((engine.SYNTAX_CHECK_MAX_BYTES - 100) // len(row))
    [diag] = engine.lint_bytes(small, "table.py", LintOptions(keras_version="3")).diagnostics
    assert diag.message.startswith("cannot parse: '[' was never closed")
