"""scripts/ecosystem.py: findings are paired with their verdicts and the
precision table counts them (the corpus itself lives outside the repo)."""
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("ecosystem", ROOT / "scripts" / "ecosystem.py")
ecosystem = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ecosystem)


def _finding(line, code="KM101", column=5, cell=None):
    return {"path": "train.py", "cell": cell, "line": line, "column": column, "code": code, "message": "m"}


def _verdict(line, verdict, code="KM101", column=5):
    return {"path": "train.py", "cell": None, "line": line, "column": column, "code": code,
            "verdict": verdict, "reason": "r"}


def test_exact_and_moved_findings_are_paired_and_the_rest_reported():
    findings = [_finding(10), _finding(21), _finding(40)]
    verdicts = [_verdict(10, "REAL"), _verdict(20, "FP"), _verdict(90, "REAL")]
    paired, ungraded, gone = ecosystem.match(findings, verdicts)
    assert [(f["line"], v["line"]) for f, v in paired] == [(10, 10), (21, 20)]  # 21 moved from 20
    assert [f["line"] for f in ungraded] == [40]
    assert [v["line"] for v in gone] == [90]


def test_two_calls_on_one_line_keep_their_own_verdicts():
    findings = [_finding(7, column=5), _finding(7, column=30)]
    verdicts = [_verdict(7, "REAL", column=30), _verdict(7, "HARMLESS", column=5)]
    paired, _, _ = ecosystem.match(findings, verdicts)
    assert [(f["column"], v["verdict"]) for f, v in paired] == [(5, "HARMLESS"), (30, "REAL")]


def test_precision_counts_real_and_latent_and_keeps_km001_apart():
    paired = [(_finding(1), _verdict(1, "REAL")), (_finding(2), _verdict(2, "LATENT")),
              (_finding(3), _verdict(3, "FP")), (_finding(4), _verdict(4, "HARMLESS"))]
    table = ecosystem.precision_table(paired, [_finding(9, code="KM001")])
    assert "| KM101 | 4 | 1 | 1 | 1 | 1 | 0 | 0.50 |" in table
    assert "| all (without KM001) | 4 | 1 | 1 | 1 | 1 | 0 | 0.50 |" in table
    assert any(row.startswith("| KM001 (not linted) | 1 |") for row in table)


def test_committed_verdicts_are_well_formed():
    corpus = {entry["repository"] for entry in json.loads(ecosystem.CORPUS.read_text())}
    files = sorted(ecosystem.VERDICTS.glob("*.json"))
    assert files
    for file in files:
        assert file.stem.replace("+", "/", 1) in corpus
        for row in ecosystem.load_verdicts(file.stem.replace("+", "/", 1)):
            assert set(row) == {"path", "cell", "line", "column", "code", "verdict", "reason"}
            assert 0 < len(row["reason"]) <= 200 and "\n" not in row["reason"]
