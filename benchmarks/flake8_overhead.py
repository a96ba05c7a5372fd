"""What the flake8 plugin costs on files that cannot match.

flake8 runs every installed plugin on every file, so a plugin's cost on files
that never mention Keras training is paid by every flake8 user. This script
takes Python files that contain none of the rules' trigger words (from the
standard library by default), then

1. times flake8 on them with and without the KM plugin (same flake8, same
   files, one process each: -j 1), median of several runs, and
2. times the plugin alone on every file in-process (what flake8 calls:
   ``Plugin(tree, filename, lines).run()``), including the one-time import.

Usage:  python benchmarks/flake8_overhead.py [--files N] [--runs R] [FOLDER]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kerasmode_lint.engine.prefilter import could_match  # noqa: E402

# flake8 without the KM plugin: the same entry point, with KM filtered out of
# the plugins it finds (works whether the plugin is installed or local).
WITHOUT_PLUGIN = """
import sys
from flake8.plugins import finder
_find = finder.find_plugins
finder.find_plugins = lambda cfg, opts: [p for p in _find(cfg, opts) if p.entry_point.name != "KM"]
from flake8.main.cli import main
sys.exit(main())
"""
WITH_PLUGIN = "import sys\nfrom flake8.main.cli import main\nsys.exit(main())\n"


def corpus(folder: Path, count: int) -> list:
    chosen = []
    for path in sorted(folder.rglob("*.py")):
        if "test" in path.parts or "site-packages" in path.parts:
            continue
        try:
            text = path.read_text(encoding="utf-8")
            compile(text, str(path), "exec")
        except (UnicodeDecodeError, SyntaxError, ValueError, OSError):
            continue
        if could_match(text.encode("utf-8"), str(path)) or "KM" in text:
            continue
        chosen.append(path)
        if len(chosen) == count:
            break
    return chosen


def plugin_installed() -> bool:
    from importlib.metadata import entry_points

    return any(ep.name == "KM" for ep in entry_points(group="flake8.extension"))


def time_flake8(script: str, config: Path, files: list) -> float:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", script, "--config", str(config), "-j", "1",
                    "--exit-zero", *map(str, files)],
                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def paired_runs(config: Path, files: list, runs: int) -> tuple:
    """Alternate the two so that load from other processes hits both alike."""
    time_flake8(WITHOUT_PLUGIN, config, files)  # warm the page cache
    without, with_plugin = [], []
    for _ in range(runs):
        without.append(time_flake8(WITHOUT_PLUGIN, config, files))
        with_plugin.append(time_flake8(WITH_PLUGIN, config, files))
    ratios = [b / a for a, b in zip(without, with_plugin)]
    return statistics.median(without), statistics.median(with_plugin), statistics.median(ratios)


def time_plugin_in_process(files: list) -> tuple:
    start = time.perf_counter()
    from kerasmode_lint.frontends.flake8_plugin import Plugin
    imported = time.perf_counter() - start
    sources = [p.read_text(encoding="utf-8").splitlines(keepends=True) for p in files]
    start = time.perf_counter()
    for path, lines in zip(files, sources):
        for _ in Plugin(None, str(path), lines).run():
            raise AssertionError(f"{path}: a file without trigger words got a finding")
    run = time.perf_counter() - start
    heavy = [m for m in ("libcst", "kerasmode_lint.engine.lint") if m in sys.modules]
    return imported, run, heavy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default=sysconfig.get_paths()["stdlib"])
    parser.add_argument("--files", type=int, default=150)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    files = corpus(Path(args.folder), args.files)
    lines = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in files)
    print(f"corpus: {len(files)} files, {lines} lines without trigger words, from {args.folder}")

    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "setup.cfg"
        text = "[flake8]\n"
        if not plugin_installed():
            text += "[flake8:local-plugins]\nextension =\n    KM = kerasmode_lint.frontends.flake8_plugin:Plugin\n"
        config.write_text(text)
        without, with_plugin, ratio = paired_runs(config, files, args.runs)
    print(f"flake8 -j1 without the KM plugin: {without:.2f} s (median of {args.runs})")
    print(f"flake8 -j1 with the KM plugin:    {with_plugin:.2f} s (median of {args.runs})")
    print(f"ratio with/without: {ratio:.3f}x (median of paired runs)")

    imported, run, heavy = time_plugin_in_process(files)
    print(f"plugin in-process: import {imported * 1000:.1f} ms once, "
          f"{run * 1000:.1f} ms for {len(files)} files ({run / len(files) * 1e6:.0f} us per file); "
          f"heavy modules loaded: {heavy or 'none'}")


if __name__ == "__main__":
    main()
