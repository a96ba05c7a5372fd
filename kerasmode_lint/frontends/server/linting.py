"""One lint of an open document, exactly as the command line lints a file.

The settings come from ``settings.Resolver.options_for`` (the nearest config,
the project's Keras decision, the backend), the bytes go through
``cli.lint_task`` (the function the CLI runs for every file), fixes through
``autofix`` (``--fix``'s passes and checks). A notebook open in the editor is
written back as the nbformat 4 JSON the linter reads from disk, so its
findings are the CLI's, in (cell, line within the cell) coordinates. Only the
conversion to the editor's positions is the server's own.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from lsprotocol import types

from .. import reporting
from ...engine.autofix import edited_if_parses, fix_file, noqa_edits, source_file
from ...engine.diagnostics import INVALID_FILE, INVALID_FILE_NAME, UNUSED_NOQA, Diagnostic
from ...engine.lint import decode, source_encoding
from ...engine.fixes import Edit, Fix
from ...engine.lines import dominant_newline
from ...engine.options import FileResult, Job, LintOptions
from .text import Lines

SOURCE = "kerasmode-lint"
FIX_ALL_KIND = "source.fixAll.kerasmode-lint"


@dataclass
class Cell:
    uri: str
    code: bool   # a code cell in Python (others are not linted, as in the CLI)
    text: str


@dataclass
class Target:
    """What is linted: a Python buffer (``cells`` empty) or a notebook."""

    uri: str
    path: str
    text: str = ""
    cells: List[Cell] = field(default_factory=list)
    notebook: bool = False

    def data(self) -> bytes:
        if self.notebook:
            return notebook_json(self.cells).encode("utf-8", "surrogatepass")
        return buffer_bytes(self.text)

    def cell_uri(self, number: int) -> str:
        """The document of a 1-based cell number (0: the notebook as a whole,
        shown on its first cell)."""
        if not self.cells:
            return self.uri
        return self.cells[min(max(number, 1), len(self.cells)) - 1].uri

    def lines_of(self, number: int, encoding: str) -> Lines:
        if not self.notebook:
            return Lines(self.text, encoding)
        if not self.cells:
            return Lines("", encoding)
        return Lines(self.cells[min(max(number, 1), len(self.cells)) - 1].text, encoding)

    def uris(self) -> List[str]:
        return [c.uri for c in self.cells] if self.notebook else [self.uri]


def buffer_bytes(text: str) -> bytes:
    """The bytes the file would have if the buffer were saved: in the
    encoding its coding cookie names (the engine decodes by the cookie)."""
    data = text.encode("utf-8", "surrogatepass")
    try:
        encoding = source_encoding(data)
    except Exception:  # an unknown coding: the engine reports it (KM001)
        return data
    if encoding in ("utf-8", "utf-8-sig"):
        return data
    try:
        return text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return data  # the engine then reports what CPython would


def notebook_json(cells: Sequence[Cell]) -> str:
    """The cells as nbformat 4 JSON, which is all the linter reads of a notebook."""
    return json.dumps({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [{"cell_type": "code" if c.code else "markdown", "metadata": {}, "source": c.text,
                   **({"outputs": [], "execution_count": None} if c.code else {})} for c in cells],
    }, ensure_ascii=False)


@dataclass
class Run:
    """The result of one lint of a target, kept for code actions."""

    target: Target
    generation: int
    options: Optional[LintOptions]
    result: FileResult
    doc_base: Optional[str]
    version: Optional[int] = None  # the text document's version linted (None: a notebook)


def lint(target: Target, options: LintOptions) -> FileResult:
    from ..cli import lint_task  # the CLI's own entry for one file's bytes

    return lint_task(target.path, target.data(), options, Job())


def settings_failure(target: Target, message: str) -> FileResult:
    return FileResult(target.path, [Diagnostic(
        target.path, 1, 1, INVALID_FILE, f"kerasmode-lint settings: {message}", name=INVALID_FILE_NAME)])


# -- to the editor ----------------------------------------------------------
def lsp_range(lines: Lines, line: int, column: int, end_line: int, end_column: int) -> types.Range:
    start = lines.to_client(line, column)
    end = lines.to_client(end_line or line, end_column or column)
    if end < start:
        end = start
    return types.Range(types.Position(*start), types.Position(*end))


def text_edits(target: Target, edits: Sequence[Edit], encoding: str) -> Dict[str, List[types.TextEdit]]:
    """The linter's edits (character columns; in a notebook, per cell) as
    LSP text edits per document."""
    out: Dict[str, List[types.TextEdit]] = {}
    for edit in edits:
        lines = target.lines_of(edit.cell, encoding)
        # As apply_edits does: inserted newlines become the file's own (a
        # notebook's cells use "\n").
        content = edit.content if target.notebook else edit.content.replace("\n", dominant_newline(target.text))
        out.setdefault(target.cell_uri(edit.cell), []).append(types.TextEdit(
            lsp_range(lines, edit.line, edit.column, edit.end_line, edit.end_column), content))
    return out


def fix_data(target: Target, fix: Optional[Fix], encoding: str) -> Optional[dict]:
    if fix is None:
        return None
    return {
        "applicability": fix.applicability,
        "message": fix.message,
        "edits": [{"uri": uri, "range": _range_json(e.range), "newText": e.new_text}
                  for uri, edits in text_edits(target, fix.edits, encoding).items() for e in edits],
    }


def _range_json(r: types.Range) -> dict:
    return {"start": {"line": r.start.line, "character": r.start.character},
            "end": {"line": r.end.line, "character": r.end.character}}


def to_lsp(run: Run, encoding: str) -> Dict[str, List[types.Diagnostic]]:
    """The run's findings per document (every document of the target present,
    so that fixed findings disappear)."""
    target = run.target
    out: Dict[str, List[types.Diagnostic]] = {uri: [] for uri in target.uris()}
    for index, diag in enumerate(run.result.diagnostics):
        lines = target.lines_of(diag.cell, encoding)
        url = reporting.rule_url(diag.code, run.doc_base)
        out.setdefault(target.cell_uri(diag.cell), []).append(types.Diagnostic(
            range=lsp_range(lines, diag.line, diag.column, diag.end_line, diag.end_column),
            message=diag.message,
            severity=types.DiagnosticSeverity.Error if diag.severity == "error" else types.DiagnosticSeverity.Warning,
            code=diag.code,
            code_description=types.CodeDescription(href=url) if url else None,
            source=SOURCE,
            tags=[types.DiagnosticTag.Unnecessary] if diag.code == UNUSED_NOQA else None,
            data={"generation": run.generation, "index": index, "name": diag.name,
                  "explanation": diag.explanation or None, "fix": fix_data(target, diag.fix, encoding)},
        ))
    return out


# -- code actions ------------------------------------------------------------
def quick_fix(run: Run, index: int, encoding: str) -> Optional[types.CodeAction]:
    diag = run.result.diagnostics[index]
    if diag.fix is None:
        return None
    source = source_file(run.target.path, run.target.data())
    if edited_if_parses(source, diag.fix.edits) is None:
        return None  # never offer code that does not parse (as --fix refuses it)
    safe = diag.fix.is_safe
    return types.CodeAction(
        title=f"{diag.fix.message} ({diag.code})" + ("" if safe else " [unsafe fix: changes run-time behaviour]"),
        kind=types.CodeActionKind.QuickFix,
        diagnostics=None,
        is_preferred=True if safe else None,
        edit=types.WorkspaceEdit(changes=text_edits(run.target, diag.fix.edits, encoding)),
    )


def noqa_action(run: Run, index: int, encoding: str) -> Optional[types.CodeAction]:
    diag = run.result.diagnostics[index]
    if diag.code in (INVALID_FILE, UNUSED_NOQA):
        return None
    source = source_file(run.target.path, run.target.data())
    edits, _ = noqa_edits(source, [diag])
    if not edits:
        return None  # the line ends inside a string: no comment fits (as --add-noqa)
    return types.CodeAction(
        title=f"Add `# noqa: {diag.code}` on this line",
        kind=types.CodeActionKind.QuickFix,
        edit=types.WorkspaceEdit(changes=text_edits(run.target, edits, encoding)),
    )


def fix_all(run: Run, unsafe: bool, encoding: str) -> Optional[types.CodeAction]:
    """Every fix ``--fix`` (``--unsafe-fixes`` with ``unsafe``) would apply,
    as one replacement per changed document."""
    if run.options is None:
        return None
    target = run.target
    source = source_file(target.path, target.data())
    fixed, _, count = fix_file(source, run.options, unsafe)
    if not count or fixed.data == source.data:
        return None
    changes: Dict[str, List[types.TextEdit]] = {}
    if target.notebook:
        new_sources = {c.number: c.source for c in fixed.notebook.cells}
        for number, cell in enumerate(target.cells, start=1):
            new = new_sources.get(number)
            if cell.code and new is not None and new != cell.text:
                changes[cell.uri] = [_whole(cell.text, new, encoding)]
    else:
        changes[target.uri] = [_whole(target.text, decode(fixed.data), encoding)]
    return types.CodeAction(
        title=f"Fix all kerasmode-lint problems ({reporting.plural(count, 'fix')}"
              f"{', unsafe ones included' if unsafe else ''})",
        kind=FIX_ALL_KIND,
        edit=types.WorkspaceEdit(changes=changes),
    )


def _whole(old: str, new: str, encoding: str) -> types.TextEdit:
    """One edit from the first to the last character that differ."""
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    lines = Lines(old, encoding)
    return types.TextEdit(types.Range(types.Position(*_position(lines, start)),
                                      types.Position(*_position(lines, end_old))), new[start:end_new])


def _position(lines: Lines, offset: int) -> Tuple[int, int]:
    import bisect

    index = bisect.bisect_right(lines.starts, offset) - 1
    return lines.to_client(index + 1, offset - lines.starts[index] + 1)


def kind_requested(kind: str, only: Optional[Sequence[str]]) -> bool:
    """LSP kinds are hierarchical: asking for ``source.fixAll`` gets ours."""
    if not only:
        return True
    return any(kind == wanted or kind.startswith(wanted + ".") for wanted in only)


def document_path(uri: str) -> Optional[str]:
    """The file system path of a ``file:`` URI (None for others: untitled buffers)."""
    from urllib.parse import unquote, urlparse

    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    path = unquote(parsed.path)
    if os.name == "nt" and path.startswith("/") and len(path) > 2 and path[2] == ":":
        path = path[1:]
    return os.path.normpath(path)
