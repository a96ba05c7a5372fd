"""The byte screens on hostile input: is any of them slow on some file?

A screen runs on every file the trigger words let through, before any parse,
so a pattern that backtracks would hang the linter (and the flake8 plugin) on
one crafted or unlucky file. This script builds adversarial inputs, long runs
of each character class the patterns use after each word they start from,
and times every screen, every part of one, and the flake8 plugin's noqa test
on them, next to ``ast.parse`` of the same bytes.

Usage:  python benchmarks/screen_adversarial.py [--size BYTES] [--all] [--check]

Prints one row per input: its size, the slowest check and its time, the time
of ``ast.parse`` and the ratio. ``--all`` tries every word with every run
(several hundred inputs); the default is the named set that
tests/test_screens.py also times. ``--check`` (what the test runs) exits 1
if on some input all checks together take more than BUDGET_FACTOR times
``ast.parse`` plus BUDGET_SECONDS, or more than SCALING times as long as on
half the input: a super-linear check fails one or the other.
"""
from __future__ import annotations

import argparse
import ast
import sys
import time
import warnings
from pathlib import Path
from typing import Callable, Iterator, List, Tuple

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kerasmode_lint.frontends import flake8_plugin  # noqa: E402
from kerasmode_lint.engine import screens  # noqa: E402
from kerasmode_lint.engine.triggers import TRIGGERS  # noqa: E402

# Every screen's words, so that the finer tests run (in a comment: the prefix
# completes no pattern by itself).
PREFIX = (
    b"import keras\n# call training True False trainable compile fit train_step test_step Sequential "
    b"BatchNormalization Trainable TRAINABLE reez REEZ\n"
)
# What the patterns start from, and the runs that follow in them.
WORDS = (
    b"True", b"False", b"training", b"trainable", b"def call(", b"def call(self, ", b"def ", b"for ",
    b"compile(", b"fit(", b"freeze", b"make_trainable", b"super().__init__(", b"super().__init__(x, ",
    b"from x import ", b"import ", b"training:", b"training=", b"(training", b"x.trainable", b"Input",
    b".output", b"f(x, ", b"# noqa", b"(", b",", b"#", b"'", b'"', b"def eval",
)
RUNS = (b" ", b"\t", b"\n", b"\\", b"\\\n", b"#", b"(", b")", b",", b"*", b":", b"=", b"'", b'"', b".", b"a", b"_",
        b"0", b"[", b"->", b"\r")

# The named inputs: the reported hangs, then the worst cases found with --all.
NAMED: Tuple[Tuple[bytes, bytes], ...] = (
    (b"DEBUG = True  ", b"#"),
    (b"def call((", b"#"),
    (b"True", b" "),
    (b"True", b"#"),
    (b"", b"True #"),
    (b"", b"#True\n"),
    (b"", b"(#"),
    (b"", b"(#\n"),
    (b"", b", # x (\n"),
    (b"def call(self, ", b"#"),
    (b"", b"def call("),
    (b"", b"):#"),
    (b"", b")->"),
    (b"training", b" "),
    (b"training:", b"a"),
    (b"", b"(training:"),
    (b"", b"x.trainable:"),
    (b"", b"trainable"),
    (b"", b"reez"),
    (b"", b"make_trainable"),
    (b"super().__init__(x", b"\\"),
    (b"", b"defdef"),
    (b"", b"for for "),
    (b"", b"from "),
    (b"", b"fromfrom"),
    (b"", b"[x, True], "),
    (b"", b"f(x, True)\n"),
    (b"", b"f(x, True "),
    (b"training=", b"("),
    (b"", b"# noqa "),
    (b"", b" "),
    (b"", b"\n"),
)


BUDGET_FACTOR, BUDGET_SECONDS = 20, 0.5
SCALING = 3.0


