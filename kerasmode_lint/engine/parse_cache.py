"""Re-parsing only the top-level statements that changed (the editor server).

A keystroke changes one statement of a file, yet a lint parses all of it:
libcst's parse is most of a lint's time (two thirds for the 300-line script
of benchmarks/server_latency.py) and has no incremental mode.
``StatementCache`` cuts the text into runs of top-level statements, parses
each run as a module of its own, keeps the result keyed by the run's text
and assembles a module that is equal (``deep_equals``) to what
``libcst.parse_module`` gives for the whole text. Two equal runs of one text
are parsed apart (a node is never at two places of a module), and only the
linted file goes through the cache, never a module it imports. Where the
pieces could differ from a whole parse, there is no cut:

- a cut falls only at the first line (first decorator) of a top-level
  statement that starts in column 0 (CPython's ``ast`` says where statements
  are, so a string or a bracket spanning lines is never cut), and only when
  every line between it and the previous statement is empty or a comment in
  column 0: libcst gives those lines to the next statement (its
  ``leading_lines``), as a run parsed alone gives them to its module header,
  while an indented comment or a line of spaces may belong to the block above;
- a text with more than one kind of line ending, old Mac ``\r`` endings
  (libcst's last line differs), or a form feed, is parsed whole (libcst
  records a line ending or whitespace that differs from the module's
  default on the node);
- a run whose blocks use another indentation than the module's default
  (libcst's ``default_indent``: the first indented block's) is not used: a
  block records its indentation only when it differs from that default;
- anything that does not parse in pieces (a syntax error, a run libcst
  refuses) is parsed whole, so errors are worded and placed exactly as by a
  whole parse.

The command line parses each file once and never uses this; the server
installs one cache for its lifetime (``lint.parse`` consults it). The tests
compare assembled and whole parses on the fixtures and rules and on texts
made to hit each rule above; scripts/parse_cache_check.py on a real tree.
"""
from __future__ import annotations

import ast
import warnings
from collections import OrderedDict
from typing import Callable, Dict, List, Optional, Tuple

from .lines import LINE_BREAK

MAX_RUNS = 4096  # parsed runs kept (an open 300-line file has about 30)
MIN_LINES = 40   # a smaller text is parsed whole: cutting it saves nothing


class _Run:
    """One run of statements parsed alone, and what assembly needs of it."""

    __slots__ = ("module", "indented", "body")

    def __init__(self, module) -> None:
        import libcst as cst

        self.module = module
        self.indented = any(_has_block(s, cst) for s in module.body)
        first = module.body[0]
        # Parsed alone, the lines above the first statement are the module's
        # header; in the whole file they are that statement's leading lines.
        self.body = [first.with_changes(leading_lines=[*module.header, *first.leading_lines]),
                     *module.body[1:]] if module.header else list(module.body)


def _has_block(node, cst) -> bool:
    """Does the statement hold an indented block (its parse met an INDENT)?"""
    if isinstance(node, cst.IndentedBlock):
        return True
    if isinstance(node, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
        return False
    return any(_has_block(child, cst) for child in node.children if isinstance(child, _holders(cst)))


def _holders(cst) -> tuple:
    """The node types a block can sit in (some are missing from older libcst)."""
    names = ("BaseSuite", "BaseCompoundStatement", "If", "Else", "ExceptHandler", "ExceptStarHandler", "Finally",
             "MatchCase")
    return tuple(getattr(cst, n) for n in names if hasattr(cst, n))


class StatementCache:
    def __init__(self, limit: int = MAX_RUNS, min_lines: int = MIN_LINES) -> None:
        self.limit, self.min_lines = limit, min_lines
        # (first run of its file?, its text, how many equal runs precede it)
        self.runs: "OrderedDict[Tuple[bool, str, int], _Run]" = OrderedDict()
        self.parsed = 0  # runs parsed (not found in the cache), for tests

    def parse(self, text: str, parse_whole: Callable[[str], object]):
        """The module of ``text``, as ``parse_whole(text)`` gives it."""
        pieces = cuts(text, self.min_lines)
        if pieces is None:
            return parse_whole(text)
        seen: Dict[str, int] = {}
        keys = []
        for index, piece in enumerate(pieces):
            # Two equal runs in one file are parsed apart: a node is never at
            # two places of a module (positions and rules key on nodes).
            keys.append((index == 0, piece, seen.get(piece, 0)))
            seen[piece] = seen.get(piece, 0) + 1
        try:
            runs = [self._run(key, parse_whole) for key in keys]
        except Exception:  # a piece does not parse: the whole parse says how
            return parse_whole(text)
        module = _assemble(runs)
        return module if module is not None else parse_whole(text)

    def _run(self, key: Tuple[bool, str, int], parse_whole) -> _Run:
        run = self.runs.get(key)
        if run is not None:
            self.runs.move_to_end(key)
            return run
        run = self.runs[key] = _Run(parse_whole(key[1]))
        self.parsed += 1
        while len(self.runs) > self.limit:
            self.runs.popitem(last=False)
        return run


def _assemble(runs: List[_Run]):
    first, last = runs[0].module, runs[-1].module
    indent = next((r.module.default_indent for r in runs if r.indented), first.default_indent)
    if any(r.indented and r.module.default_indent != indent for r in runs):
        return None  # a block whose indentation the module's default would change
    if any(r.module.footer for r in runs[:-1]):
        return None  # cannot happen (a run ends at its statement's end); parse whole if it does
    body = list(first.body)
    for run in runs[1:]:
        body += run.body
    return first.with_changes(body=body, footer=last.footer, default_indent=indent,
                              has_trailing_newline=last.has_trailing_newline)


def cuts(text: str, min_lines: int = MIN_LINES) -> Optional[List[str]]:
    """``text`` as runs of whole top-level statements, or None when it is
    parsed whole (see the module's docstring for where a cut may fall)."""
    breaks = {m.group() for m in LINE_BREAK.finditer(text)}
    if breaks not in ({"\n"}, {"\r\n"}) or "\x0c" in text or text.startswith("\ufeff"):
        return None
    starts = [0] + [m.end() for m in LINE_BREAK.finditer(text)]
    if len(starts) < min_lines:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarnings are the engine's business, not the cutter's
            statements = ast.parse(text).body
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return None  # the whole parse reports it
    lines = len(starts)
    cut_lines = []  # 0-based first lines of the runs after the first
    for previous, statement in zip(statements, statements[1:]):
        first = min([statement.lineno] + [d.lineno for d in getattr(statement, "decorator_list", [])])
        if statement.col_offset != 0 or previous.end_lineno is None or first <= previous.end_lineno:
            continue  # `a; b`, or a statement not in column 0
        if first - 1 >= lines:
            return None
        gap = range(previous.end_lineno, first - 1)  # 0-based lines between the two
        if all(_free_line(text, starts, index) for index in gap):
            cut_lines.append(previous.end_lineno)  # the gap goes with the next statement
    if not cut_lines:
        return None
    offsets = [0] + [starts[line] for line in cut_lines] + [len(text)]
    return [text[a:b] for a, b in zip(offsets, offsets[1:])]


def _free_line(text: str, starts: List[int], index: int) -> bool:
    """Is line ``index`` empty or a comment in column 0?"""
    begin = starts[index]
    end = starts[index + 1] if index + 1 < len(starts) else len(text)
    line = text[begin:end].rstrip("\r\n")
    return line == "" or line.startswith("#")
