"""For how many repositories of the real-world corpus does ``--keras-version
auto`` pick the Keras their code targets?

benchmarks/realworld/targets.json records, per repository (and folder where
parts differ), the Keras major its code targets, judged by hand from its pins,
README and APIs. This script runs ``kerasmode-lint --show-settings --verbose .``
from each repository's root, as a user would, and compares each file's
decision with the target of the most specific entry covering it. A part
counts as picked when at least ``--share`` of its files get the target's
major; a repository when all its parts are. The target "import" judges each
file by what it imports (standalone ``keras``: Keras 3, ``tf.keras``: Keras 2)
for repositories that mix the two file by file.

    python scripts/version_audit.py --corpus /path/to/corpus [--checkout DIR] [--share 0.9]

The corpus holds one folder per repository, named OWNER__NAME.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
TARGETS = HERE / "benchmarks" / "realworld" / "targets.json"


def decisions(root: Path, checkout: Path) -> "dict[str, tuple[int, bool]]":
    """file -> (Keras major, assumed) as the lint resolves it."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "CONDA_PREFIX", "TF_USE_LEGACY_KERAS", "KERAS_BACKEND", "PRE_COMMIT")}
    env["PYTHONPATH"] = str(checkout)
    done = subprocess.run([sys.executable, "-P", "-m", "kerasmode_lint", "--show-settings", "--verbose", "."],
                          cwd=root, env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"{root}: {done.stderr.strip()}")
    found, path = {}, None
    for line in done.stdout.splitlines():
        if line.startswith("path: "):
            path = line[len("path: "):]
        elif line.startswith("  keras-version: ") and path is not None:
            value = line[len("  keras-version: "):]
            found[path] = (int(value.split(".", 1)[0]), "(assumed" in value)
    return found


_STANDALONE = re.compile(rb"^\s*(?:import keras\b|from keras(?:\.\w+)* import)", re.M)
_TF_KERAS = re.compile(rb"\btf\.keras\b|\btensorflow\.keras\b|from tensorflow import keras\b")


def _by_import(path: Path) -> "int | None":
    """The "import" target of one file: 3 on standalone keras, 2 on tf.keras, None when neither or both."""
    data = path.read_bytes().replace(b"\\n", b"\n")  # notebook JSON strings hold their newlines escaped
    data = re.sub(rb'(?m)^\s*"', b"", data)  # and each source line opens a JSON string
    standalone, legacy = bool(_STANDALONE.search(data)), bool(_TF_KERAS.search(data))
    if standalone == legacy:
        return None
    return 3 if standalone else 2


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", required=True, type=Path)
    parser.add_argument("--checkout", type=Path, default=HERE, help="the linter to audit (default: this one)")
    parser.add_argument("--share", type=float, default=0.9)
    args = parser.parse_args(argv)
    entries = json.loads(TARGETS.read_text())
    by_repo: "dict[str, list[dict]]" = {}
    for entry in entries:
        by_repo.setdefault(entry["repository"], []).append(entry)
    picked = counted = 0
    alternative = Counter()
    for repo, parts in by_repo.items():
        root = args.corpus / repo.replace("/", "__")
        files = decisions(root, args.checkout)
        tallies = {i: Counter() for i in range(len(parts))}
        for path, (major, assumed) in files.items():
            covering = [i for i, p in enumerate(parts) if p.get("folder") in (None, "", ".")
                        or path == p["folder"] or path.startswith(p["folder"].rstrip("/") + "/")]
            best = max(covering, key=lambda i: len(parts[i].get("folder") or ""), default=None)
            if best is not None and parts[best]["target"] == "import":
                wanted = _by_import(root / path)
                if wanted is None:
                    continue
                tallies[best]["match" if wanted == major else "miss"] += 1
                for alt in (2, 3):
                    tallies[best][f"match{alt}"] += wanted == (alt if assumed else major)
                tallies[best][major] += 1
                tallies[best]["assumed"] += assumed
            elif best is not None:
                tallies[best]["match" if int(parts[best]["target"]) == major else "miss"] += 1
                for alt in (2, 3):
                    tallies[best][f"match{alt}"] += int(parts[best]["target"]) == (alt if assumed else major)
                tallies[best][major] += 1
                tallies[best]["assumed"] += assumed
        ok = True
        alt_ok = {2: True, 3: True}
        for i, part in enumerate(parts):
            tally = tallies[i]
            total = tally[2] + tally[3]
            target = part["target"]
            where = f"{repo}/{part.get('folder') or ''}".rstrip("/")
            split = f"{tally[2]} files Keras 2, {tally[3]} Keras 3, {tally['assumed']} assumed"
            share = tally["match"] / total if total else 0.0
            good = share >= args.share
            ok &= good
            alt_share = {alt: tally[f"match{alt}"] / total if total else 0.0 for alt in (2, 3)}
            for alt in (2, 3):
                alt_ok[alt] &= alt_share[alt] >= args.share
            print(f"  {where}: target {'per file' if target == 'import' else 'Keras ' + target}, "
                  f"{share:.0%} of {total} files ({split}) "
                  f"{'picked' if good else 'MISSED'}; assuming always Keras 2: {alt_share[2]:.0%}, "
                  f"always Keras 3: {alt_share[3]:.0%}")
        counted += 1
        picked += ok
        for alt in (2, 3):
            alternative[alt] += alt_ok[alt]
    print(f"auto picks the targeted Keras for {picked} of {counted} repositories "
          f"(if it always assumed Keras 2 where nothing decides: {alternative[2]}, Keras 3: {alternative[3]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
