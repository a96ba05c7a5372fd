"""Does the server's statement cache (kerasmode_lint/engine/parse_cache.py)
give libcst's whole parse on real code? For every .py file under the given
folders: the module assembled from runs parsed alone must equal
(``deep_equals``) and print like ``libcst.parse_module`` of the whole text.

    python scripts/parse_cache_check.py --trees /work/corpus [more folders]

Prints the files compared, how many were cut into runs, and each file that
differs (exit 1 if any). Files libcst cannot parse whole are skipped.
"""
from __future__ import annotations

import argparse
import os
import sys

MAX_BYTES = 300_000  # larger files take long to parse twice and say nothing new


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", nargs="+", required=True, help="folders to walk")
    args = parser.parse_args()

    from kerasmode_lint.engine import lint as engine
    from kerasmode_lint.engine.parse_cache import StatementCache, cuts

    compared = cut = 0
    differ = []
    for tree in args.trees:
        if not os.path.isdir(tree):
            print(f"parse_cache_check: error: {tree}: not a folder", file=sys.stderr)
            return 2
        for folder, dirs, names in os.walk(tree):
            dirs.sort()
            for name in sorted(names):
                if not name.endswith(".py"):
                    continue
                path = os.path.join(folder, name)
                try:
                    with open(path, "rb") as handle:
                        data = handle.read(MAX_BYTES + 1)
                    if len(data) > MAX_BYTES:
                        continue
                    text = engine.decode(data)
                    whole = engine._fast_parse(text)
                except Exception:  # unreadable or not parsable whole: nothing to compare
                    continue
                compared += 1
                cut += cuts(text) is not None
                try:
                    got = StatementCache().parse(text, engine._fast_parse)
                    same = got.deep_equals(whole) and got.code == whole.code
                except Exception as exc:  # the cache must never fail where the whole parse works
                    same = False
                    print(f"{path}: {type(exc).__name__}: {exc}")
                if not same:
                    differ.append(path)
                    print(f"{path}: differs from the whole parse")
    print(f"{compared} files compared, {cut} cut into runs, {len(differ)} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
