"""``kerasmode-lint trace``, the runtime twin: a real training script, run
under Keras 3 (TensorFlow backend) and tf_keras in subprocesses, once as
``python script.py`` and once traced. The trace must report what the run did
(the training values, drops, statistics, weights per phase), the two
deliberate mistakes at their lines, the script's exit code and output, and
weights bit for bit identical to the untraced run's."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kerasmode_lint.runtime import recorder as rec
from kerasmode_lint.runtime.report import render_text

REPO = Path(__file__).resolve().parent.parent
PROGRAM = REPO / "tests" / "trace_programs" / "mistakes.py"
PROGRAM_LINES = PROGRAM.read_text(encoding="utf-8").splitlines()


def line_of(text):
    """1-based line of the program's only line containing ``text``."""
    hits = [n for n, line in enumerate(PROGRAM_LINES, 1) if text in line]
    assert len(hits) == 1, (text, hits)
    return hits[0]


def environment(flavour, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO), KERAS_HOME=str(tmp_path / "keras_home"),
               TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    env.pop("TF_USE_LEGACY_KERAS", None)
    env.pop("KERAS_BACKEND", None)
    if flavour == "tfk":
        env["TF_USE_LEGACY_KERAS"] = "1"
    return env


def run(command, flavour, tmp_path, cwd=None):
    return subprocess.run(command, cwd=cwd or tmp_path, env=environment(flavour, tmp_path), capture_output=True,
                          text=True, timeout=600)


def weights_line(stdout):
    lines = [line for line in stdout.splitlines() if line.startswith("weights ")]
    assert len(lines) == 1, stdout
    return lines[0]


def check_report(data, flavour):
    """What the program did, phase by phase (the same in both flavours)."""
    phases = {(p["phase"], p["site"]["line"] if p["site"] else None): p for p in data["phases"]}

    def rows(kind, text):
        phase = phases[(kind, line_of(text))]
        return {row["layer"].split("/", 1)[1]: row for row in phase["layers"]}

    fit = rows("fit", "model.fit(")
    assert fit["bn"]["training"] == {"True": 2} and fit["bn"]["stats_moved"] is True
    assert fit["drop"]["training"] == {"True": 2} and fit["drop"]["changed_input"] == 2
    predict = rows("predict", "model.predict(")
    assert predict["bn"]["training"] == {"False": 2} and predict["bn"]["stats_moved"] is False
    assert predict["drop"]["changed_input"] == 0
    # The tf.function step runs three times after one trace: counted in the graph.
    step_phase = phases[("custom-step", line_of("model(xb)"))]
    assert step_phase["optimizer_steps"] == 3
    step = {row["layer"].split("/", 1)[1]: row for row in step_phase["layers"]}
    assert step["bn"]["calls"] == 3 and "True" not in step["bn"]["training"]
    assert step["bn"]["stats_moved"] is False and step["bn"]["weights_changed"] is True
    assert step["drop"]["changed_input"] == 0
    # Keras 3 passes Dropout its signature default (False); tf_keras passes nothing.
    assert step["drop"]["training"] == ({"False": 3} if flavour == "k3" else {"None": 3})
    direct = rows("call", "model(x[:4])")
    assert direct["bn"]["calls"] == 1 and "True" not in direct["bn"]["training"]
    frozen = rows("fit", "classifier.fit(")
    assert frozen["base/drop"]["frozen"] is True and frozen["base/drop"]["changed_input"] == 2
    assert frozen["base/bn"]["stats_moved"] is False  # trainable=False keeps it in inference
    found = sorted((f["code"], f["line"]) for f in data["findings"])
    assert found == [("KM101", line_of("model(xb)")), ("KM201", line_of("base(inputs)"))], data["findings"]
    for finding in data["findings"]:
        assert finding["path"] == str(PROGRAM) and finding["doc"] == f"rules/{finding['code']}.md"
    assert [f["name"] for f in sorted(data["findings"], key=lambda f: f["code"])] == [
        "tape-call-without-training", "frozen-model-without-training-false"]
    assert data["notes"] == []


