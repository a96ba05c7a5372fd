"""How fast kerasmode-lint lints the Python sources of the keras 3.15.1 wheel,
measured against a one-process ``ast.parse`` loop over the same files.

    python benchmarks/keras_corpus.py [--runs 5] [--jobs 0] [--work-dir DIR]

It fetches the wheel with ``pip download --no-deps keras==3.15.1`` (once, into
the work folder), unpacks its ``.py`` files, then runs, in turn and ``--runs``
times each, as separate processes timed from outside (interpreter start-up
included):

- baseline: ``ast.parse`` of every file in one process;
- cold: ``kerasmode-lint --no-cache``;
- warm: a second run over an already filled cache;
- one small file: ``kerasmode-lint`` on examples/custom_training_loop.py (a
  KM101 finding, so libcst and a rule are loaded) with an empty cache
  folder, as pre-commit calls it on a changed file;
- one small file no rule can match (examples/no_keras.py: a plain script),
  the common pre-commit case.

The linter runs as users run it: installed with pip from this checkout into a
virtualenv of its own in the work folder (as pre-commit installs a hook), its
console script called, PYTHONDONTWRITEBYTECODE unset.

It prints medians (and min-max) of wall time and CPU time, the ratios to the
baseline (the median of the per-round ratios, since the baseline runs next to
each measurement), and peak memory: the largest single process
(``getrusage``) and, on Linux, the process tree's summed PSS (shared pages
counted once), sampled every 20 ms in one more, untimed run. Targets (issue 6): cold <= 2.0x, warm <= 0.1x, small file <= 0.3 s,
peak RSS < 500 MB.
"""
from __future__ import annotations

import argparse
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
KERAS = "keras==3.15.1"

BASELINE = """\
import ast, os, sys
files = []
for folder, _, names in os.walk(sys.argv[1]):
    files += [os.path.join(folder, n) for n in names if n.endswith(".py")]
for path in files:
    with open(path, "rb") as handle:
        ast.parse(handle.read(), path)
"""


def fetch_corpus(work: str) -> str:
    """Unpack the wheel's .py files into work/src (once) and return that folder."""
    source = os.path.join(work, "src")
    if os.path.isdir(source):
        return source
    wheels = os.path.join(work, "wheel")
    os.makedirs(wheels, exist_ok=True)
    if not glob.glob(os.path.join(wheels, "keras-*.whl")):
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", KERAS, "-d", wheels],
            check=True,
        )
    [wheel] = glob.glob(os.path.join(wheels, "keras-*.whl"))
    partial = source + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(partial, [n for n in archive.namelist() if n.endswith(".py")])
    os.rename(partial, source)
    return source


def install_linter(work: str) -> str:
    """This checkout, installed with pip into work/venv (created once,
    reinstalled every time so it is the current code); its console script."""
    venv = os.path.join(work, "venv")
    bindir = os.path.join(venv, "Scripts" if os.name == "nt" else "bin")
    python = os.path.join(bindir, "python")
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([python, "-m", "pip", "install", "--quiet", REPO], check=True)
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--force-reinstall", "--no-deps", REPO],
                   check=True)
    return os.path.join(bindir, "kerasmode-lint")


class TreeMemory(threading.Thread):
    """Samples the memory of a process and its descendants (Linux /proc):
    the sum of their PSS, so pages that forked workers share with their
    parent are counted once (RSS where PSS is not available)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0, threading.Event()

    def _tree(self, pid: int):
        yield pid
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as handle:
                children = handle.read().split()
        except OSError:
            return
        for child in children:
            yield from self._tree(int(child))

    @staticmethod
    def _memory(pid: int) -> int:
        for name, field in (("smaps_rollup", "Pss:"), ("status", "VmRSS:")):
            try:
                with open(f"/proc/{pid}/{name}") as handle:
                    for line in handle:
                        if line.startswith(field):
                            return int(line.split()[1]) * 1024
            except OSError:
                continue
        return 0

    def run(self) -> None:
        while not self.stop.is_set():
            total = 0
            for pid in self._tree(self.pid):
                total += self._memory(pid)
            self.peak = max(self.peak, total)
            self.stop.wait(0.02)


def measure(command, env=None, tree_memory=False):
    """(wall s, cpu s, peak RSS of the largest process, peak PSS of the tree
    or None). Reading /proc/PID/smaps_rollup takes the process's memory map
    lock and slows it down, so the tree is sampled only when asked, in runs
    that are not timed."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    sampler = TreeMemory(process.pid) if tree_memory and os.path.isdir("/proc") else None
    if sampler:
        sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    if sampler:
        sampler.stop.set()
        sampler.join()
    if process.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{stderr}")
    rss = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    return wall, usage.ru_utime + usage.ru_stime, rss, sampler.peak if sampler else None


