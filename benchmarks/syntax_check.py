"""Which CPython check should judge the files no rule can match (they get
no libcst parse, only a syntax check): its cost, its memory, and whether it
catches every syntax error that ``ast.parse`` reports.

    python benchmarks/syntax_check.py [--runs 5] [--mutants 2000] [--work-dir DIR]

Candidates, each run over the keras 3.15.1 files the prefilter skips, in a
process of its own (interleaved rounds, medians, peak RSS of the process):

- ``symtable``: CPython's parser and symbol table, no Python AST objects
  (what the linter uses);
- ``ast``: ``compile(..., PyCF_ONLY_AST)``, i.e. ``ast.parse``;
- ``compile``: bytecode (``compile(..., "exec")``), with ``optimize=2``;
- ``tokenize``: the pure-Python tokenizer, as a first pass.

Correctness: ``--mutants`` broken copies of those files (a character deleted,
a bracket or keyword inserted, seeded) judged by each candidate against
``ast.parse``: a candidate must reject every file ``ast.parse`` rejects
(misses), and what it rejects beyond that (extra) the linter confirms with
``ast.parse``. Memory: each candidate on one 10 MB data file (a list of
numbers), which the linter's size cap (engine.SYNTAX_CHECK_MAX_BYTES)
keeps away from any of them.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]

from keras_corpus import fetch_corpus, measure  # noqa: E402

CHECK = """\
import ast, io, os, sys, symtable, tokenize, warnings
warnings.simplefilter("ignore")
method, listing = sys.argv[1], sys.argv[2]
with open(listing) as handle:
    paths = handle.read().split("\\n")
def check(text):
    if method == "symtable":
        symtable.symtable(text, "<f>", "exec")
    elif method == "ast":
        compile(text, "<f>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    elif method == "compile":
        compile(text, "<f>", "exec", dont_inherit=True, optimize=2)
    elif method == "tokenize":
        for _ in tokenize.generate_tokens(io.StringIO(text).readline):
            pass
rejected = []
for path in paths:
    with open(path, encoding="utf-8", errors="surrogateescape") as handle:
        text = handle.read()
    try:
        check(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError, tokenize.TokenError):
        rejected.append(path)
if len(sys.argv) > 3:
    with open(sys.argv[3], "w") as handle:
        handle.write("\\n".join(rejected))
"""
METHODS = ("symtable", "ast", "compile", "tokenize")
BREAKERS = ["", ")", "(", "]", ":", " def ", " return ", " = ", "\\", "'", '"""', "\t", " else ", " lambda "]


def skipped_files(source: str):
    from kerasmode_lint.engine.prefilter import rules_matching
    from kerasmode_lint.rules import ALL_RULES

    out = []
    for folder, _, names in sorted(os.walk(source)):
        for name in sorted(names):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                with open(path, "rb") as handle:
                    if not rules_matching(handle.read(), ALL_RULES, path):
                        out.append(path)
    return out


def mutants(paths, count: int, folder: str, seed: int = 0):
    rng = random.Random(seed)
    os.makedirs(folder, exist_ok=True)
    out = []
    for index in range(count):
        with open(rng.choice(paths), encoding="utf-8") as handle:
            text = handle.read()
        if not text:
            continue
        at = rng.randrange(len(text))
        breaker = rng.choice(BREAKERS)
        text = text[:at] + breaker + text[at + (1 if not breaker else 0):]
        path = os.path.join(folder, f"m{index:05d}.py")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        out.append(path)
    return out


def listing(paths, path: str) -> str:
    with open(path, "w") as handle:
        handle.write("\n".join(paths))
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--mutants", type=int, default=2000)
    parser.add_argument("--work-dir", default=os.path.join(tempfile.gettempdir(), "kerasmode-lint-bench"))
    args = parser.parse_args(argv)
    source = fetch_corpus(args.work_dir)
    work = os.path.join(args.work_dir, "syntax")
    os.makedirs(work, exist_ok=True)
    skipped = skipped_files(source)
    files = listing(skipped, os.path.join(work, "skipped.txt"))
    size = sum(os.path.getsize(p) for p in skipped)
    print(f"{len(skipped)} keras files the prefilter skips, {size / 1e6:.1f} MB; load average "
          f"{os.getloadavg()[0]:.2f} at start", flush=True)

    results = {m: [] for m in METHODS}
    for _ in range(args.runs):
        for method in METHODS:
            results[method].append(measure([sys.executable, "-c", CHECK, method, files])[::2])
    base = [wall for wall, _ in results["ast"]]
    print("\n| check | wall (median) | vs ast.parse | peak RSS |")
    print("|---|---|---|---|")
    for method in METHODS:
        walls = [wall for wall, _ in results[method]]
        ratios = statistics.median(w / b for w, b in zip(walls, base))
        print(f"| {method} | {statistics.median(walls):.3f} s | {ratios:.2f}x "
              f"| {statistics.median(r for _, r in results[method]) / 1e6:.0f} MB |")

    broken = mutants(skipped, args.mutants, os.path.join(work, "mutants"))
    mutant_list = listing(broken, os.path.join(work, "mutants.txt"))
    rejected = {}
    for method in METHODS:
        out = os.path.join(work, f"rejected-{method}.txt")
        subprocess.run([sys.executable, "-c", CHECK, method, mutant_list, out], check=True)
        with open(out) as handle:
            rejected[method] = set(filter(None, handle.read().split("\n")))
    truth = rejected["ast"]
    print(f"\n{len(broken)} mutants, {len(truth)} rejected by ast.parse")
    print("| check | rejects | misses (ast.parse rejects, it accepts) | extra (it rejects, ast.parse accepts) |")
    print("|---|---|---|---|")
    for method in METHODS:
        print(f"| {method} | {len(rejected[method])} | {len(truth - rejected[method])} "
              f"| {len(rejected[method] - truth)} |")

    data = os.path.join(work, "data_10mb.py")
    if not os.path.exists(data):
        with open(data, "w") as handle:
            handle.write("VALUES = [\n")
            while handle.tell() < 10_000_000:
                handle.write("    0.123456789, 1.23456789, 12.3456789, 123.456789,\n")
            handle.write("]\n")
    data_list = listing([data], os.path.join(work, "data.txt"))
    print("\none 10 MB data file (above the linter's cap: it says 'too large to check')")
    print("| check | wall | peak RSS |")
    print("|---|---|---|")
    for method in METHODS:
        wall, _, rss, _ = measure([sys.executable, "-c", CHECK, method, data_list])
        print(f"| {method} | {wall:.2f} s | {rss / 1e6:.0f} MB |")
    print(f"\nload average {os.getloadavg()[0]:.2f} at end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
