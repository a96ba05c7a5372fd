"""Run, lint and score generated programs (docs/differential.md).

``run_programs`` executes programs in one worker process per flavour
(tests/differential/worker.py, restarted after a crash or a timeout),
``lint_program`` lints one with the flavour's ``--keras-version``, and
``score`` compares the linter's verdict with the observed truth.
"""
import json
import os
import re
import selectors
import subprocess
import sys
import tempfile
import threading
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from fixture_harness import _require_tensorflow, fixture_env  # noqa: E402

from differential.generator import BACKEND_NEUTRAL  # noqa: E402

#: the linter settings that describe each flavour
LINT_SETTINGS = {
    "k3": ("3", "tensorflow"), "tfk": ("2", "tensorflow"), "k3dev": ("3.16", "tensorflow"),
    "k3jax": ("3", "jax"), "k3devjax": ("3.16", "jax"),
}


def runs_under(program, flavour):
    """JAX flavours run only the families that use no TensorFlow API."""
    return not flavour.endswith("jax") or program.family in BACKEND_NEUTRAL


class Worker:
    """One TensorFlow process for `flavour` running programs one by one."""

    def __init__(self, flavour, timeout=120):
        _require_tensorflow(flavour)
        self.flavour, self.timeout, self.proc = flavour, timeout, None
        self.stderr = tempfile.TemporaryFile(mode="w+")

    def _start(self):
        env = fixture_env(self.flavour)
        env["PYTHONPATH"] = os.pathsep.join([env["PYTHONPATH"], str(HERE.parent)])
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "worker.py")], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self.stderr, env=env, text=True, bufsize=1,
            cwd=tempfile.gettempdir())
        hello = self._read(300)
        if not hello:
            raise AssertionError(f"differential worker for {self.flavour} did not start:\n{self._tail()}")
        self.version = json.loads(hello)

    def _read(self, timeout):
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout):
                return ""
        return self.proc.stdout.readline()

    def _tail(self):
        self.stderr.seek(0)
        return "\n".join(self.stderr.read().splitlines()[-20:])

    def run(self, program):
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        self.proc.stdin.write(json.dumps({"source": program.source, "meta": program.meta}) + "\n")
        self.proc.stdin.flush()
        answer = self._read(self.timeout)
        if not answer:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
            return {"phases": {}, "error": {"phase": "runner", "type": "WorkerDied",
                                            "message": "crashed or timed out", "line": None}}
        return json.loads(answer)

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.stderr.close()


def run_programs(programs, flavours, progress=None, deadline=None, skip=None):
    """``{flavour: [result per program or None]}``, one thread (and TensorFlow
    process) per flavour; ``progress(flavour, index, result)`` after each.
    Past `deadline` (time.monotonic()) the remaining programs are not run;
    nor are those for which ``skip(flavour, program)`` is true (their result
    is None, and no progress is reported for them)."""
    import time

    results = {}

    def one(flavour):
        worker = Worker(flavour)
        out = []
        if skip is not None and all(skip(flavour, p) for p in programs):
            results[flavour] = [None] * len(programs)
            worker.close()
            return
        try:
            for i, program in enumerate(programs):
                if deadline is not None and time.monotonic() > deadline:
                    break
                if skip is not None and skip(flavour, program):
                    out.append(None)
                    continue
                out.append(worker.run(program) if runs_under(program, flavour) else None)
                if progress:
                    progress(flavour, i, out[-1])
        finally:
            worker.close()
        results[flavour] = out

    threads = [threading.Thread(target=one, args=(f,)) for f in flavours]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    missing = [f for f in flavours if f not in results]
    if missing:
        raise AssertionError(f"differential run failed for {missing}")
    return results


def lint_program(program, flavour):
    from kerasmode_lint import lint_source

    version, backend = LINT_SETTINGS[flavour]
    return [{"line": d.line, "code": d.code, "message": d.message}
            for d in lint_source(program.source, "program.py", keras_version=version,
                                 keras_backend=backend)]


# --- truth ---------------------------------------------------------------------

def mismatches(program, result):
    """Every place the run differs from the program's intent, with its lines."""
    out = []
    if result is None:
        return out
    for phase in program.meta["phases"]:
        seen = result["phases"].get(phase["name"])
        if seen is None:
            continue
        lines = set(range(phase["lines"][0], phase["lines"][1] + 1)) | set(phase["related"])
        for layer, mode in phase["modes"].items():
            if layer.endswith("_drop"):
                want, got, kind = mode in ("train", "sample"), seen["dropped"].get(layer, False), "dropout"
            elif layer.endswith("_bn"):
                want, got, kind = mode == "train", seen["bn_moved"].get(layer), "batchnorm"
            else:
                continue
            if got is not None and want != got:
                out.append({"phase": phase["name"], "layer": layer, "kind": kind,
                            "intent": mode, "observed": _effect(kind, got),
                            "lines": sorted(lines | set(program.meta["layers"].get(layer, [])))})
        for dense, want in phase["weights"].items():
            got = seen["changed"].get(dense)
            if got is not None and (want == "change") != got:
                out.append({"phase": phase["name"], "layer": dense, "kind": "weights",
                            "intent": want, "observed": "changed" if got else "unchanged",
                            "lines": sorted(lines | set(program.meta["layers"].get(dense, [])))})
    error = result.get("error")
    if error:
        phase = next((p for p in program.meta["phases"] if p["name"] == error["phase"]), None)
        lines = set(range(phase["lines"][0], phase["lines"][1] + 1)) if phase else set()
        if error.get("line"):
            lines.add(error["line"])
        out.append({"phase": error["phase"], "layer": None, "kind": "error",
                    "intent": "runs", "observed": f"{error['type']}: {error['message'][:160]}",
                    "lines": sorted(lines)})
    return out


