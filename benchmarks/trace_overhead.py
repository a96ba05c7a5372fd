"""What ``kerasmode-lint trace`` costs a training run: a small ``fit`` (an MLP
with BatchNormalization and Dropout, 2,048 samples, batch 32, 3 epochs: 192
steps) timed inside the program, run as ``python program.py`` and as
``python -m kerasmode_lint.trace program.py``, in turn, ``--runs`` times each
(separate processes; the time covers ``fit`` only, its tracing of the train
function included, not the interpreter's or TensorFlow's start-up).

    python benchmarks/trace_overhead.py [--runs 7] [--flavour k3|tfk] [--jit]

It prints, for wall time and for the process's CPU time (all threads; less
sensitive to other jobs on a shared machine), the median fit time of each
and the median of the per-round ratios (traced / plain; each traced run sits
next to its plain run, so load shared by both cancels out). The goal is a
ratio of at most 1.15.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

PROGRAM = """
import sys
import time

import numpy as np
import tensorflow as tf

keras = tf.keras
keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x = rng.standard_normal((2048, 32)).astype("float32")
y = rng.integers(0, 10, 2048)
model = keras.Sequential([
    keras.Input((32,)),
    keras.layers.Dense(64, activation="relu"),
    keras.layers.BatchNormalization(),
    keras.layers.Dropout(0.3),
    keras.layers.Dense(64, activation="relu"),
    keras.layers.BatchNormalization(),
    keras.layers.Dropout(0.3),
    keras.layers.Dense(10),
])
model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              jit_compile=JIT)
start, cpu = time.perf_counter(), time.process_time()
model.fit(x, y, batch_size=32, epochs=3, verbose=0)
print("FIT_SECONDS", time.perf_counter() - start, time.process_time() - cpu)
"""


def run_once(program: Path, traced: bool, env: dict):
    """(wall, CPU) seconds of the fit."""
    command = [sys.executable] + (["-m", "kerasmode_lint.trace", "-o", os.devnull] if traced else []) + [str(program)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    lines = [line for line in result.stdout.splitlines() if line.startswith("FIT_SECONDS ")]
    wall, cpu = lines[-1].split()[1:3]
    return float(wall), float(cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--flavour", choices=("k3", "tfk"), default="k3")
    parser.add_argument("--jit", action="store_true", help="compile the train step with XLA (jit_compile=True)")
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    env.pop("TF_USE_LEGACY_KERAS", None)
    if args.flavour == "tfk":
        env["TF_USE_LEGACY_KERAS"] = "1"
    with tempfile.TemporaryDirectory() as folder:
        env["KERAS_HOME"] = folder
        program = Path(folder) / "fit_program.py"
        program.write_text(PROGRAM.replace("JIT", "True" if args.jit else "False"), encoding="utf-8")
        run_once(program, True, env)  # warm the file caches once, unmeasured
        rounds = []
        for _ in range(args.runs):
            rounds.append((run_once(program, False, env), run_once(program, True, env)))
    print(f"flavour {args.flavour}{' (jit_compile=True)' if args.jit else ''}, {args.runs} rounds, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for i, what in ((0, "wall"), (1, "CPU")):
        plain = [p[i] for p, _ in rounds]
        traced = [t[i] for _, t in rounds]
        ratios = [t[i] / p[i] for p, t in rounds]
        print(f"{what:4}: plain median {statistics.median(plain):.3f} s, "
              f"traced median {statistics.median(traced):.3f} s; "
              f"traced / plain median {statistics.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
