"""Lint every .py file of a large real tree and report what happened.

    python scripts/sweep.py                  # this interpreter's site-packages
    python scripts/sweep.py DIR [DIR ...] [--jobs N] [--json report.json]

Every file is linted with every rule (Keras version: auto, as users run it),
through the same path as the command line (runner.run with cli.lint_task: the
crash-isolating pool, no cache), with no exclude globs: test data, vendored code and Python 2 leftovers
included. Reports files, lines, time, findings per code, the KM001 reasons
grouped, and every internal error or crash. Exit status 1 if there was any
internal error or crash, else 0.

With --fix, every file is also fixed in memory (safe and unsafe fixes, as
``--fix --unsafe-fixes`` would, nothing written) and each fixed file checked:
it parses whenever the original did, a second pass changes nothing, and its
BOM and line endings are the original's.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import re
import sys
import sysconfig
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from kerasmode_lint.frontends import cli  # noqa: E402
from kerasmode_lint.engine import runner  # noqa: E402
from kerasmode_lint.engine.autofix import Job, run_job  # noqa: E402
from kerasmode_lint.engine.lint import LintOptions  # noqa: E402
from kerasmode_lint.rules import ALL_RULES  # noqa: E402
from kerasmode_lint.engine.diagnostics import ENGINE_CODES  # noqa: E402


def python_files(roots):
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            for name in sorted(files):
                if name.endswith(".py"):
                    yield os.path.join(folder, name)


def fix_problems(path: str, fixed: bytes, options, job):
    """What is wrong with ``fixed``, the fixed version of the file at ``path``."""
    with open(path, "rb") as handle:
        original = handle.read()
    if compiles(original) and not compiles(fixed):
        yield "the fixed file does not parse"
    if run_job(path, fixed, options, job).output is not None:
        yield "a second --fix changes the file again"
    if fixed.startswith(b"\xef\xbb\xbf") != original.startswith(b"\xef\xbb\xbf"):
        yield "the BOM was not kept"
    if line_endings(fixed) - line_endings(original):
        yield f"line endings changed: {sorted(line_endings(original))} -> {sorted(line_endings(fixed))}"


def line_endings(data: bytes) -> set:
    crlf = data.count(b"\r\n")
    counts = {"CRLF": crlf, "CR": data.count(b"\r") - crlf, "LF": data.count(b"\n") - crlf}
    return {style for style, count in counts.items() if count}


def compiles(data: bytes) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(data, "<swept>", "exec", flags=1024, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("roots", nargs="*", default=[sysconfig.get_paths()["purelib"]])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", help="write the full report here")
    parser.add_argument("--fix", action="store_true", help="also apply all fixes in memory and check them")
    args = parser.parse_args(argv)

    files = list(python_files(args.roots))
    options = LintOptions(enabled=frozenset([r.code for r in ALL_RULES] + list(ENGINE_CODES)))
    job = Job(fix=True, unsafe=True, write=False) if args.fix else Job()
    tasks = [(path, options, job) for path in files]
    lines = 0
    for path in files:
        try:
            with open(path, "rb") as handle:
                lines += handle.read().count(b"\n")
        except OSError:
            pass

    started = time.perf_counter()
    results = runner.run(tasks, cli.lint_task, args.jobs)
    seconds = time.perf_counter() - started

    per_code = collections.Counter()
    invalid = collections.Counter()
    invalid_files = collections.defaultdict(list)
    internal = []
    for result in results:
        for diag in result.diagnostics:
            per_code[diag.code] += 1
            if diag.code == "KM001" and diag.message.startswith("internal error"):
                internal.append(f"{diag.path}: {diag.message}")
            elif diag.code == "KM001":
                reason = re.sub(r"'[^']*'|\d+", "…", diag.message)  # group messages by their shape
                invalid[reason] += 1
                invalid_files[reason].append(f"{diag.path}:{diag.line}:{diag.column}")

    print(f"roots: {', '.join(args.roots)}")
    print(f"files: {len(files)}, lines: {lines}, jobs: {args.jobs}")
    print(f"time: {seconds:.1f} s ({len(files) / seconds:.0f} files/s)")
    print("findings per code:")
    for code, count in sorted(per_code.items()):
        print(f"  {code}: {count}")
    print("KM001 reasons (not internal errors):")
    for reason, count in invalid.most_common():
        print(f"  {count:5d}  {reason}")
        for where in invalid_files[reason][:3]:
            print(f"         e.g. {where}")
    if args.fix:
        fixed = [(path, r) for path, r in zip(files, results) if r.output is not None]
        bad = [f"{path}: {problem}" for path, r in fixed for problem in fix_problems(path, r.output, options, job)]
        print(f"files fixed: {len(fixed)} ({sum(r.fixed for _, r in fixed)} fixes); bad fixes: {len(bad)}")
        for line in bad:
            print(f"  {line}")
        internal += bad
    print(f"internal errors and crashes: {len(internal)}")
    for line in internal:
        print(f"  {line}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({
                "files": len(files), "lines": lines, "seconds": seconds, "per_code": per_code,
                "invalid": {k: invalid_files[k] for k in invalid}, "internal": internal,
            }, handle, indent=1)
    return 1 if internal else 0


if __name__ == "__main__":
    sys.exit(main())
