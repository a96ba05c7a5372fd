"""--output-format json/sarif/github, --statistics and --color, parsed as their
consumers parse them."""
import json
import re
import textwrap

import pytest

from kerasmode_lint.frontends import reporting
from kerasmode_lint.frontends.cli import main
from kerasmode_lint.engine.diagnostics import Diagnostic
from kerasmode_lint.engine.pages import page_text
from kerasmode_lint.rules import ALL_RULES

FLAGGED = textwrap.dedent("""\
    import tensorflow as tf
    with tf.GradientTape() as tape:
        pred = model(x)
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
""")
JSON_KEYS = {"code", "name", "message", "severity", "path", "cell", "line", "column",
             "end_line", "end_column", "doc", "fix", "explanation"}


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "train.py").write_text(FLAGGED)
    (tmp_path / "pkg" / "unused.py").write_text("x = 1  # noqa: KM101\n")
    (tmp_path / "pkg" / "broken.py").write_text("def f(:\n")
    return tmp_path


def run(capsys, *args):
    code = main(["--keras-version", "3", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_follows_the_documented_schema(project, capsys):
    code, out, _ = run(capsys, "--output-format", "json", "pkg")
    assert code == 1
    findings = json.loads(out)
    assert [(f["path"], f["code"]) for f in findings] == [
        ("pkg/broken.py", "KM001"), ("pkg/train.py", "KM101"), ("pkg/unused.py", "KM002")]
    for finding in findings:
        assert set(finding) == JSON_KEYS
        assert finding["cell"] is None
        assert finding["severity"] == ("error" if finding["code"] == "KM001" else "warning")
        assert finding["doc"] == f"rules/{finding['code']}.md"
        assert 1 <= finding["line"] <= finding["end_line"] and finding["column"] >= 1
    broken, train, unused = findings
    assert broken["fix"] is None
    assert (train["line"], train["column"], train["end_line"], train["end_column"]) == (3, 12, 3, 20)
    assert train["name"] == "tape-call-without-training"
    assert train["fix"] == {
        "applicability": "unsafe", "message": "Pass `training=True`",
        "edits": [{"content": ", training=True", "cell": None,
                   "line": 3, "column": 19, "end_line": 3, "end_column": 19}],
    }
    assert unused["fix"]["applicability"] == "safe"


def test_json_of_a_clean_run_is_an_empty_array(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.py").write_text("x = 1\n")
    assert run(capsys, "--output-format", "json", "a.py")[:2] == (0, "[]\n")


def validate_sarif(log):
    """The parts of SARIF 2.1.0 that GitHub code scanning requires."""
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    [run_] = log["runs"]
    driver = run_["tool"]["driver"]
    assert isinstance(driver["name"], str) and driver["name"]
    ids = [rule["id"] for rule in driver["rules"]]
    assert len(ids) == len(set(ids))
    for rule in driver["rules"]:
        assert isinstance(rule["shortDescription"]["text"], str) and rule["shortDescription"]["text"]
        assert rule["help"]["text"] or rule["help"]["markdown"]
    for result in run_["results"]:
        assert result["ruleId"] in ids
        assert ids[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in ("none", "note", "warning", "error")
        assert isinstance(result["message"]["text"], str) and result["message"]["text"]
        location = result["locations"][0]["physicalLocation"]
        uri = location["artifactLocation"]["uri"]
        assert isinstance(uri, str) and "\\" not in uri and not uri.startswith("/")
        region = location["region"]
        assert isinstance(region["startLine"], int) and region["startLine"] >= 1
        assert isinstance(region["startColumn"], int) and region["startColumn"] >= 1
        if "endLine" in region:
            assert (region["endLine"], region["endColumn"]) >= (region["startLine"], region["startColumn"])
    return run_


def test_sarif_is_valid_and_carries_every_rule_page(project, capsys):
    code, out, _ = run(capsys, "--output-format", "sarif", "pkg")
    assert code == 1
    run_ = validate_sarif(json.loads(out))
    rules = {rule["id"]: rule for rule in run_["tool"]["driver"]["rules"]}
    assert set(rules) >= {"KM001", "KM002"} | {r.code for r in ALL_RULES}
    for code_ in rules:
        assert rules[code_]["help"]["markdown"] == page_text(code_)
    by_rule = {r["ruleId"]: r for r in run_["results"]}
    train = by_rule["KM101"]
    assert train["level"] == "warning" and by_rule["KM001"]["level"] == "error"
    assert train["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "pkg/train.py"
    assert train["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 3, "startColumn": 12, "endLine": 3, "endColumn": 20}
    [replacement] = train["fixes"][0]["artifactChanges"][0]["replacements"]
    assert replacement["insertedContent"]["text"] == ", training=True"


def test_sarif_for_a_notebook_names_the_cell(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    source = FLAGGED.splitlines(keepends=True)
    document = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["x"]},
                          {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                           "source": source}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "my nb.ipynb").write_text(json.dumps(document))
    code, out, _ = run(capsys, "--output-format", "sarif", "my nb.ipynb")
    [result] = validate_sarif(json.loads(out))["results"]
    # The cell stays in properties, and the fix is kept (each edit's cell beside it).
    assert result["properties"] == {"cell": 2, "fixCells": [2]}
    [replacement] = result["fixes"][0]["artifactChanges"][0]["replacements"]
    assert replacement["insertedContent"]["text"] == ", training=True"
    assert replacement["deletedRegion"]["startLine"] == 3
    assert result["message"]["text"].startswith("cell 2: ")
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "my%20nb.ipynb"


GITHUB = re.compile(r"^::(?P<level>warning|error) (?P<props>[^:]*)::(?P<message>.*)$")


def parse_github(line):
    match = GITHUB.match(line)
    assert match, line
    props = dict(p.split("=", 1) for p in match["props"].split(","))
    unescape = lambda s: s.replace("%3A", ":").replace("%2C", ",").replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")
    return match["level"], {k: unescape(v) for k, v in props.items()}, unescape(match["message"])


def test_github_annotations(project, capsys):
    code, out, _ = run(capsys, "--output-format", "github", "pkg")
    assert code == 1
    parsed = [parse_github(line) for line in out.splitlines()]
    level, props, message = parsed[1]
    assert level == "warning"
    assert props == {"file": "pkg/train.py", "line": "3", "col": "12", "endLine": "3", "endColumn": "20",
                     "title": "KM101 tape-call-without-training"}
    assert message.startswith("`model` runs in inference mode while trained")
    assert parsed[0][0] == "error" and parsed[0][1]["title"] == "KM001 invalid-file"


def test_github_escapes_what_would_end_the_command():
    diag = Diagnostic("a,b:c.py", 1, 2, "KM101", "50% off\nnext line", name="n")
    [line] = reporting.github_report([diag]).splitlines()
    assert line == "::warning file=a%2Cb%3Ac.py,line=1,col=2,title=KM101 n::50%25 off%0Anext line"
    assert parse_github(line)[2] == "50% off\nnext line"


def test_statistics(project, capsys):
    (project / "pkg" / "more.py").write_text(FLAGGED)
    code, out, _ = run(capsys, "--statistics", "pkg")
    assert code == 1
    assert out.splitlines() == [
        "2  KM101  tape-call-without-training  (2 fixable with --unsafe-fixes)",
        "1  KM001  invalid-file",
        "1  KM002  unused-noqa  (1 fixable)",
    ]
    _, out, _ = run(capsys, "--statistics", "--unsafe-fixes", "--output-format", "json", "pkg")
    assert json.loads(out)[0] == {"code": "KM101", "name": "tape-call-without-training", "count": 2, "fixable": 2,
                                  "unsafe_fixable": 0}
    _, out, _ = run(capsys, "--statistics", "--output-format", "json", "pkg")
    assert json.loads(out)[0]["fixable"] == 0 and json.loads(out)[0]["unsafe_fixable"] == 2
    assert run(capsys, "--statistics", "--output-format", "sarif", "pkg")[0] == 2


def test_color(project, capsys, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    _, out, _ = run(capsys, "--color", "always", "pkg/train.py")
    assert out.startswith("\x1b[1mpkg/train.py\x1b[0m:3:12: \x1b[1;31mKM101\x1b[0m ")
    _, out, _ = run(capsys, "pkg/train.py")  # auto, and captured output is no terminal
    assert "\x1b" not in out and out.startswith("pkg/train.py:3:12: KM101")
    monkeypatch.setenv("NO_COLOR", "1")
    _, out, _ = run(capsys, "--color", "always", "pkg/train.py")
    assert "\x1b[" in out  # an explicit flag beats NO_COLOR
    _, out, _ = run(capsys, "--output-format", "json", "--color", "always", "pkg/train.py")
    assert "\x1b" not in out


class Terminal:
    def isatty(self):
        return True


def test_auto_colour_means_a_terminal_without_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert reporting.use_colour("auto", Terminal())
    assert not reporting.use_colour("never", Terminal())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not reporting.use_colour("auto", Terminal())
    monkeypatch.setenv("NO_COLOR", "")  # empty means unset, per no-color.org
    assert reporting.use_colour("auto", Terminal())


def test_stdin_uses_stdin_filename_for_config_and_output(tmp_path, monkeypatch, capsys):
    import io
    import sys

    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.kerasmode-lint.per-file-ignores]\n"tests/*" = ["KM101"]\n')
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(FLAGGED.encode())))
    assert main(["-", "--stdin-filename", "src/train.py"]) == 1
    assert capsys.readouterr().out.startswith("src/train.py:3:12: KM101")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(FLAGGED.encode())))
    assert main(["-", "--stdin-filename", "tests/test_train.py"]) == 0
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(FLAGGED.encode())))
    assert main(["-"]) == 1
    assert capsys.readouterr().out.startswith("-:3:12: KM101")


