"""Lint public Keras repositories as a user would and grade the findings.

In the spirit of ruff's ecosystem check and mypy_primer: every repository of
``benchmarks/realworld/corpus.json`` is linted from its own root (the default
``auto`` Keras version, the repository's own config and pins), and each
finding is compared with the verdicts kept in
``benchmarks/realworld/verdicts/<owner>+<name>.json``, graded by reading the
code:

    REAL      wrong behaviour today under the Keras version the repository targets
    LATENT    harmless today, breaks on a likely change (Keras 3 upgrade,
              unfreezing, adding BatchNormalization or Dropout)
    HARMLESS  the pattern is there but no mode-dependent layer is affected
    FP        intentional or correct code, or the linter misread it

Precision is (REAL + LATENT) / graded findings, per rule and overall. KM001
(a file that could not be linted) is counted apart: it is not a claim about
Keras. The report also lists findings with no verdict yet, LATENT findings
no longer reported, and REAL findings no longer reported (lost recall: the
script then exits 1).

    # once: bring each repository here as a bare git directory, then
    python scripts/ecosystem.py materialise --mirrors /work/.mirror --trees /tmp/corpus
    python scripts/ecosystem.py check --trees /tmp/corpus
    python scripts/ecosystem.py check --trees /tmp/corpus --ungraded-out todo.json

A mirror is looked for at ``MIRRORS/<owner>+<name>/repo`` or
``MIRRORS/<owner>+<name>``. Snapshots may lack their largest blobs, so files
are extracted one by one (``git cat-file``) and missing blobs are skipped.
The repositories' code is never copied into this project; the verdicts hold
facts about it (path, line, code, verdict, a one-line reason).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
HERE = PROJECT / "benchmarks" / "realworld"
CORPUS = HERE / "corpus.json"
VERDICTS = HERE / "verdicts"
GOOD = ("REAL", "LATENT")
KINDS = ("REAL", "LATENT", "HARMLESS", "FP")
PIN_NAMES = ("setup.py", "setup.cfg", "pyproject.toml", "Pipfile", ".kerasmode-lint.toml")
# A moved finding (a rule now reports another line of the same statement) is
# matched to its verdict if it stays this close and the match is unique.
LINE_SLACK = 3


def slug(repository: str) -> str:
    return repository.replace("/", "+")


def load_corpus() -> list[dict]:
    return json.loads(CORPUS.read_text())


# -- materialise -----------------------------------------------------------


def _wanted(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return (
        path.endswith((".py", ".ipynb"))
        or name in PIN_NAMES
        or (name.startswith("requirements") and name.endswith(".txt"))
        or (name.startswith("environment") and name.endswith((".yml", ".yaml")))
    )


def _mirror(mirrors: Path, repository: str) -> Path | None:
    for candidate in (mirrors / slug(repository) / "repo", mirrors / slug(repository)):
        if (candidate / "HEAD").exists() or (candidate / ".git").exists():
            return candidate
    return None


def materialise(mirrors: Path, trees: Path) -> int:
    status = 0
    for entry in load_corpus():
        repository, commit = entry["repository"], entry["commit"]
        git_dir = _mirror(mirrors, repository)
        if git_dir is None:
            print(f"{repository}: no mirror under {mirrors}", file=sys.stderr)
            status = 1
            continue
        out = trees / slug(repository)
        stamp = out / ".ecosystem-commit"
        if stamp.exists() and stamp.read_text().strip() == commit:
            print(f"{repository}: already at {commit[:10]}")
            continue
        listing = subprocess.run(
            ["git", "--git-dir", str(git_dir), "ls-tree", "-r", "-z", commit],
            capture_output=True, check=True,
        ).stdout.decode("utf-8", "surrogateescape")
        blobs = []
        for record in listing.split("\0"):
            if not record:
                continue
            meta, path = record.split("\t", 1)
            mode, kind, sha = meta.split()
            if kind == "blob" and mode != "120000" and _wanted(path):
                blobs.append((sha, path))
        # One cat-file process for all blobs; a missing one answers "missing".
        proc = subprocess.Popen(
            ["git", "--git-dir", str(git_dir), "cat-file", "--batch"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )
        written = missing = 0
        for sha, path in blobs:
            proc.stdin.write(sha.encode() + b"\n")
            proc.stdin.flush()
            header = proc.stdout.readline().split()
            if len(header) < 3:
                missing += 1
                continue
            data = proc.stdout.read(int(header[2]))
            proc.stdout.read(1)
            target = out / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            written += 1
        proc.stdin.close()
        proc.wait()
        # A checkout has its .git: the linter finds the project's root by it.
        (out / ".git").mkdir(exist_ok=True)
        stamp.write_text(commit + "\n")
        print(f"{repository}: {written} files at {commit[:10]}, {missing} blobs missing from the snapshot")
    return status


# -- check -----------------------------------------------------------------


def lint(root: Path, linter: list[str], jobs: str | None) -> list[dict]:
    command = [*linter, "--output-format", "json", "--no-cache", "--exit-zero"]
    if jobs:
        command += ["--jobs", jobs]
    command.append(".")
    # The linter of this checkout unless --linter names another one.
    env = dict(os.environ, PYTHONPATH=str(PROJECT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{root}: the linter exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout or "[]")


def key(row: dict) -> tuple:
    return (row["path"], row.get("cell"), row["line"], row.get("column"), row["code"])


def load_verdicts(repository: str) -> list[dict]:
    file = VERDICTS / f"{slug(repository)}.json"
    if not file.exists():
        return []
    rows = json.loads(file.read_text())
    for row in rows:
        if row["verdict"] not in KINDS:
            raise SystemExit(f"{file}: unknown verdict {row['verdict']!r} at {row['path']}:{row['line']}")
    return rows


def match(findings: list[dict], verdicts: list[dict]):
    """Pair findings with verdicts: exactly, then by a unique nearby line."""
    by_key = {key(v): v for v in verdicts}
    used, paired, ungraded = set(), [], []
    for finding in findings:
        verdict = by_key.get(key(finding))
        if verdict is not None and id(verdict) not in used:
            used.add(id(verdict))
            paired.append((finding, verdict))
        else:
            ungraded.append(finding)
    still = []
    for finding in ungraded:
        near = [
            v for v in verdicts
            if id(v) not in used
            and (v["path"], v.get("cell"), v["code"]) == (finding["path"], finding.get("cell"), finding["code"])
            and abs(v["line"] - finding["line"]) <= LINE_SLACK
        ]
        if len(near) == 1:
            used.add(id(near[0]))
            paired.append((finding, near[0]))
        else:
            still.append(finding)
    gone = [v for v in verdicts if id(v) not in used]
    return paired, still, gone


def precision_table(paired: list[tuple[dict, dict]], ungraded: list[dict]) -> list[str]:
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for finding, verdict in paired:
        counts[finding["code"]][verdict["verdict"]] += 1
    for finding in ungraded:
        counts[finding["code"]]["ungraded"] += 1
    lines = ["| rule | findings | REAL | LATENT | HARMLESS | FP | ungraded | precision |",
             "|---|---|---|---|---|---|---|---|"]
    total: collections.Counter = collections.Counter()
    for code in sorted(counts):
        row = counts[code]
        if code == "KM001":
            continue
        total.update(row)
        lines.append(_row(code, row))
    lines.append(_row("all (without KM001)", total))
    if "KM001" in counts:
        lines.append(f"| KM001 (not linted) | {sum(counts['KM001'].values())} | | | | | | |")
    return lines


def _row(label: str, row: collections.Counter) -> str:
    graded = sum(row[k] for k in KINDS)
    found = graded + row["ungraded"]
    precision = f"{(row['REAL'] + row['LATENT']) / graded:.2f}" if graded else "-"
    return (f"| {label} | {found} | {row['REAL']} | {row['LATENT']} | {row['HARMLESS']} | "
            f"{row['FP']} | {row['ungraded']} | {precision} |")


def _section(title: str, rows: list[dict], text) -> None:
    if not rows:
        return
    print(f"\n## {len(rows)} {title}\n")
    for row in rows:
        cell = f" cell {row['cell']}" if row.get("cell") is not None else ""
        print(f"- {row['repository']} {row['path']}{cell}:{row['line']} {row['code']} {text(row)}")


def check(trees: Path, linter: list[str], jobs: str | None, only: list[str],
          ungraded_out: Path | None, findings_out: Path | None) -> int:
    all_paired, all_ungraded, all_lost, all_dropped, everything = [], [], [], [], []
    per_repo = []
    for entry in load_corpus():
        repository = entry["repository"]
        if only and repository not in only:
            continue
        root = trees / slug(repository)
        if not root.is_dir():
            raise SystemExit(f"{repository}: no tree at {root} (run `materialise` first)")
        findings = lint(root, linter, jobs)
        for finding in findings:
            finding["repository"] = repository
        everything += findings
        paired, ungraded, gone = match(findings, load_verdicts(repository))
        lost = [v for v in gone if v["verdict"] == "REAL"]
        dropped = [v for v in gone if v["verdict"] == "LATENT"]
        all_dropped += [dict(v, repository=repository) for v in dropped]
        all_paired += paired
        all_ungraded += ungraded
        all_lost += [dict(v, repository=repository) for v in lost]
        codes = collections.Counter(f["code"] for f in findings)
        per_repo.append((repository, len(findings), codes, len(ungraded), len(gone)))

    print("## Findings per repository\n")
    for repository, count, codes, ungraded, gone in per_repo:
        summary = ", ".join(f"{c} {n}" for c, n in sorted(codes.items())) or "none"
        print(f"- {repository}: {count} ({summary}); {ungraded} ungraded; {gone} verdicts no longer reported")
    print("\n## Precision per rule ((REAL + LATENT) / graded)\n")
    print("\n".join(precision_table(all_paired, all_ungraded)))
    _section("findings without a verdict", [f for f in all_ungraded if f["code"] != "KM001"],
             lambda f: f["message"][:140])
    _section("LATENT findings no longer reported (allowed: not a bug today)", all_dropped,
             lambda v: v["reason"])
    _section("REAL findings no longer reported (lost recall)", all_lost, lambda v: v["reason"])
    if ungraded_out:
        ungraded_out.write_text(json.dumps([
            {"repository": f["repository"], "path": f["path"], "cell": f.get("cell"), "line": f["line"],
             "column": f["column"], "code": f["code"], "verdict": "", "reason": "", "message": f["message"]}
            for f in all_ungraded
        ], indent=1) + "\n")
    if findings_out:
        findings_out.write_text(json.dumps(everything, indent=1) + "\n")
    return 1 if all_lost else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("materialise", help="extract each repository at its pinned commit")
    m.add_argument("--mirrors", type=Path, required=True, help="folder of bare git mirrors")
    m.add_argument("--trees", type=Path, required=True, help="where to write the trees (outside this repo)")
    c = sub.add_parser("check", help="lint every tree and compare with the verdicts")
    c.add_argument("--trees", type=Path, required=True)
    c.add_argument("--linter", default=f"{sys.executable} -m kerasmode_lint",
                   help="command that runs the linter (default: this Python's kerasmode_lint)")
    c.add_argument("--jobs", help="passed to the linter's --jobs")
    c.add_argument("--repository", action="append", default=[], help="only this repository (repeatable)")
    c.add_argument("--ungraded-out", type=Path, help="write findings without a verdict here, as a template")
    c.add_argument("--findings-out", type=Path, help="write every finding here (JSON)")
    args = parser.parse_args(argv)
    if args.command == "materialise":
        return materialise(args.mirrors, args.trees.resolve())
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    return check(args.trees.resolve(), args.linter.split(), args.jobs, args.repository,
                 args.ungraded_out, args.findings_out)


if __name__ == "__main__":
    sys.exit(main())
