"""Write every finding the linter gives on a tree (and on generated programs)
to JSON, or compare two such files: the check that a change of speed changed
no finding.

    python scripts/findings_snapshot.py write OUT.json DIR [DIR ...] [--fuzz 2000] [--jobs 2]
    python scripts/findings_snapshot.py compare BEFORE.json AFTER.json

``write`` lints each .py file under each Keras version (2, 3, 3.16 by default)
with and without the prefilter, and ``--fuzz N`` programs of each of the fuzz
generators ``keras`` and ``mutated`` (tests/fuzzing.py, drawn derandomised, so
the same N programs for the same generators), and records (code, line, column,
message) of every finding. Run it with the old checkout on ``PYTHONPATH`` for
"before". ``compare`` prints each difference and exits 1 if there is one.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(os.path.dirname(HERE), "tests")]

_SETTINGS = {}


def _findings(data: bytes, path: str):
    from kerasmode_lint.engine.lint import LintOptions, lint_bytes

    found = {}
    for version in _SETTINGS["versions"]:
        options = LintOptions(keras_version=version, keras_backend=_SETTINGS["backend"])
        for prefilter in (True, False):
            result = lint_bytes(data, path, options, prefilter=prefilter)
            found[f"{version}/{'prefilter' if prefilter else 'all'}"] = [
                [d.code, d.line, d.column, d.message] for d in result.diagnostics]
    return found


def _lint_path(path):
    with open(path, "rb") as handle:
        return path, _findings(handle.read(), path)


def _init(settings):
    _SETTINGS.update(settings)


def _fuzz(count: int):
    """Findings of ``count`` programs of each generator, drawn derandomised."""
    from hypothesis import HealthCheck, given, settings
    from fuzzing import fixture_programs, keras_programs, mutated_programs

    out = {}
    for name, strategy in (("keras", keras_programs() | fixture_programs()), ("mutated", mutated_programs())):
        programs = []

        def body(source):
            data = source if isinstance(source, bytes) else source.encode("utf-8", "surrogatepass")
            programs.append(data)

        test = settings(max_examples=count, deadline=None, database=None, derandomize=True,
                        suppress_health_check=list(HealthCheck))(given(strategy)(body))
        test()
        for index, data in enumerate(programs):
            out[f"<fuzz {name} {index}>"] = _findings(data, "program.py")
    return out


def write(args) -> int:
    from sweep import python_files

    settings = {"versions": args.versions.split(","), "backend": args.backend}
    _init(settings)
    paths = list(python_files(args.roots))
    with multiprocessing.Pool(args.jobs, _init, (settings,)) as pool:
        results = dict(pool.imap_unordered(_lint_path, paths, chunksize=4))
    if args.fuzz:
        results.update(_fuzz(args.fuzz))
    with open(args.out, "w") as handle:
        json.dump(results, handle, sort_keys=True)
    count = sum(len(v) for per in results.values() for v in per.values())
    print(f"{len(results)} files/programs, {count} findings -> {args.out}")
    return 0


def compare(args) -> int:
    with open(args.before) as handle:
        before = json.load(handle)
    with open(args.after) as handle:
        after = json.load(handle)
    differences = 0
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            differences += 1
            print(f"{key}:\n  before {before.get(key)}\n  after  {after.get(key)}")
    print(f"{len(before)} / {len(after)} entries, {differences} differences")
    return 1 if differences else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    w = commands.add_parser("write")
    w.add_argument("out")
    w.add_argument("roots", nargs="*")
    w.add_argument("--versions", default="2,3,3.16")
    w.add_argument("--backend", default="tensorflow")
    w.add_argument("--fuzz", type=int, default=0)
    w.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    c = commands.add_parser("compare")
    c.add_argument("before")
    c.add_argument("after")
    args = parser.parse_args(argv)
    return write(args) if args.command == "write" else compare(args)


if __name__ == "__main__":
    sys.exit(main())
