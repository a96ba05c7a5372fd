"""Every message is one sentence of at most 120 characters (what is wrong, and
the fix), as ruff's are; the longer story is the finding's explanation.

Checked on what the rules really say: every fixture, every python block of the
rule pages and the snippets of the rule tests (module-level strings of
tests/test_km*.py, alone and after the module's HEADER), under each Keras
version setting and under ``auto`` (where a finding may begin "Keras 3
assumed: "); and on the engine's own KM001/KM002 findings.
"""
import ast
import json
import re
import sys
import textwrap
from pathlib import Path

import pytest

from kerasmode_lint import lint_source
from kerasmode_lint.frontends.cli import main
from kerasmode_lint.engine.diagnostics import ENGINE_CODES, one_sentence
from kerasmode_lint.rules import RULES_BY_CODE

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fixture_harness import FIXTURES_DIR, KERAS_VERSIONS, fixture_files  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = KERAS_VERSIONS + ("auto",)
MAX_LENGTH = 120
# Findings whose explanation says the model's layers could not be seen must
# say so in the message too: the short message may not claim what is unknown.
UNSEEN = "could not be seen"


def problems(diag):
    """What is wrong with one finding's wording ([] when nothing)."""
    found = []
    message = diag.message
    if "\n" in message or "\r" in message:
        found.append("has a line break")
    if len(message) > MAX_LENGTH:
        found.append(f"is {len(message)} characters long")
    prose = re.sub(r"`[^`]*`", "`…`", message)  # code may hold dots: `self.bn`, `x.y()`
    if re.search(r"[.!?]\s+\S", prose) or prose.rstrip().endswith("."):
        found.append("is not one sentence (without a final period)")
    if re.search(r"#\d+", message):
        found.append("cites an issue number")
    if diag.code in RULES_BY_CODE:
        if len(diag.explanation) <= len(message):
            found.append("has no explanation longer than the message")
        if UNSEEN in diag.explanation and UNSEEN not in message:
            found.append("hides that the layers could not be seen")
    return [f"{diag.code} {message!r} {p}" for p in found]


def lint_all(source, name):
    out = []
    for setting in SETTINGS:
        for diag in lint_source(source, filename=name, keras_version=setting):
            out += [f"{name} [{setting}]: {p}" for p in problems(diag)]
    return out


@pytest.mark.parametrize("path", fixture_files(), ids=[p.relative_to(FIXTURES_DIR).as_posix() for p in fixture_files()])
def test_fixture_messages_are_one_short_sentence(path):
    assert lint_all(path.read_bytes(), str(path)) == []


def page_blocks():
    for page in sorted((ROOT / "rules").glob("KM*.md")):
        for number, block in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(), re.S)):
            yield f"{page.name}#{number}", block


def test_rule_page_messages_are_one_short_sentence():
    blocks = list(page_blocks())
    assert len(blocks) > 30
    assert [p for name, block in blocks for p in lint_all(block, name + ".py")] == []


def rule_test_snippets():
    """Module-level strings of one rule test module (and HEADER + each)."""
    found = []
    for module in sorted((ROOT / "tests").glob("test_km*.py")):
        strings = {}
        for node in ast.parse(module.read_text()).body:
            value = getattr(node, "value", None)
            if isinstance(node, ast.Assign) and isinstance(value, ast.Constant) and isinstance(value.value, str):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        strings[target.id] = textwrap.dedent(node.value.value)
        header = strings.get("HEADER", "")
        for name, text in strings.items():
            if name != "HEADER" and ("keras" in text or "tf." in text or header):
                found.append((f"{module.name}:{name}", header + text if name != "HEADER" else text))
    return found


SNIPPET_MODULES = sorted({name.split(":")[0] for name, _ in rule_test_snippets()})


def test_most_rule_tests_give_snippets():
    assert len(SNIPPET_MODULES) >= 12, SNIPPET_MODULES


@pytest.mark.parametrize("module", SNIPPET_MODULES)
def test_rule_test_snippet_messages_are_one_short_sentence(module):
    snippets = [(name, text) for name, text in rule_test_snippets() if name.startswith(module + ":")]
    out = []
    for name, text in snippets:
        out += lint_all(text, name.replace(":", "_") + ".py")
    assert out == []