@pytest.mark.tensorflow
def test_trace_under_keras3_prints_the_table_and_findings_and_changes_nothing(tmp_path):
    plain = run([sys.executable, str(PROGRAM), "3"], "k3", tmp_path)
    assert plain.returncode == 3, plain.stderr
    # From the repository, as a user runs it from the project: paths print relative.
    traced = run([sys.executable, "-m", "kerasmode_lint", "trace", str(PROGRAM), "3"], "k3", tmp_path, cwd=REPO)
    assert traced.returncode == 3, traced.stderr  # the script's exit code
    assert weights_line(traced.stdout) == weights_line(plain.stdout)  # bit for bit, and argv passed on
    assert weights_line(plain.stdout).endswith("argv ['3']")
    report = traced.stderr[traced.stderr.index("kerasmode-lint trace ("):]
    assert report.splitlines()[0].startswith("kerasmode-lint trace (keras 3.")
    relative = "tests/trace_programs/mistakes.py"
    step = report.index(f"custom training step at {relative}:{line_of('model(xb)')} (3 optimizer steps): model `net`")
    table = report[step:].split("\n\n")[0].splitlines()
    assert table[1].split() == ["layer", "training", "dropped", "stats", "moved", "weights", "changed"]
    assert table[2].split() == ["net/bn", "None×3", "-", "no", "yes"]
    assert table[3].split() == ["net/drop", "False×3", "no", "(0/3)", "-", "-"]
    assert f"{relative}:{line_of('model(xb)')}: KM101 `net` ran in inference mode in a custom training step" in report
    assert f"{relative}:{line_of('base(inputs)')}: KM201 frozen `classifier/base` ran in training mode" in report
    assert report.rstrip().endswith("Found 2 mode problems in this run.")
    # The README's example is this run's output, line for line.
    readme = (REPO / "README.md").read_text(encoding="utf-8").split("## Tracing a run", 1)[1]
    example = readme.split("under Keras 3.15.1:\n\n```\n", 1)[1].split("```", 1)[0]
    assert example.strip() and all(line in report.splitlines() for line in example.splitlines() if line)


@pytest.mark.tensorflow
def test_trace_under_tf_keras_reports_json_and_changes_nothing(tmp_path):
    plain = run([sys.executable, str(PROGRAM)], "tfk", tmp_path)
    assert plain.returncode == 0, plain.stderr
    out = tmp_path / "report.json"
    traced = run([sys.executable, "-m", "kerasmode_lint.trace", "--output-format", "json", "-o", str(out),
                  str(PROGRAM)], "tfk", tmp_path)
    assert traced.returncode == 0, traced.stderr
    assert weights_line(traced.stdout) == weights_line(plain.stdout)
    assert "kerasmode-lint trace" not in traced.stderr  # the report went to the file
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["schema"] == 1 and data["keras"] == ["tf_keras 2.21.0"]
    check_report(data, "tfk")
    # The text form of the same data names the same problems at the same lines.
    text = render_text(data)
    assert f":{line_of('model(xb)')}: KM101 `net` ran in inference mode" in text
    assert f":{line_of('base(inputs)')}: KM201 frozen `classifier/base`" in text


def test_a_missing_script_is_one_line_and_exit_2(tmp_path):
    result = subprocess.run([sys.executable, "-m", "kerasmode_lint.trace", "nowhere.py"], cwd=tmp_path,
                            env=dict(os.environ, PYTHONPATH=str(REPO)), capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"python -m kerasmode_lint.trace: can't open file {str(tmp_path / 'nowhere.py')!r}: "
        "[Errno 2] No such file or directory"]


