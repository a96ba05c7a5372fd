"""How fast kerasmode-lint lints code where Keras users live (most files hold
models and training code), measured against one-process ``libcst.parse_module``
and ``ast.parse`` loops over the same files, and against ruff.

    python benchmarks/keras_heavy.py [--runs 5] [--sizes 10000,25000,50000,100000] [--work-dir DIR]

Corpora (built once into the work folder):

- ``keras x3``: the files of the keras 3.15.1 wheel that reach the libcst
  parse (the prefilter lets a rule through), copied three times;
- ``300 scripts``: synthetic training scripts (benchmarks/training_scripts.py);
- ``50k file``: one 50,000-line file of such scripts concatenated;
- the scaling files: one file of each of ``--sizes`` lines.

Each round runs, in turn, every command on every corpus as a separate
process timed from outside (interpreter start-up included): the linter cold
(``--no-cache``, all cores), ``libcst.parse_module`` and ``ast.parse`` of every
file in one process, and ``ruff check --select ALL --no-cache`` when ruff is
installed. Ratios are medians of the per-round ratios (the baseline runs next
to each measurement, so load that comes and goes cancels out). The load
(``os.getloadavg``) is printed at the start and the end: figures from a loaded
machine are not figures. Goals (issue 15): cold <= 0.65x one-process libcst on
each corpus; a 25,000-line file within 1.3x of its own libcst parse; a
100,000-line file within 4.2x of the 25,000-line one.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]

from keras_corpus import REPO, fetch_corpus, install_linter, measure  # noqa: E402
from training_scripts import one_file, scripts  # noqa: E402

PARSE_ALL = """\
import os, sys
paths = [sys.argv[2]] if os.path.isfile(sys.argv[2]) else [
    os.path.join(folder, name) for folder, _, names in os.walk(sys.argv[2]) for name in names if name.endswith(".py")]
if sys.argv[1] == "libcst":
    import libcst
    for path in paths:
        with open(path, "rb") as handle:
            libcst.parse_module(handle.read())
else:
    import ast
    for path in paths:
        with open(path, "rb") as handle:
            ast.parse(handle.read(), path)