def test_sarif_percent_encodes_a_file_name_that_is_not_utf8(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    name = b"caf\xe9 model.py"  # Latin-1, not UTF-8
    with open(bytes(tmp_path) + b"/" + name, "w") as handle:
        handle.write(FLAGGED)
    code, out, _ = run(capsys, "--output-format", "sarif", ".")
    assert code == 1
    [result] = validate_sarif(json.loads(out))["results"]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "caf%E9%20model.py"
    from urllib.parse import unquote_to_bytes

    assert unquote_to_bytes(uri) == name


def test_text_output_escapes_control_characters_in_names_and_messages():
    forged = Diagnostic("a.py:9:9: KM999 forged\nb.py", 1, 2, "KM101", "bad \x1b[2J\u202e", name="n")
    [line] = reporting.text_report([forged]).splitlines()
    assert line == "a.py:9:9: KM999 forged\\nb.py:1:2: KM101 bad \\x1b[2J\\u202e"


def test_a_file_name_with_a_newline_gives_one_finding_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.py:1:1: KM101 forged\nreal.py").write_text(FLAGGED)
    code, out, _ = run(capsys, "--no-cache", ".")
    [finding] = [line for line in out.splitlines() if ": KM" in line]
    assert finding.startswith("x.py:1:1: KM101 forged\\nreal.py:3:12: KM101 ")


# -- concise, full, pylint, junit, gitlab; rule URLs --------------------------------
def test_concise_is_the_default_and_text_its_alias(project, capsys):
    _, default, _ = run(capsys, "pkg/train.py")
    _, concise, _ = run(capsys, "--output-format", "concise", "pkg/train.py")
    _, text, _ = run(capsys, "--output-format", "text", "pkg/train.py")
    assert default == concise == text and default.startswith("pkg/train.py:3:12: KM101 ")


def test_full_prints_the_explanation_and_underlines_the_span():
    diag = Diagnostic("t.py", 3, 12, "KM101", "Pass `training=True`.", end_line=3, end_column=20,
                      name="tape-call-without-training", explanation="Dropout does not drop.\nBN is frozen.")
    def source_lines(path):
        return FLAGGED.splitlines()

    out = reporting.report([diag], "full", source_lines=source_lines)
    lines = out.splitlines()
    assert lines[0] == "t.py:3:12: KM101 Pass `training=True`."
    assert lines[2:4] == ["Dropout does not drop.", "BN is frozen."]
    assert "3 |     pred = model(x)" in lines
    underline = lines[lines.index("3 |     pred = model(x)") + 1]
    assert underline == "  |            ^^^^^^^^ KM101"  # columns 12..19, under `model(x)`
    assert out.rstrip().splitlines()[-1] == "  = help: kerasmode-lint --explain KM101"
    # Without the source (a notebook cell, an unreadable file) there is no frame, but no error either.
    assert " | " not in reporting.report([diag], "full")
    # A long explanation is wrapped, word by word.
    long = Diagnostic("t.py", 3, 12, "KM101", "m", explanation=" ".join(["word"] * 60))
    lines = reporting.report([long], "full").splitlines()
    body = lines[2:lines.index("", 2)]
    assert " ".join(body) == long.explanation and max(map(len, body)) <= reporting.EXPLANATION_WIDTH


def test_full_reads_the_file_through_the_cli(project, capsys):
    code, out, _ = run(capsys, "--output-format", "full", "pkg/train.py")
    assert code == 1
    assert "3 |     pred = model(x)\n  |            ^^^^^^^^ KM101\n" in out


def test_pylint_lines(project, capsys):
    _, out, _ = run(capsys, "--output-format", "pylint", "pkg/train.py")
    assert re.fullmatch(r"pkg/train\.py:3: \[KM101\] .+\n", out)


def test_junit_is_xml_with_one_failure_per_finding(project, capsys):
    import xml.etree.ElementTree as ET

    code, out, _ = run(capsys, "--output-format", "junit", "pkg")
    assert code == 1
    root = ET.fromstring(out)
    assert root.tag == "testsuites" and root.get("failures") == "3"
    cases = [(s.get("name"), c.get("name"), c.get("line")) for s in root for c in s]
    assert cases == [("pkg/broken.py", "kerasmode-lint.KM001", "1"), ("pkg/train.py", "kerasmode-lint.KM101", "3"),
                     ("pkg/unused.py", "kerasmode-lint.KM002", "1")]
    assert all(c.find("failure").get("message") for s in root for c in s)


def test_gitlab_code_quality_fingerprints_survive_moved_lines(project, capsys):
    _, before, _ = run(capsys, "--output-format", "gitlab", "pkg/train.py")
    (project / "pkg" / "train.py").write_text("\n\n" + FLAGGED)
    _, after, _ = run(capsys, "--output-format", "gitlab", "pkg/train.py")
    [old], [new] = json.loads(before), json.loads(after)
    assert set(old) == {"description", "check_name", "fingerprint", "severity", "location"}
    assert old["location"] == {"path": "pkg/train.py", "lines": {"begin": 3, "end": 3}}
    assert new["location"]["lines"]["begin"] == 5
    assert old["fingerprint"] == new["fingerprint"] and old["severity"] == "major"


def test_rule_urls_come_from_a_documentation_base_or_are_left_out(project, capsys, monkeypatch):
    monkeypatch.setattr(reporting, "documentation_base", lambda: None)
    _, out, _ = run(capsys, "--output-format", "json", "pkg/train.py")
    assert "url" not in json.loads(out)[0]
    _, out, _ = run(capsys, "--output-format", "sarif", "pkg/train.py")
    assert all("helpUri" not in rule for rule in json.loads(out)["runs"][0]["tool"]["driver"]["rules"])
    base = "https://example.org/kerasmode-lint/rules"
    _, out, _ = run(capsys, "--output-format", "json", "--documentation-url", base, "pkg/train.py")
    assert json.loads(out)[0]["url"] == base + "/KM101.md"
    _, out, _ = run(capsys, "--output-format", "sarif", "--documentation-url", "https://x.org/{code}.html",
                    "pkg/train.py")
    rules = validate_sarif(json.loads(out))
    rules = json.loads(out)["runs"][0]["tool"]["driver"]["rules"]
    assert {r["id"]: r["helpUri"] for r in rules}["KM101"] == "https://x.org/KM101.html"
    (project / "pyproject.toml").write_text(
        '[tool.kerasmode-lint]\ndocumentation-url = "https://docs.example/rules"\n')
    _, out, _ = run(capsys, "--output-format", "json", "pkg/train.py")
    assert json.loads(out)[0]["url"] == "https://docs.example/rules/KM101.md"


def test_documentation_base_is_read_from_the_package_metadata(monkeypatch):
    import importlib.metadata

    class Meta:
        def get_all(self, key):
            return ["Source, https://example.org/src", "Documentation, https://example.org/docs/"]

    monkeypatch.setattr(importlib.metadata, "metadata", lambda name: Meta())
    assert reporting.documentation_base() == "https://example.org/docs/rules"


def test_list_rules_as_json(capsys):
    code, out, _ = run(capsys, "--list-rules", "--output-format", "json")
    rows = json.loads(out)
    assert code == 0
    assert [r["code"] for r in rows][:3] == ["KM001", "KM002", "KM101"]
    assert {"code", "name", "versions", "summary", "fix"} <= set(rows[2])
    assert run(capsys, "--list-rules", "--output-format", "sarif")[0] == 2


def test_output_file_gets_the_findings_and_stdout_stays_empty(project, capsys):
    code, out, err = run(capsys, "--output-format", "json", "--output-file", "report.json", "pkg/train.py")
    assert code == 1 and out == ""
    assert json.loads((project / "report.json").read_text())[0]["code"] == "KM101"
    code, _, err = run(capsys, "--output-file", str(project / "missing" / "r.txt"), "pkg/train.py")
    assert code == 2 and err.startswith("kerasmode-lint: error: --output-file ") and "\n" == err[-1]