def test_a_script_that_raises_shows_its_own_traceback_and_exit_code(tmp_path):
    script = tmp_path / "boom.py"
    script.write_text("import sys\nprint('before')\n\n\ndef f():\n    raise ValueError('no data')\n\n\nf()\n")
    result = subprocess.run([sys.executable, "-m", "kerasmode_lint", "trace", str(script)], cwd=tmp_path,
                            env=dict(os.environ, PYTHONPATH=str(REPO)), capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stdout == "before\n"
    lines = result.stderr.splitlines()
    assert lines[:3] == ["Traceback (most recent call last):", f'  File "{script}", line 9, in <module>', "    f()"]
    assert lines[-2:] == ["ValueError: no data",
                          "kerasmode-lint trace: the program did not import Keras; nothing traced"]
    assert "kerasmode_lint" not in "\n".join(lines[:-1])  # no frame of the tracer


def test_script_arguments_and_sys_exit_are_the_scripts(tmp_path):
    script = tmp_path / "args.py"
    script.write_text("import sys\nprint(__name__, sys.argv, sys.path[0])\nsys.exit('bad input')\n")
    result = subprocess.run([sys.executable, "-m", "kerasmode_lint", "trace", "args.py", "--epochs", "1"],
                            cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(REPO)), capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stdout == f"__main__ ['args.py', '--epochs', '1'] {tmp_path}\n"
    assert result.stderr.splitlines()[0] == "bad input"


def test_the_counter_table_is_bounded():
    """Aggregate counts, never a log: the table has a fixed size."""
    assert rec.RECORDER.eager.shape == (rec.MAX_CONTEXTS * rec.MAX_LAYERS * rec.SLOTS,)
    assert rec.MAX_CONTEXTS * rec.MAX_LAYERS * rec.SLOTS * 8 <= 1 << 20  # 256 KiB of int64


def test_the_pytest_plugin_and_the_runtime_extra_are_declared():
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        import tomli as tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["entry-points"]["pytest11"] == {"kerasmode_lint": "kerasmode_lint.runtime.pytest_plugin"}
    assert project["optional-dependencies"]["runtime"] == []


PLUGIN_TESTS = """
import numpy as np
import tensorflow as tf

from kerasmode_lint.runtime import ModeMonitor

keras = tf.keras
x = (10.0 + np.random.default_rng(0).standard_normal((32, 4))).astype("float32")
y = np.zeros((32, 1), "float32")


def model():
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(4), keras.layers.BatchNormalization(name="bn"),
                             keras.layers.Dropout(0.5, name="drop"), keras.layers.Dense(1)], name="m")


def test_fixture_sees_the_fit(kerasmode_mode_report):
    net = model()
    net.compile("sgd", "mse")
    net.fit(x, y, batch_size=16, epochs=2, verbose=0)
    bn = kerasmode_mode_report.layers("fit", kind="batchnorm")
    assert [(row["layer"], row["training"], row["stats_moved"]) for row in bn] == [("m/bn", {"True": 4}, True)]
    assert kerasmode_mode_report.findings == []


def test_fixture_starts_empty_and_sees_a_bare_step(kerasmode_mode_report):
    assert kerasmode_mode_report.phases() == []
    net = model()
    optimizer = keras.optimizers.SGD(0.01)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(net(x) ** 2)
    grads = tape.gradient(loss, net.trainable_variables)
    optimizer.apply_gradients(zip(grads, net.trainable_variables))
    assert [f["code"] for f in kerasmode_mode_report.findings] == ["KM101"]


def test_monitor_reports_its_fit(capsys):
    net = model()
    net.compile("sgd", "mse")
    monitor = ModeMonitor()
    net.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[monitor])
    fits = [p for p in monitor.report["phases"] if p["phase"] == "fit"]
    rows = {row["layer"]: row for row in fits[0]["layers"]}
    assert rows["m/drop"]["changed_input"] == 2 and rows["m/bn"]["stats_moved"] is True
    assert "No mode problem seen in this run" in capsys.readouterr().err
"""


@pytest.mark.tensorflow
def test_the_pytest_fixture_and_the_keras_callback(tmp_path):
    (tmp_path / "test_modes.py").write_text(PLUGIN_TESTS, encoding="utf-8")
    # The plugin comes from the installed package's pytest11 entry point, as
    # a user's pytest finds it (naming it with -p as well registers it twice).
    result = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_modes.py"], "k3", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_a_script_with_a_syntax_error_is_reported_as_python_reports_it(tmp_path):
    script = tmp_path / "broken.py"
    script.write_text("print('x'\n")
    plain = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True)
    traced = subprocess.run([sys.executable, "-m", "kerasmode_lint", "trace", str(script)], cwd=tmp_path,
                            env=dict(os.environ, PYTHONPATH=str(REPO)), capture_output=True, text=True)
    assert traced.returncode == plain.returncode == 1
    assert traced.stderr.splitlines()[:-1] == plain.stderr.splitlines()


@pytest.mark.tensorflow
def test_trace_under_the_jax_backend_counts_jitted_steps_and_changes_nothing(tmp_path):
    program = REPO / "tests" / "trace_programs" / "jax_fit.py"
    plain = run([sys.executable, str(program)], "k3", tmp_path)
    assert plain.returncode == 0, plain.stderr
    out = tmp_path / "report.json"
    traced = run([sys.executable, "-m", "kerasmode_lint.trace", "--output-format", "json", "-o", str(out),
                  str(program)], "k3", tmp_path)
    assert traced.returncode == 0, traced.stderr
    assert weights_line(traced.stdout) == weights_line(plain.stdout)
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["keras"][0].endswith("(jax)") and data["notes"] == [] and data["findings"] == []
    rows = {(p["phase"], row["layer"]): row for p in data["phases"] for row in p["layers"]}
    assert rows[("fit", "m/bn")]["training"] == {"True": 4} and rows[("fit", "m/bn")]["stats_moved"] is True
    assert rows[("fit", "m/drop")]["changed_input"] == 4
    assert rows[("predict", "m/drop")]["training"] == {"False": 2} and rows[("predict", "m/drop")]["changed_input"] == 0


def test_the_static_rules_flag_the_lines_the_trace_confirms(capsys):
    """One knowledge base, two modes: the lines the trace reports (checked
    above under both flavours) are those the linter flags."""
    from kerasmode_lint.frontends import cli

    assert cli.main(["--no-cache", "--isolated", "--output-format", "json", "--keras-version", "3",
                     str(PROGRAM)]) == 1
    found = sorted((f["code"], f["line"]) for f in json.loads(capsys.readouterr().out))
    assert found == [("KM101", line_of("model(xb)")), ("KM201", line_of("base(inputs)"))]


def test_loading_the_pytest_plugin_imports_nothing_heavy():
    code = ("import sys; import kerasmode_lint.runtime.pytest_plugin; "
            "print(sorted(m for m in ('numpy', 'libcst', 'tensorflow', 'keras', 'kerasmode_lint.runtime.recorder') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, PYTHONPATH=str(REPO)),
                            capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
