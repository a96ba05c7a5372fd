"""The rule catalogue (rules/*.md) and the code never drift apart.

Each page names its rule's code, name, versions and summary as the code
declares them; its Example is flagged by the rule and its Fix is not, under
every Keras version the rule applies to; ``--explain`` prints the same page.
A rule that offers a fix (``fix_safety``) explains it under "## Fix safety",
offers it on its Example with that applicability, and applying it gives code
that parses and is no longer flagged. Rules without a fix need no such
section (they may have one saying why there is none).
"""
import re
from pathlib import Path

import pytest

from kerasmode_lint import lint_source
from kerasmode_lint.frontends.cli import main
from kerasmode_lint.engine.diagnostics import ENGINE_CODES, UNUSED_NOQA
from kerasmode_lint.engine.lint import parse
from kerasmode_lint.engine.fixes import apply_edits
from kerasmode_lint.rules import ALL_RULES, RULES_BY_CODE
from kerasmode_lint.engine.versions import ALL, parse_keras_version

PAGES = Path(__file__).resolve().parent.parent / "rules"
VERSION_SETTINGS = ("2", "3", "3.16")
SECTIONS = ("## What it does", "## Why is this bad?", "## Example", "## Fix", "## Versions", "## References")


def section(text, heading):
    """Text under a '## heading' up to the next '## '."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"no '## {heading}' section"
    return match.group(1)


def python_blocks(text):
    return re.findall(r"```python\n(.*?)```", text, re.S)


def applicable_settings(rule):
    return [s for s in VERSION_SETTINGS if parse_keras_version(s) in rule.versions]


class EngineCode:
    """An engine code (KM001, KM002) seen as a rule, for the page checks."""

    def __init__(self, code):
        self.code = code
        self.name, self.summary = ENGINE_CODES[code]
        self.versions = ALL
        self.fix_safety = "safe" if code == UNUSED_NOQA else None


ALL_CODES = [EngineCode(code) for code in ENGINE_CODES] + list(ALL_RULES)
# How the "## Fix safety" section must begin.
FIX_SAFETY_OPENING = {"safe": "Safe", "unsafe": "Unsafe", "sometimes": "Sometimes"}


def test_every_page_has_a_rule_and_every_rule_a_page():
    pages = {p.stem for p in PAGES.glob("KM*.md")}
    assert pages == set(RULES_BY_CODE) | set(ENGINE_CODES)


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_page_header_matches_the_code(rule):
    text = (PAGES / f"{rule.code}.md").read_text(encoding="utf-8")
    assert text.splitlines()[0] == f"# {rule.code} {rule.name}"
    assert f"**Applies to:** {rule.versions}\n" in text
    assert f"**Summary:** {rule.summary}\n" in text
    for heading in SECTIONS:
        assert heading in text, heading


@pytest.mark.parametrize("rule", ALL_CODES, ids=lambda r: r.code)
def test_example_is_flagged_and_fix_is_not(rule):
    text = (PAGES / f"{rule.code}.md").read_text(encoding="utf-8")
    examples = python_blocks(section(text, "Example"))
    fixes = python_blocks(section(text, "Fix"))
    assert examples and fixes
    settings = applicable_settings(rule)
    assert settings, "the rule applies to none of 2, 3, 3.16"
    for setting in settings:
        for block in examples:
            found = [d.code for d in lint_source(block, "example.py", keras_version=setting)]
            assert rule.code in found, (setting, block)
        for block in fixes:
            found = [d.code for d in lint_source(block, "fix.py", keras_version=setting)]
            assert rule.code not in found, (setting, block)


# Example blocks (by index) that get no fix, under these settings, and why.
# The test checks they really get none, so the table cannot go stale.
EXAMPLES_WITHOUT_FIX = {
    # Keras 3.0-3.15 override a node's training=False in fit (KM202).
    "KM201": {(0, "3")},
    # The LSTM's second positional is initial_state: a keyword changes what Keras 2 binds.
    "KM303": {(0, "2"), (0, "3"), (0, "3.16")},
    # learning_phase_scope(1): the mode must go to calls an edit cannot find.
    "KM401": {(0, "2"), (0, "3"), (0, "3.16")},
}


def _check_fixes(rule, block, setting):
    """The block's fixes under ``setting``: declared applicability, code that
    parses and is no longer flagged. Returns how many there were."""
    found = [d for d in lint_source(block, "example.py", keras_version=setting) if d.code == rule.code]
    fixes = [d.fix for d in found if d.fix is not None]
    if rule.fix_safety is None:
        assert not fixes, "the rule offers fixes: declare fix_safety and add '## Fix safety'"
        return 0
    if rule.fix_safety != "sometimes":
        assert {f.applicability for f in fixes} <= {rule.fix_safety}
    if fixes:
        fixed = apply_edits(block, [e for f in fixes for e in f.edits])
        parse(fixed)
        again = [d.code for d in lint_source(fixed, "example.py", keras_version=setting)]
        assert rule.code not in again, fixed
    return len(fixes)


@pytest.mark.parametrize("rule", ALL_CODES, ids=lambda r: r.code)
def test_fix_safety_section_and_the_examples_fix(rule):
    text = (PAGES / f"{rule.code}.md").read_text(encoding="utf-8")
    assert rule.fix_safety in (None, "safe", "unsafe", "sometimes")
    examples = python_blocks(section(text, "Example"))
    without = EXAMPLES_WITHOUT_FIX.get(rule.code, set())
    for setting in applicable_settings(rule):
        for number, block in enumerate(examples):
            offered = _check_fixes(rule, block, setting)
            if rule.fix_safety is None:
                continue
            if (number, setting) in without:
                assert not offered, f"Example {number} now gets a fix under {setting}: update EXAMPLES_WITHOUT_FIX"
            else:
                assert offered, f"fix_safety is declared but Example {number} gets no fix under {setting}"
    if rule.fix_safety is not None:
        safety = section(text, "Fix safety")
        assert safety.strip().startswith(FIX_SAFETY_OPENING[rule.fix_safety]), safety[:80]
        # A block in "Fix safety" shows where the fix applies: it is flagged
        # and fixed under at least one setting.
        for block in python_blocks(safety):
            assert sum(_check_fixes(rule, block, s) for s in applicable_settings(rule)), block


def test_engine_pages_name_their_code():
    for code, (name, summary) in ENGINE_CODES.items():
        text = (PAGES / f"{code}.md").read_text(encoding="utf-8")
        assert text.splitlines()[0] == f"# {code} {name}"
        assert f"**Summary:** {summary}\n" in text


@pytest.mark.parametrize("rule", ALL_CODES, ids=lambda r: r.code)
def test_explain_prints_the_page(rule, capsys):
    assert main(["--explain", rule.code.lower()]) == 0
    assert capsys.readouterr().out == (PAGES / f"{rule.code}.md").read_text(encoding="utf-8")


def test_list_rules_has_one_line_per_rule(capsys):
    assert main(["--list-rules"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for rule in ALL_RULES:
        [line] = [l for l in lines if l.startswith(rule.code + " ")]
        assert rule.name in line and str(rule.versions) in line and rule.summary in line


def test_readme_rule_table_lists_every_rule():
    readme = (PAGES.parent / "README.md").read_text(encoding="utf-8")
    for rule in ALL_RULES:
        assert re.search(rf"^\| {rule.code} \| {re.escape(rule.name)} \| {re.escape(str(rule.versions))} \|", readme, re.M), rule.code


def _fit_before_compile(block):
    """Names whose first ``.fit(`` in a code block comes before any ``.compile(``."""
    import ast

    calls = sorted(
        (node.lineno, node.func.attr, node.func.value.id)
        for node in ast.walk(ast.parse(block))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("fit", "compile") and isinstance(node.func.value, ast.Name)
    )
    compiled, wrong = set(), []
    for _, method, name in calls:
        if method == "compile":
            compiled.add(name)
        elif name not in compiled:
            wrong.append(name)
    return wrong


@pytest.mark.parametrize("rule", ALL_CODES, ids=lambda r: r.code)
def test_page_examples_compile_a_model_before_fitting_it(rule):
    text = (PAGES / f"{rule.code}.md").read_text(encoding="utf-8")
    for heading in ("Example", "Fix"):
        for block in python_blocks(section(text, heading)):
            try:
                wrong = _fit_before_compile(block)
            except SyntaxError:
                continue  # KM001's example is unparsable on purpose
            assert not wrong, f"{rule.code} {heading}: {wrong} fitted before compile:\n{block}"


def test_the_fit_before_compile_check_can_fail():
    assert _fit_before_compile("model = make()\nmodel.fit(x)\nmodel.compile()\n") == ["model"]
    assert _fit_before_compile("model.compile()\nmodel.fit(x)\n") == []


def test_every_page_says_what_the_rule_does_when_it_cannot_see_inside_a_model():
    heading = "## When the model's contents cannot be seen"
    pages = sorted(PAGES.glob("KM*.md"))
    assert pages
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert heading in text, page.name
        body = text.split(heading, 1)[1].split("\n## ", 1)[0].strip()
        assert len(body) > 40, page.name
