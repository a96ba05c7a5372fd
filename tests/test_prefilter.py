"""The byte prefilter: it only ever skips work, never a finding.

Every rule's trigger words must occur in everything the rule flags. Checked on
every Python snippet the repository holds (fixtures, examples, the rule pages'
code blocks and the string literals of the tests): linting each with the
prefilter on and off must give the same findings.
"""
import ast
import inspect
import re
import sys
import textwrap
from pathlib import Path

import pytest

from kerasmode_lint.engine.lint import LintOptions, lint_bytes
from kerasmode_lint.engine.prefilter import rules_matching
from kerasmode_lint.engine.rule import Rule
from kerasmode_lint.engine.screens import Screen
from kerasmode_lint.rules import ALL_RULES

REPO = Path(__file__).resolve().parent.parent
VERSIONS = ("2", "3", "3.16")


def snippets():
    """(where, source bytes) of every Python program or snippet in the repository."""
    for folder in ("fixtures", "examples"):
        for path in sorted((REPO / folder).rglob("*.py")):
            yield str(path.relative_to(REPO)), path.read_bytes()
    for page in sorted((REPO / "rules").glob("*.md")):
        for number, block in enumerate(re.findall(r"```python\n(.*?)```", page.read_text("utf-8"), re.S)):
            yield f"{page.name} block {number}", block.encode()
    for test in sorted((REPO / "tests").glob("test_*.py")):
        for node in ast.walk(ast.parse(test.read_bytes())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "\n" in node.value:
                source = textwrap.dedent(node.value)
                try:
                    ast.parse(source)
                except SyntaxError:
                    continue
                yield f"{test.name}:{node.lineno}", source.encode()


SNIPPETS = list(snippets())


def test_there_are_snippets_for_every_rule():
    """Guards the test below against checking nothing."""
    flagged = set()
    for _, source in SNIPPETS:
        for version in VERSIONS:
            flagged |= {d.code for d in lint_bytes(source, "x.py", LintOptions(keras_version=version),
                                                   prefilter=False).diagnostics}
    assert {rule.code for rule in ALL_RULES} <= flagged


@pytest.mark.parametrize("where,source", SNIPPETS, ids=[w for w, _ in SNIPPETS])
def test_prefilter_never_hides_a_finding(where, source):
    for version in VERSIONS:
        options = LintOptions(keras_version=version)
        without = lint_bytes(source, "x.py", options, prefilter=False).diagnostics
        assert lint_bytes(source, "x.py", options).diagnostics == without, (
            f"{where}: a rule reports here although none of its trigger words occur (Keras {version})"
        )


def test_trigger_words_are_declared_by_every_rule():
    for rule in ALL_RULES:
        assert rule.triggers, rule.code
        for trigger in rule.triggers:
            if isinstance(trigger, Screen):
                assert all(isinstance(w, bytes) and w for w in trigger.words), rule.code
                continue
            words = trigger if isinstance(trigger, tuple) else (trigger,)
            assert words and all(isinstance(w, bytes) and w for w in words), rule.code


def fake_rule(code, *triggers):
    return type(code, (Rule,), {"code": code, "triggers": triggers})


def test_rules_matching_picks_only_rules_whose_words_occur():
    tape, step, both = fake_rule("A", b"GradientTape"), fake_rule("B", b"train_step"), fake_rule("C", b"x", b"train_step")
    rules = [tape, step, both]
    assert rules_matching(b"def train_step(self): ...", rules) == [step, both]
    assert rules_matching(b"tf.GradientTape()", rules) == [tape]
    assert rules_matching(b"x = GradientTape or train_step", rules) == rules
    assert rules_matching(b"nothing", rules) == []


def test_a_tuple_of_words_needs_them_all():
    rule = fake_rule("A", (b"train_step", b"training"), b"learning_phase")
    assert rules_matching(b"def train_step(self): self(x, training=True)", [rule]) == [rule]
    assert rules_matching(b"def train_step(self): self(x)", [rule]) == []
    assert rules_matching(b"training only", [rule]) == []
    assert rules_matching(b"K.learning_phase()", [rule]) == [rule]


def test_a_screen_needs_its_words_and_its_test():
    rule = fake_rule("A", Screen("s", (b"keras",), lambda data, path: b"yes" in data))
    assert rules_matching(b"import keras  # yes", [rule]) == [rule]
    assert rules_matching(b"import keras", [rule]) == []
    assert rules_matching(b"yes", [rule]) == []  # the words are checked first


def test_changed_words_are_seen(monkeypatch):
    rule = fake_rule("A", b"one")
    assert rules_matching(b"two", [rule]) == []
    monkeypatch.setattr(rule, "triggers", (b"two",))
    assert rules_matching(b"two", [rule]) == [rule]


def test_only_matching_rules_run(monkeypatch):
    """A file is walked only with the rules whose words it contains."""
    ran = []
    tape_rule = ALL_RULES[0]
    other = type("Other", (Rule,), {
        "code": "KM999", "name": "other", "summary": "", "versions": tape_rule.versions,
        "triggers": (b"never-in-this-file",),
        "visit_Call": lambda self, node: ran.append(node),
    })
    from helpers import add_rules

    add_rules(monkeypatch, other)
    source = b"import tensorflow as tf\nwith tf.GradientTape() as t:\n    y = f(x)\n"
    lint_bytes(source, "x.py", LintOptions(enabled=frozenset({tape_rule.code, "KM999"}), keras_version="3"))
    assert ran == []
    lint_bytes(source, "x.py", LintOptions(enabled=frozenset({tape_rule.code, "KM999"}), keras_version="3"),
               prefilter=False)
    assert ran


def test_skipped_files_still_get_km001():
    [diag] = lint_bytes(b"x = 1\ndef f(:\n    pass\n", "x.py", LintOptions(keras_version="3")).diagnostics
    assert diag.code == "KM001" and diag.line == 2 and "cannot parse" in diag.message


def test_skipped_and_parsed_files_agree_on_what_is_broken():
    """The symbol-table check rejects some code that parses (a duplicate
    argument); KM001 is about parsing, so neither path reports it."""
    for body in (b"def f(a, a):\n    pass\n", b"nonlocal x\n", b"def g():\n    x = 1\n    global x\n"):
        skipped = lint_bytes(body, "x.py", LintOptions(keras_version="3")).diagnostics
        parsed = lint_bytes(b"# GradientTape\n" + body, "x.py", LintOptions(keras_version="3")).diagnostics
        assert skipped == [] and parsed == [], body


def test_light_index_lists_every_rule_with_its_words():
    """Selection and cached runs read kerasmode_lint/engine/triggers.py, and
    each rule class takes its triggers from there: one table, in rule order."""
    from kerasmode_lint.engine.triggers import TRIGGERS

    assert list(TRIGGERS) == [rule.code for rule in ALL_RULES]
    for rule in ALL_RULES:
        assert rule.triggers is TRIGGERS[rule.code], rule.code
        source = inspect.getsource(sys.modules[rule.__module__])
        assert not re.search(r"^\s+triggers\s*=", source, re.M), f"{rule.code} writes its triggers a second time"


def test_a_rule_without_an_entry_in_the_table_does_not_load():
    with pytest.raises(TypeError, match="KM999 has no triggers: add its entry"):
        type("Probe", (Rule,), {"code": "KM999"})


def test_a_cached_run_does_not_load_libcst(tmp_path):
    import subprocess
    import sys

    (tmp_path / "a.py").write_text(
        "import tensorflow as tf\nwith tf.GradientTape() as t:\n    y = m(x)\nopt.apply_gradients(g)\n")
    code = (
        "import sys; from kerasmode_lint.frontends.cli import main; main(['-q', 'a.py']); "
        "print('libcst' in sys.modules)"
    )
    runs = [subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
            for _ in range(2)]
    assert [r.stdout.split() for r in runs] == [["True"], ["False"]], runs


def test_a_file_no_rule_can_match_does_not_load_libcst(tmp_path):
    """Most pre-commit runs lint files without Keras training code: no libcst
    import (a fifth of a second), no rule module, only CPython's syntax check."""
    import subprocess
    import sys

    (tmp_path / "a.py").write_text("import tensorflow as tf\nwith tf.GradientTape() as t:\n    y = m(x)\n")
    (tmp_path / "b.py").write_text("def f(:\n")
    code = (
        "import sys; from kerasmode_lint.frontends.cli import main\n"
        "try: main(['-q', '--no-cache', '--output-format', 'json', 'a.py', 'b.py'])\n"
        "except SystemExit: pass\n"
        "print(sorted(m for m in sys.modules if m == 'libcst' or m.startswith('kerasmode_lint.rules.')))"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert run.stdout.rstrip().endswith("[]"), run
    assert '"code": "KM001"' in run.stdout, run  # the broken file is still reported


@pytest.mark.parametrize("broken", [b"x = 1\x00\n", b"def f(:\n", b"print 'py2'\n", b"x = '\xff'\n",
                                    b"x = " + b"(" * 300 + b"1" + b")" * 300 + b"\n"])
def test_km001_reads_the_same_whether_or_not_the_file_is_parsed(broken):
    options = LintOptions(keras_version="3")
    skipped = lint_bytes(broken, "x.py", options).diagnostics
    parsed = lint_bytes(broken, "x.py", options, prefilter=False).diagnostics
    assert [d.code for d in skipped] == ["KM001"] and skipped == parsed
