"""Would parsing only the top-level statements that can matter beat a
whole-file libcst parse? The experiment issue 15 asks for, measured.

    python benchmarks/partial_parse.py DIR_OR_FILE [...] [--rounds 3]

For each file, CPython's parser (``ast.parse``, about a tenth of libcst's
cost) splits the module into its top-level statements; a statement is kept
when it is an import (every rule resolves names through them) or its text
holds one of the words any rule's analysis starts from (``KEPT_WORDS``:
models, layers, training calls, ``trainable``, ``training``, tapes, the
learning phase); libcst then parses only the kept statements, joined in
their order. Printed per corpus:

- the share of bytes kept;
- CPU seconds of the whole-file libcst parse and of split + partial parse
  (``time.process_time``, one process, rounds interleaved, medians);
- the files whose findings (code and message; positions move when
  statements are dropped) differ between the whole file and the kept
  statements: the partial parse may be adopted only with 0 here on every
  corpus, and a proof, not a sample, that no dropped statement can matter.
"""
from __future__ import annotations

import argparse
import ast
import collections
import gc
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

KEPT_WORDS = (
    "keras", "Model", "Sequential", "layers", "Layer", "fit", "compile", "train", "trainable",
    "training", "GradientTape", "learning_phase", "BatchNormalization", "Dropout", "call", "predict",
    "evaluate", "freeze", "apply_gradients", "minimize",
)


def python_files(roots):
    for root in roots:
        if os.path.isfile(root):
            yield root
            continue
        for folder, _, names in os.walk(root):
            for name in sorted(names):
                if name.endswith(".py"):
                    yield os.path.join(folder, name)


def kept_source(text: str) -> str:
    """The top-level statements that can matter, joined in order."""
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    kept = []
    for statement in tree.body:
        first = statement.lineno - 1
        if getattr(statement, "decorator_list", None):
            first = min(d.lineno for d in statement.decorator_list) - 1
        chunk = "".join(lines[first:statement.end_lineno])
        if isinstance(statement, (ast.Import, ast.ImportFrom)) or any(w in chunk for w in KEPT_WORDS):
            kept.append(chunk if chunk.endswith("\n") else chunk + "\n")
    return "".join(kept)


def findings(text: str, path: str):
    from kerasmode_lint.engine.lint import LintOptions, lint_bytes

    result = lint_bytes(text.encode("utf-8"), path, LintOptions(keras_version="3"))
    return collections.Counter((d.code, d.message) for d in result.diagnostics)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("roots", nargs="+")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-findings", action="store_true", help="skip the findings comparison")
    args = parser.parse_args(argv)
    import libcst

    gc.set_threshold(200_000, 30, 30)  # as the command line runs
    for root in args.roots:
        texts = []
        for path in python_files([root]):
            with open(path, "rb") as handle:
                data = handle.read()
            try:
                text = data.decode("utf-8")
                ast.parse(text)
            except (UnicodeDecodeError, SyntaxError, ValueError):
                continue
            texts.append((path, text))
        whole_bytes = sum(len(t) for _, t in texts)
        kept_bytes = sum(len(kept_source(t)) for _, t in texts)
        whole, partial = [], []
        for _ in range(args.rounds):
            start = time.process_time()
            for _, text in texts:
                libcst.parse_module(text)
            whole.append(time.process_time() - start)
            start = time.process_time()
            for _, text in texts:
                libcst.parse_module(kept_source(text))
            partial.append(time.process_time() - start)
        ratios = [p / w for p, w in zip(partial, whole)]
        differ = 0
        if not args.no_findings:
            for path, text in texts:
                if findings(text, path) != findings(kept_source(text), path):
                    differ += 1
        print(f"{root}: {len(texts)} files, {whole_bytes:,} bytes, {kept_bytes / max(whole_bytes, 1):.1%} kept; "
              f"whole-file libcst parse {statistics.median(whole):.2f} s, split + partial parse "
              f"{statistics.median(partial):.2f} s ({statistics.median(ratios):.2f}x, min {min(ratios):.2f}, "
              f"max {max(ratios):.2f}); findings differ in "
              f"{'(not compared)' if args.no_findings else differ} files", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
