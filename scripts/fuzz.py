"""Fuzz the linter with many generated programs and report the count, the
time and every failure (tests/test_fuzz.py runs a few hundred on each test
run; this is the large run).

    python scripts/fuzz.py                       # 10,000 programs per generator
    python scripts/fuzz.py --programs 2000 --only keras mutated

Generators (tests/fuzzing.py): ``grammar`` and ``node`` (hypothesmith's valid
Python), ``keras`` (Keras-flavoured programs spliced from the rules' shapes,
and the rules' fixtures with fragments spliced in),
``mutated`` (those, broken by random edits), ``fixes`` (--fix --unsafe-fixes on
rule fixtures bent out of shape, with LF, CRLF or CR line endings). The
invariant checked on each program: no exception, no internal error, positions
inside the file, the same result twice, the same findings with and without the
prefilter; for ``fixes``: the fixed code parses,
a second pass changes nothing, line endings and BOM are kept. Exit status 1
if any generator found a failure.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(HERE), os.path.join(os.path.dirname(HERE), "tests")]

import hypothesmith  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis.strategies import just, sampled_from  # noqa: E402

from kerasmode_lint.engine.lint import LintOptions  # noqa: E402
from fuzzing import (  # noqa: E402
    OPTIONS, check, check_fixes, fixture_programs, keras_programs, mutated_programs, with_triggers,
)

DEFAULT_OPTIONS = just(LintOptions(keras_version="3"))
LF = just("\n")
GENERATORS = {
    "grammar": lambda: given(hypothesmith.from_grammar().map(with_triggers), DEFAULT_OPTIONS, LF),
    "node": lambda: given(hypothesmith.from_node().map(with_triggers), DEFAULT_OPTIONS, LF),
    "keras": lambda: given(keras_programs() | fixture_programs(), OPTIONS, LF),
    "fixes": lambda: given(fixture_programs(), OPTIONS, sampled_from(["\n", "\r\n", "\r"])),
    "mutated": lambda: given(mutated_programs(), OPTIONS, LF),
}


def run(name: str, programs: int):
    count = 0

    def body(source, options, newline):
        nonlocal count
        count += 1
        if name == "fixes":
            check_fixes(source, options, newline)
        else:
            check(source, options)

    test = settings(max_examples=programs, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))(GENERATORS[name]()(body))
    started = time.perf_counter()
    failure = None
    try:
        test()
    except Exception:  # hypothesis has shrunk it: report it and go on with the next generator
        failure = traceback.format_exc()
    return count, time.perf_counter() - started, failure


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--programs", type=int, default=10_000, help="per generator")
    parser.add_argument("--only", nargs="*", choices=list(GENERATORS), default=list(GENERATORS))
    args = parser.parse_args(argv)
    failed = False
    for name in args.only:
        count, seconds, failure = run(name, args.programs)
        print(f"{name}: {count} programs in {seconds:.0f} s ({count / seconds:.0f}/s): "
              f"{'FAILED' if failure else 'clean'}", flush=True)
        if failure:
            failed = True
            print(failure, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