"""


def build_corpora(work: str, sizes):
    """{name: path} of every corpus, written once."""
    corpora = os.path.join(work, "heavy")
    done = os.path.join(corpora, ".done-" + "-".join(map(str, sizes)))
    paths = {
        "keras x3": os.path.join(corpora, "keras-x3"),
        "300 scripts": os.path.join(corpora, "scripts"),
        "50k file": os.path.join(corpora, "one", "train_50k.py"),
    }
    for size in sizes:
        paths[f"{size} lines"] = os.path.join(corpora, "scaling", f"train_{size}.py")
    if os.path.exists(done):
        return paths
    shutil.rmtree(corpora, ignore_errors=True)
    from kerasmode_lint.engine.prefilter import rules_matching
    from kerasmode_lint.rules import ALL_RULES

    source = fetch_corpus(work)
    for folder, _, names in os.walk(source):
        for name in names:
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                data = handle.read()
            if not rules_matching(data, ALL_RULES, path):
                continue
            for copy in ("a", "b", "c"):
                target = os.path.join(paths["keras x3"], copy, os.path.relpath(path, source))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as handle:
                    handle.write(data)
    os.makedirs(paths["300 scripts"])
    for index, text in enumerate(scripts(300)):
        with open(os.path.join(paths["300 scripts"], f"train_{index:03d}.py"), "w") as handle:
            handle.write(text)
    for name, lines in [("50k file", 50_000)] + [(f"{size} lines", size) for size in sizes]:
        os.makedirs(os.path.dirname(paths[name]), exist_ok=True)
        with open(paths[name], "w") as handle:
            handle.write(one_file(lines))
    with open(done, "w"):
        pass
    return paths


def count(path: str):
    files = [path] if os.path.isfile(path) else [
        os.path.join(folder, name) for folder, _, names in os.walk(path) for name in names if name.endswith(".py")]
    lines = 0
    for file in files:
        with open(file, "rb") as handle:
            lines += handle.read().count(b"\n")
    return len(files), lines


def load() -> str:
    try:
        return "load average %.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        return "load average unknown"


def median_ratio(top, bottom) -> str:
    ratios = [a / b for a, b in zip(top, bottom)]
    return f"{statistics.median(ratios):.2f}x (min {min(ratios):.2f}, max {max(ratios):.2f})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="10000,25000,50000,100000")
    parser.add_argument("--work-dir", default=os.path.join(tempfile.gettempdir(), "kerasmode-lint-bench"))
    parser.add_argument("--jobs", type=int, default=0, help="--jobs for the linter (default 0: all cores)")
    parser.add_argument("--linter", help="the kerasmode-lint command (default: this checkout, installed into a venv)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    paths = build_corpora(args.work_dir, sizes)
    linter = args.linter.split() if args.linter else [install_linter(args.work_dir)]
    ruff = shutil.which("ruff") or (os.path.join(os.path.dirname(sys.executable), "ruff")
                                    if os.path.exists(os.path.join(os.path.dirname(sys.executable), "ruff")) else None)
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)

    def commands(path):
        found = {
            "lint": linter + ["--no-cache", "--exit-zero", "-q", f"--jobs={args.jobs}", path],
            "libcst": [sys.executable, "-c", PARSE_ALL, "libcst", path],
            "ast": [sys.executable, "-c", PARSE_ALL, "ast", path],
        }
        if ruff:
            found["ruff"] = [ruff, "check", "--select", "ALL", "--no-cache", "--exit-zero", "-q", path]
        return found

    print(f"kerasmode-lint Keras-heavy benchmark: {os.cpu_count()} cores, {args.runs} rounds; "
          f"ruff {'found' if ruff else 'not installed'}; at start: {load()}", flush=True)
    times = {name: {} for name in paths}
    for round_number in range(args.runs):
        for name, path in paths.items():
            for what, command in commands(path).items():
                times[name].setdefault(what, []).append(measure(command, env)[0])
        print(f"  round {round_number + 1} done; {load()}", flush=True)

    print(f"\nat end: {load()}\n")
    print("| corpus | files | lines | kerasmode-lint cold | vs one-process ast.parse "
          "| vs one-process libcst.parse_module | ruff --select ALL vs ast.parse |")
    print("|---|---|---|---|---|---|---|")
    for name, path in paths.items():
        if name.endswith(" lines"):
            continue
        files, lines = count(path)
        t = times[name]
        ruff_ratio = median_ratio(t["ruff"], t["ast"]) if "ruff" in t else "n/a"
        print(f"| {name} | {files} | {lines:,} | {statistics.median(t['lint']):.2f} s "
              f"| {median_ratio(t['lint'], t['ast'])} | {median_ratio(t['lint'], t['libcst'])} | {ruff_ratio} |")
    print("\ngoal: cold <= 0.65x one-process libcst.parse_module on each corpus\n")

    print("| one file | lint cold | its libcst parse | lint / libcst | lint / lint of 25,000 lines "
          "| ruff vs ast.parse |")
    print("|---|---|---|---|---|---|")
    reference = times.get("25000 lines", {}).get("lint")
    for size in sizes:
        t = times[f"{size} lines"]
        scale = median_ratio(t["lint"], reference) if reference else "n/a"
        ruff_ratio = median_ratio(t["ruff"], t["ast"]) if "ruff" in t else "n/a"
        print(f"| {size:,} lines | {statistics.median(t['lint']):.2f} s | {statistics.median(t['libcst']):.2f} s "
              f"| {median_ratio(t['lint'], t['libcst'])} | {scale} | {ruff_ratio} |")
    print("\ngoals: 25,000 lines within 1.3x of its own libcst parse; 100,000 lines within 4.2x of 25,000")
    return 0


if __name__ == "__main__":
    sys.exit(main())