def summary(values, unit="s") -> str:
    low, mid, high = min(values), statistics.median(values), max(values)
    if unit == "MB":
        return f"{mid / 1e6:8.0f} MB (min {low / 1e6:.0f}, max {high / 1e6:.0f})"
    return f"{mid:8.3f} {unit}  (min {low:.3f}, max {high:.3f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--jobs", type=int, default=0, help="--jobs for the linter (default 0: all cores)")
    parser.add_argument("--work-dir", default=os.path.join(tempfile.gettempdir(), "kerasmode-lint-bench"),
                        help="where the wheel, the sources and the cache go")
    parser.add_argument("--only", help="comma-separated subset of: cold,warm,small,plain")
    args = parser.parse_args()

    source = fetch_corpus(args.work_dir)
    cache = os.path.join(args.work_dir, "cache")
    small_cache = os.path.join(args.work_dir, "small-cache")
    shutil.rmtree(cache, ignore_errors=True)
    files = sum(len([n for n in names if n.endswith(".py")]) for _, _, names in os.walk(source))
    lines = 0
    for folder, _, names in os.walk(source):
        for name in names:
            if name.endswith(".py"):
                with open(os.path.join(folder, name), "rb") as handle:
                    lines += handle.read().count(b"\n")

    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    script = install_linter(args.work_dir)
    lint = [script, "--exit-zero", "-q", f"--jobs={args.jobs}"]
    commands = {
        "baseline": [sys.executable, "-c", BASELINE, source],
        "cold": lint + ["--no-cache", source],
        "warm": lint + [f"--cache-dir={cache}", source],
        "small": [script, f"--cache-dir={small_cache}", os.path.join(REPO, "examples", "custom_training_loop.py")],
        "plain": [script, f"--cache-dir={small_cache}", os.path.join(REPO, "examples", "no_keras.py")],
    }
    wanted = ["cold", "warm", "small", "plain"]
    if args.only:
        wanted = [w for w in wanted if w in args.only.split(",")]
    if "warm" in wanted:
        measure(commands["warm"], env)  # fill the cache

    results = {name: [] for name in ["baseline"] + wanted}
    print(f"corpus: {KERAS} wheel, {files} files, {lines} lines; {os.cpu_count()} cores; "
          f"{args.runs} rounds", flush=True)
    for round_number in range(args.runs):
        for name in ["baseline"] + wanted:
            shutil.rmtree(small_cache, ignore_errors=True)
            results[name].append(measure(commands[name], env))
        print(f"  round {round_number + 1}: " + ", ".join(
            f"{name} {values[-1][0]:.2f}s" for name, values in results.items()), flush=True)
    tree = {}
    if os.path.isdir("/proc"):
        for name in ["baseline"] + wanted:
            shutil.rmtree(small_cache, ignore_errors=True)
            tree[name] = measure(commands[name], env, tree_memory=True)[3]

    titles = {
        "baseline": "ast.parse, one process",
        "cold": "cold (--no-cache)",
        "warm": "warm (cache filled)",
        "small": "one small file with a finding, empty cache",
        "plain": "one small file no rule can match, empty cache",
    }
    base = results["baseline"]
    print()
    for name, runs in results.items():
        walls = [r[0] for r in runs]
        print(f"{titles[name]}")
        print(f"  wall  {summary(walls)}")
        print(f"  cpu   {summary([r[1] for r in runs])}")
        if name not in ("baseline", "small", "plain"):
            ratios = [r[0] / b[0] for r, b in zip(runs, base)]
            print(f"  ratio {statistics.median(ratios):8.3f} x baseline wall "
                  f"(min {min(ratios):.3f}, max {max(ratios):.3f})")
        print(f"  peak  {summary([r[2] for r in runs], 'MB')} largest process")
        if name in tree:
            print(f"        {tree[name] / 1e6:8.0f} MB whole process tree (PSS, one more run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
