"""The editor server's statement cache (parse_cache): a module assembled from
runs of statements parsed alone equals libcst's parse of the whole text, on
every file of the repository and on texts made to hit each rule of where a
cut may fall; the lint through it equals the lint without it; an edit
re-parses one run."""
from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest

from fixture_harness import KERAS_VERSIONS, fixture_files, parse_expectations
from kerasmode_lint import lint_source
from kerasmode_lint.engine import lint as engine
from kerasmode_lint.engine.parse_cache import StatementCache, cuts

REPO = Path(__file__).resolve().parent.parent
# The fixtures, the rules and the examples: code of every shape the rules
# meet, in 10 s (the whole package would take a minute).
SOURCES = sorted(p for folder in ("fixtures", "kerasmode_lint/rules", "examples", "benchmarks")
                 for p in (REPO / folder).rglob("*.py"))


def assembled(text: str, cache=None):
    cache = cache or StatementCache(min_lines=0)
    return cache.parse(text, cst.parse_module)


def same_as_whole(text: str) -> None:
    whole = cst.parse_module(text)
    got = assembled(text)
    assert got.code == whole.code  # the text itself, but for libcst's last line of a CR-only file
    assert got.deep_equals(whole)


def test_every_file_of_the_fixtures_and_rules_assembles_to_its_whole_parse():
    cut = 0
    for path in SOURCES:
        text = engine.decode(path.read_bytes())
        same_as_whole(text)
        cut += cuts(text, 0) is not None
    assert cut > len(SOURCES) // 2  # most files are cut: the comparison is not vacuous


BLOCKS = textwrap.dedent('''\
    """Doc."""
    import os

    # a comment in column 0 above a function


    @decorator  # with a comment
    # between decorator and def
    def f(a,
    b):
        return a  # trailing
    # column-0 comment right after the block
    x = 1; y = 2
    s = """a string
    def not_a_statement():
    """


    class C:
        def m(self):
            pass

        # an indented comment at the end of a block
    z = [
    1,
    ]
    if z:
        pass
    else:
        pass
    # the end
''')


@pytest.mark.parametrize("name, text", [
    ("blocks, comments, decorators, strings", BLOCKS),
    ("no final newline", BLOCKS.rstrip("\n")),
    ("CRLF", BLOCKS.replace("\n", "\r\n")),
    ("CR", BLOCKS.replace("\n", "\r")),
    ("mixed line endings", BLOCKS.replace("\n", "\r\n", 3)),
    ("a line of spaces between statements", BLOCKS.replace("import os\n\n", "import os\n    \n")),
    ("a form feed", BLOCKS.replace("import os\n\n", "import os\n\x0c\n")),
    ("tabs", BLOCKS.replace("    ", "\t")),
    ("another indentation in a later run", "def f():\n  return 1\n\n\ndef g():\n    return 2\n"),
    ("the later run sets the default", "x = 1\n\n\ndef g():\n    return 2\n\n\ndef h():\n  return 3\n"),
    ("one-line bodies", "def f(): pass\n\n\nclass C: x = 1\n\n\nif x: pass\nelse:\n  y = 1\n"),
    ("try and match", "try:\n  pass\nexcept* E:\n  pass\n\n\nmatch x:\n    case 1:\n        pass\n"),
    ("a coding cookie", "# -*- coding: latin-1 -*-\nx = 1\n\n# -*- coding: utf-8 -*-\ny = 2\n"),
    ("only comments", "# a\n# b\n"),
    ("empty", ""),
])
def test_texts_at_each_rule_for_cuts_assemble_to_the_whole_parse(name, text):
    same_as_whole(text)


def test_where_cuts_fall():
    text = "a = 1\n\n# c\nb = 2\n    # i\nc = 3\nd = 4; e = 5\n"
    # After `b` an indented comment (it could belong to a block above): no cut.
    assert cuts(text, 0) == ["a = 1\n", "\n# c\nb = 2\n    # i\nc = 3\n", "d = 4; e = 5\n"]
    assert cuts(text.replace("\n", "\r\n", 1), 0) is None  # two kinds of line ending
    assert cuts("def f(:\n" + text, 0) is None  # CPython cannot parse it: the whole parse reports
    assert cuts(text) is None  # under MIN_LINES lines: whole


def test_a_syntax_error_is_the_whole_parse_s(monkeypatch):
    text = BLOCKS + "\n\ndef broken(:\n    pass\n"
    monkeypatch.setattr(engine, "_statement_cache", None)
    with pytest.raises(engine.InvalidFile) as whole:
        engine.parse(text, reuse=True)
    monkeypatch.setattr(engine, "_statement_cache", StatementCache(min_lines=0))
    with pytest.raises(engine.InvalidFile) as cached:
        engine.parse(text, reuse=True)
    assert (str(cached.value), cached.value.line, cached.value.column) == (
        str(whole.value), whole.value.line, whole.value.column)


def test_an_edit_reparses_only_its_run_and_the_result_follows_the_edit():
    cache = StatementCache(min_lines=0)
    first = assembled(BLOCKS, cache)
    parsed = cache.parsed
    edited = BLOCKS.replace("return a  # trailing", "return b  # trailing")
    module = assembled(edited, cache)
    assert cache.parsed == parsed + 1
    assert module.code == edited and module.deep_equals(cst.parse_module(edited))
    assert not module.deep_equals(first)
    # The statements of the runs that did not change are the same objects.
    assert module.body[-1] is first.body[-1]


def test_equal_runs_in_one_file_are_distinct_nodes():
    # Positions and rules key on nodes: one node at two places would give
    # both findings the first one's position, or lose one.
    text = "import tf\n\n" + "x = layer(x)\n\n" * 3
    module = assembled(text)
    assert module.deep_equals(cst.parse_module(text))
    calls = module.body[1:]
    assert len({id(statement) for statement in calls}) == 3


def _lint(path: Path, version: str, cache):
    engine.use_statement_cache(cache)
    try:
        found = lint_source(path.read_bytes(), filename=str(path), keras_version=version)
    finally:
        engine.use_statement_cache(None)
    return [(d.code, d.line, d.column, d.end_line, d.end_column, d.message,
             None if d.fix is None else [(e.line, e.column, e.end_line, e.end_column, e.content)
                                         for e in d.fix.edits]) for d in found]


def test_the_lint_through_the_cache_equals_the_lint_without_it():
    cache = StatementCache(min_lines=0)
    for path in fixture_files():
        declared = parse_expectations(path)
        # One version per fixture: the first its findings are declared for.
        version = next((v for v in KERAS_VERSIONS if declared[v]), KERAS_VERSIONS[0])
        expected = _lint(path, version, cache=None)
        assert _lint(path, version, cache) == expected, path
        assert _lint(path, version, cache) == expected, path  # warm: every run from the cache
        assert bool(expected) == bool(declared[version]), path  # not vacuous