def unobserved(program, result):
    """Does a run that finished lack the observation of a BatchNormalization
    the intent names (a record of a worker that could not see a layer first
    built during the phase)? Such a record says nothing about that layer."""
    if result is None or result.get("error"):
        return False
    for phase in program.meta["phases"]:
        seen = result["phases"].get(phase["name"])
        if seen is not None and any(layer.endswith("_bn") and layer not in seen["bn_moved"]
                                    for layer in phase["modes"]):
            return True
    return False


def _effect(kind, happened):
    if kind == "dropout":
        return "drop" if happened else "keep"
    return "moved" if happened else "frozen"


# --- claims in messages -------------------------------------------------------

_HEDGE = re.compile(r"\b(would|may|might|could|if|unless|when|whenever|once|to keep|so that)\b")
_CLAIMS = [
    ("dropout_off", re.compile(r"dropout\w*\b[^;:.]*\b(does not|doesn't|never|not|no longer) drop|dropout off")),
    ("dropout_on", re.compile(r"dropout\w*\b[^;:.]*\bdrops?\b")),
    ("bn_frozen", re.compile(r"batchnorm\w*\b[^;:.]*\b(never updates?|stays? frozen|does not update|not update)")),
    ("bn_moves", re.compile(r"(overwrites?|updates?) (its |their |the )?moving statistics")),
]


def claims(message):
    """The effects a message states as fact (hedged clauses are not claims)."""
    found = set()
    for clause in re.split(r"[;:.()]|\bbut\b|\band (?=its|any|the|every)", message.lower()):
        if _HEDGE.search(clause):
            continue
        for name, pattern in _CLAIMS:
            if pattern.search(clause):
                if name == "dropout_on" and "dropout_off" in found and _CLAIMS[0][1].search(clause):
                    continue
                if name == "bn_moves" and re.search(r"never updat|not updat", clause):
                    continue
                found.add(name)
    # a clause naming only "its BatchNormalization ... moving statistics" after a Dropout clause
    return found


def claim_shown(claim, found):
    kinds = {"dropout_on": ("dropout", "drop"), "dropout_off": ("dropout", "keep"),
             "bn_moves": ("batchnorm", "moved"), "bn_frozen": ("batchnorm", "frozen")}[claim]
    return any((m["kind"], m["observed"]) == kinds for m in found)


# --- scoring --------------------------------------------------------------------

def score(programs, results, findings):
    """Per flavour: confusion counts (overall and per family), the
    disagreements, per-rule precision on programs and lines, and every message
    claim the run contradicted."""
    report = {}
    for flavour, per_program in results.items():
        confusion = Counter()
        by_family = defaultdict(Counter)
        rules = defaultdict(Counter)
        disagreements, contradicted = [], []
        for program, result, found in zip(programs, per_program, findings[flavour]):
            if result is None:
                continue
            wrong = mismatches(program, result)
            buggy, flagged = bool(wrong), bool(found)
            cell = {(True, True): "tp", (False, True): "fp", (True, False): "fn", (False, False): "tn"}[buggy, flagged]
            confusion[cell] += 1
            by_family[program.family][cell] += 1
            bad_lines = {ln for m in wrong for ln in m["lines"]}
            for f in found:
                rule = rules[f["code"]]
                rule["findings"] += 1
                rule["on_buggy_program"] += buggy
                rule["on_buggy_line"] += f["line"] in bad_lines
                for claim in sorted(claims(f["message"])):
                    if result.get("error"):
                        rule["claims_unchecked"] += 1  # the run stopped: the effect could not happen
                        continue
                    rule["claims"] += 1
                    if not claim_shown(claim, wrong):
                        rule["claims_contradicted"] += 1
                        contradicted.append({"seed": program.seed, "code": f["code"], "line": f["line"],
                                             "claim": claim, "message": f["message"]})
            if cell in ("fp", "fn"):
                disagreements.append({"seed": program.seed, "family": program.family,
                                      "knobs": program.meta["knobs"], "verdict": cell,
                                      "mismatches": wrong, "findings": found})
        report[flavour] = {"confusion": dict(confusion), "families": {k: dict(v) for k, v in by_family.items()},
                           "rules": {k: dict(v) for k, v in sorted(rules.items())},
                           "disagreements": disagreements, "contradicted": contradicted}
    return report


def figures(confusion):
    tp, fp, fn, tn = (confusion.get(k, 0) for k in ("tp", "fp", "fn", "tn"))
    n = tp + fp + fn + tn
    return {"programs": n, "agreement": (tp + tn) / n if n else 0.0,
            "precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / (tp + fn) if tp + fn else 1.0}


def evaluate(programs, flavours, progress=None, deadline=None, skip=None):
    """Run, lint and score `programs` under `flavours`; (report, results)."""
    results = run_programs(programs, flavours, progress, deadline, skip)
    findings = {f: [lint_program(p, f) if runs_under(p, f) else [] for p in programs[:len(results[f])]]
                for f in flavours}
    return score(programs, results, findings), results
