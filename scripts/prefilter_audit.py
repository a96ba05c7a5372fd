"""Check the byte prefilter on a real tree: it must never hide a finding.

    python scripts/prefilter_audit.py DIR [DIR ...] [--versions 2,3,3.16] [--backend tensorflow] [--jobs N]

Lints every .py file twice under each Keras version, with the prefilter
(trigger words and screens) and with every applicable rule forced to run,
and compares the findings. Also reports how much of the tree the prefilter
sends to the libcst parse, per rule and in all. Exit status 1 if any file's
findings differ. tests/test_prefilter.py runs the same comparison on the
repository's own snippets; this script is for the large trees a test cannot
hold (the keras, keras-hub and tf-models sources, a site-packages).
"""
from __future__ import annotations

import argparse
import collections
import multiprocessing
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from kerasmode_lint.engine.lint import LintOptions, lint_bytes  # noqa: E402
from kerasmode_lint.engine.prefilter import rules_matching  # noqa: E402
from kerasmode_lint.rules import ALL_RULES  # noqa: E402
from sweep import python_files  # noqa: E402  (this folder is on sys.path)

_SETTINGS = {}


def audit(path):
    """(path, lines, codes of the rules let through, [(version, with, without)] that differ)."""
    with open(path, "rb") as handle:
        data = handle.read()
    backend = _SETTINGS["backend"]
    rules = [rule for rule in ALL_RULES if rule.backends is None or backend in rule.backends]
    passed = [rule.code for rule in rules_matching(data, rules, path)]
    differences = []
    for version in _SETTINGS["versions"]:
        options = LintOptions(keras_version=version, keras_backend=_SETTINGS["backend"])
        keep = lambda result: [(d.code, d.line, d.column) for d in result.diagnostics]  # noqa: E731
        with_prefilter = keep(lint_bytes(data, path, options))
        without = keep(lint_bytes(data, path, options, prefilter=False))
        if with_prefilter != without:
            differences.append((version, with_prefilter, without))
    return path, data.count(b"\n"), passed, differences


def _init(settings):
    _SETTINGS.update(settings)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("roots", nargs="+")
    parser.add_argument("--versions", default="2,3,3.16")
    parser.add_argument("--backend", default="tensorflow")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    settings = {"versions": args.versions.split(","), "backend": args.backend}
    files = list(python_files(args.roots))
    total_lines = 0
    passed_lines = 0
    per_rule = collections.Counter()
    failures = 0
    with multiprocessing.Pool(args.jobs, _init, (settings,)) as pool:
        for path, lines, passed, differences in pool.imap_unordered(audit, files, chunksize=4):
            total_lines += lines
            if passed:
                passed_lines += lines
            for code in passed:
                per_rule[code] += lines
            for version, with_prefilter, without in differences:
                failures += 1
                print(f"{path}: Keras {version}: with the prefilter {with_prefilter}, without {without}")
    print(f"{len(files)} files, {total_lines} lines; {failures} differences")
    share = passed_lines / total_lines if total_lines else 0.0
    print(f"lines sent to the parse by at least one rule: {passed_lines} ({share:.1%})")
    for code, lines in sorted(per_rule.items()):
        print(f"  {code}: {lines} lines")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