def test_the_checks_can_fail():
    from kerasmode_lint.engine.diagnostics import Diagnostic

    long = Diagnostic("x.py", 1, 1, "KM101", "a" * 121, explanation="b" * 200)
    two = Diagnostic("x.py", 1, 1, "KM101", "`self.bn` is wrong. Fix it", explanation="b" * 200)
    bare = Diagnostic("x.py", 1, 1, "KM101", "`self.bn` is wrong; pass `training=True`")
    hidden = Diagnostic("x.py", 1, 1, "KM101", "`m` runs in inference mode (Dropout off); pass it",
                        explanation="its layers could not be seen: any Dropout …" + "b" * 100)
    issue = Diagnostic("x.py", 1, 1, "KM301", "leaks (keras-hub#2495); upgrade", explanation="b" * 200)
    assert problems(Diagnostic("x.py", 1, 1, "KM101", "`self.bn(x, training=True)` is fine; use `a.b`",
                               explanation="b" * 200)) == []
    for diag in (long, two, bare, hidden, issue):
        assert len(problems(diag)) == 1, diag


# -- the engine's own codes --------------------------------------------------------
ENGINE_CASES = {
    "syntax error with a hint": b"f(a b)\n",
    "two hints": b"if x = 3:\n    pass\n",
    "never closed": b"x = (1,\n",
    "undecodable": b"# coding: latin-1\nx = '\xff'\n\xff\xfe = 1\n" + b"\x81" * 3,
    "bad encoding name": b"# -*- coding: klingon -*-\nx = 1\n",
    "NUL byte": b"x = 1\x00\n",
    "not UTF-8": b"x = '\xff'\n",
    "unused noqa": b"import tensorflow as tf\nx = 1  # noqa: KM101\n",
    "unknown noqa": b"x = 1  # noqa: KM999, KM101\n",
    "libcst cannot parse": b"import tensorflow as tf\ndef f[T](x: T) -> T:\n    return x\nmodel(x, True)\n",
}


@pytest.mark.parametrize("case", ENGINE_CASES)
def test_engine_messages_are_one_short_sentence(case):
    diags = lint_source(ENGINE_CASES[case], "x.py", keras_version="3", select=["KM"])
    assert {d.code for d in diags} & set(ENGINE_CODES), diags
    assert [p for d in diags for p in problems(d)] == []


def test_notebook_messages_are_one_short_sentence():
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": src}
             for src in ("import tensorflow as tf\n", "f(a b)\n", "x = (1,\n")]
    nb = json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()
    diags = lint_source(nb, "n.ipynb", keras_version="3") + lint_source(b"{", "bad.ipynb", keras_version="3")
    assert {d.code for d in diags} == {"KM001"} and len(diags) == 2
    assert [p for d in diags for p in problems(d)] == []


def test_one_sentence_joins_later_sentences():
    assert one_sentence("invalid syntax. Perhaps you forgot a comma?") == "invalid syntax; perhaps you forgot a comma?"
    assert one_sentence("use `a.b` or e.g. this") == "use `a.b` or e.g. this"


# -- where the explanation shows -------------------------------------------------------
FLAGGED = (FIXTURES_DIR / "KM101" / "flagged_gan_step.py")


def test_full_format_prints_message_then_explanation(capsys):
    assert main(["--keras-version", "3", "--no-cache", "--output-format", "full", str(FLAGGED)]) == 1
    out = capsys.readouterr().out
    diag = lint_source(FLAGGED.read_bytes(), str(FLAGGED), keras_version="3")[0]  # the generator's call
    block = out[out.index(f":{diag.line}:{diag.column}: KM101 "):]
    head, rest = block.split("\n", 1)
    assert head.endswith(diag.message)
    explained = " ".join(rest.strip("\n").split("\n\n")[0].split())
    assert explained == " ".join(diag.explanation.split())
    assert "BatchNormalization uses, and never updates, its moving statistics" in explained


def test_json_carries_message_and_explanation(capsys):
    main(["--keras-version", "3", "--no-cache", "--output-format", "json", str(FLAGGED)])
    findings = json.loads(capsys.readouterr().out)
    assert findings and all(len(f["message"]) <= MAX_LENGTH and f["explanation"] for f in findings)


def test_explain_prints_each_page(capsys):
    assert main(["--explain", "KM101", "KM503"]) == 0
    out = capsys.readouterr().out
    for code in ("KM101", "KM503"):
        assert (ROOT / "rules" / f"{code}.md").read_text().strip() in out


def test_flake8_prints_the_short_message(tmp_path):
    import subprocess

    target = tmp_path / "train.py"
    target.write_bytes(FLAGGED.read_bytes())
    (tmp_path / ".kerasmode-lint.toml").write_text('keras-version = "3"\n')
    run = subprocess.run([sys.executable, "-m", "flake8", "--select", "KM", "train.py"], cwd=tmp_path,
                         capture_output=True, text=True, check=False)
    expected = lint_source(FLAGGED.read_bytes(), str(target), keras_version="3")
    lines = run.stdout.splitlines()
    assert len(lines) == len(expected) and expected, run.stdout + run.stderr
    for line, diag in zip(lines, sorted(expected, key=lambda d: (d.line, d.column))):
        assert line.endswith(f" {diag.code} {diag.message}")