def build(head: bytes, run: bytes, size: int) -> bytes:
    return PREFIX + head + run * max(1, (size - len(PREFIX) - len(head)) // len(run))


def named_inputs(size: int) -> Iterator[Tuple[str, bytes]]:
    for head, run in NAMED:
        yield f"{head.decode()!r} + {run.decode()!r}*n", build(head, run, size)


def all_inputs(size: int) -> Iterator[Tuple[str, bytes]]:
    for word in WORDS:
        yield f"{word.decode()!r}*n", build(b"", word, size)
        for run in RUNS:
            yield f"{word.decode()!r} + {run.decode()!r}*n", build(word, run, size)
            yield f"({word.decode()!r} + {run.decode()!r})*n", build(b"", word + run, size)


def checks() -> List[Tuple[str, Callable[[bytes], object]]]:
    """Every screen (as the prefilter runs it), the parts a screen may skip
    by stopping early, and the flake8 plugin's test for a ``# noqa: KM``."""
    found: List[Tuple[str, Callable[[bytes], object]]] = []
    seen = set()
    for entries in TRIGGERS.values():
        for entry in entries:
            if isinstance(entry, screens.Screen) and entry.name not in seen:
                seen.add(entry.name)
                found.append((entry.name, lambda data, screen=entry: screen.matches(data, "model.py")))
    for name in ("_training_without_default", "_call_default_true", "_changes_trainable",
                 "_positional_flag_to_layer", "_frozen_model_used", "_evaluation_pin"):
        function = getattr(screens, name)
        found.append((name, lambda data, function=function: function(data, "model.py")))
    found.append(("flake8 noqa", lambda data: flake8_plugin.has_our_noqa(data.decode("latin-1"))))
    return found


def timed(function: Callable[[], object]) -> float:
    # CPU time of this process: other work on the machine does not count
    # against a check (wall time made the test fail on a loaded machine).
    start = time.process_time()
    function()
    return time.process_time() - start


def parse_time(data: bytes) -> float:
    def parse():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ast.parse(data)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            pass

    return timed(parse)


def slowest(data: bytes, found=None) -> Tuple[str, float, float]:
    """(the slowest check, its time, the time of all checks) on ``data``."""
    worst, worst_time, total = "", 0.0, 0.0
    for name, check in found or checks():
        screens._file_memo(b"")  # forget the previous input's answers
        spent = timed(lambda: check(data))
        total += spent
        if spent > worst_time:
            worst, worst_time = name, spent
    return worst, worst_time, total


def best_of(runs: int, data: bytes, found) -> Tuple[str, float, float]:
    """The fastest of a few runs: a machine busy with other work only slows one down."""
    return min((slowest(data, found) for _ in range(runs)), key=lambda outcome: outcome[2])


def check(size: int, found) -> List[str]:
    """What is too slow on the named inputs (empty if nothing)."""
    failures = []
    for (name, data), (_, half) in zip(named_inputs(size), named_inputs(size // 2)):
        worst, worst_time, total = best_of(3, data, found)
        budget = BUDGET_FACTOR * parse_time(data) + BUDGET_SECONDS
        if total > budget:
            failures.append(f"{name}: {total:.3f} s (slowest {worst}), budget {budget:.3f} s")
        half_total = best_of(3, half, found)[2]
        if total > SCALING * half_total + 0.02:
            # Measure once more, interleaved, before calling it super-linear: a
            # machine busy with other work slows some runs by several times.
            pairs = [(best_of(1, data, found)[2], best_of(1, half, found)[2]) for _ in range(5)]
            total, half_total = min(p[0] for p in pairs), min(p[1] for p in pairs)
        if total > SCALING * half_total + 0.02:
            failures.append(f"{name}: {total:.3f} s on {len(data)} bytes, {half_total:.3f} s on half as many")
    return failures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1 << 20, help="bytes per input (default 1 MiB)")
    parser.add_argument("--all", action="store_true", help="every word with every run")
    parser.add_argument("--check", action="store_true", help="exit 1 if a named input is too slow")
    args = parser.parse_args(argv)
    found = checks()
    if args.check:
        failures = check(args.size, found)
        print("\n".join(failures) or "every check is within its budget")
        return 1 if failures else 0
    inputs = all_inputs(args.size) if args.all else named_inputs(args.size)
    print(f"{'input':40} {'bytes':>8} {'all checks s':>12} {'slowest check':>28} {'s':>8} "
          f"{'ast.parse s':>11} {'ratio':>7}")
    for name, data in inputs:
        worst, worst_time, total = slowest(data, found)
        reference = parse_time(data)
        print(f"{name[:40]:40} {len(data):>8} {total:>12.4f} {worst[:28]:>28} {worst_time:>8.4f} "
              f"{reference:>11.4f} {total / reference if reference else float('inf'):>7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
