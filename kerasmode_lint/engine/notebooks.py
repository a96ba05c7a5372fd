"""Jupyter notebooks (.ipynb, nbformat 4).

The code cells are linted as one program, in order, so a model built in cell 2
and trained in cell 5 is one model. IPython syntax (``%magic``, ``%%cell
magic``, ``!shell``, ``x = !cmd``, ``obj?``) is neutralised line by line
without shifting any line: a line magic or shell escape becomes ``pass`` at
its indentation, a cell magic's first line becomes blank, and a cell magic
whose body is not Python (``%%bash``, ``%%writefile``, …) blanks the whole
cell. Findings are reported as (cell, line within the cell), where the cell
is its 1-based position among *all* cells, as Jupyter and VS Code show it.

The Keras version detection and the file-level noqa read the cells before
neutralisation, so ``%env TF_USE_LEGACY_KERAS=1`` counts.
"""
from __future__ import annotations

import ast
import bisect
import json
import re
import textwrap
from dataclasses import dataclass, replace
from typing import Dict, List, Optional, Sequence, Set, Tuple

from .diagnostics import INVALID_FILE, INVALID_FILE_NAME, Diagnostic, one_sentence
from .lint import FileResult, InvalidFile, LintOptions, lint_text, parse
from .fixes import Edit, Fix, apply_edits
from .lines import split_lines, split_lines_keepends

_SURROGATE = re.compile("[\ud800-\udfff]")
# Cell magics whose body is Python; every other cell magic's body is not.
_PYTHON_BODY_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug"})
_ASSIGNED_ESCAPE = re.compile(r"^[ \t]*[\w.]+(?:[ \t]*,[ \t]*[\w.]+)*[ \t]*=[ \t]*[!%]")


def neutralise(source: str) -> Tuple[str, Set[int]]:
    """``source`` with IPython syntax made into plain Python, line for line,
    and the (1-based) numbers of the lines that were changed."""
    lines = split_lines(source)
    changed: Set[int] = set()
    first = lines[0].strip() if lines else ""
    if first.startswith("%%"):
        magic = first[2:].split(None, 1)[0] if len(first) > 2 else ""
        if magic not in _PYTHON_BODY_CELL_MAGICS:
            return "\n".join("" for _ in lines), set(range(1, len(lines) + 1))
        lines[0] = ""
        changed.add(1)
    scanner = _Scanner()
    escape_continues = False
    for index, line in enumerate(lines):
        if index == 0 and changed:
            continue  # the cell magic's own line
        if escape_continues or (scanner.at_statement_start and _is_ipython_line(line)):
            continuation = escape_continues  # of an escape on the line above
            escape_continues = line.rstrip().endswith("\\")
            indent = line[: len(line) - len(line.lstrip())]
            lines[index] = "" if continuation else indent + "pass"
            changed.add(index + 1)
            continue
        scanner.feed(line)
    return "\n".join(lines), changed


def _is_ipython_line(line: str) -> bool:
    stripped = line.strip()
    if not stripped:
        return False
    if stripped[0] in "%!?":
        return True
    if _ASSIGNED_ESCAPE.match(line):
        return True
    # obj? / obj?? (help); Python never ends a statement with "?".
    return stripped.endswith("?") and "#" not in stripped


class _Scanner:
    """Just enough of a tokenizer to know whether the next line starts a
    statement: open brackets, open triple-quoted strings, backslashes."""

    def __init__(self) -> None:
        self.depth = 0
        self.quote: Optional[str] = None  # the open triple quote
        self.continued = False

    @property
    def at_statement_start(self) -> bool:
        return self.depth == 0 and self.quote is None and not self.continued

    def feed(self, line: str) -> None:
        i, n = 0, len(line)
        self.continued = False
        while i < n:
            if self.quote is not None:
                end = line.find(self.quote, i)
                while end > 0 and _escaped(line, end):
                    end = line.find(self.quote, end + 1)
                if end < 0:
                    return
                i = end + 3
                self.quote = None
                continue
            c = line[i]
            if c == "#":
                return
            if c in "([{":
                self.depth += 1
            elif c in ")]}":
                self.depth = max(0, self.depth - 1)
            elif c in "'\"":
                if line.startswith(c * 3, i):
                    self.quote = c * 3
                    i += 3
                    continue
                end = i + 1
                while end < n and line[end] != c:
                    end += 2 if line[end] == "\\" else 1
                i = end + 1
                continue
            elif c == "\\" and i == n - 1:
                self.continued = True
            i += 1


def _escaped(line: str, index: int) -> bool:
    backslashes = 0
    while index - backslashes - 1 >= 0 and line[index - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


@dataclass
class _Cell:
    number: int          # 1-based among all cells
    source: str
    stored_as_list: bool
    first_line: int = 0  # where the cell starts in the program (1-based)
    line_count: int = 0
    neutralised: Set[int] = None
    text: str = ""       # what is linted (IPython syntax neutralised)
    shift: int = 0       # columns removed by dedenting a cell indented as a whole


class Notebook:
    """A parsed notebook: its code cells, and the program made of them."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidFile(f"cannot decode notebook as UTF-8: invalid byte 0x{data[exc.start]:02x}") from None
        try:
            self.document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidFile(f"notebook is not valid JSON: {exc.msg}", exc.lineno, exc.colno) from None
        except RecursionError:
            raise InvalidFile("notebook is not valid JSON: nested too deeply") from None
        self.text = text
        self.cells = self._code_cells(self.document)
        self._build_program()

    @staticmethod
    def _code_cells(document) -> List[_Cell]:
        if not isinstance(document, dict):
            raise InvalidFile("not an nbformat 4 notebook: the top level is not an object")
        version = document.get("nbformat")
        if version != 4:
            raise InvalidFile(f"not an nbformat 4 notebook: nbformat is {version!r}")
        cells = document.get("cells")
        if not isinstance(cells, list):
            raise InvalidFile("not an nbformat 4 notebook: no list of cells")
        code = []
        for number, cell in enumerate(cells, start=1):
            if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
                raise InvalidFile(f"not an nbformat 4 notebook: cell {number} has no cell_type")
            if cell["cell_type"] != "code":
                continue
            source = cell.get("source", "")
            if isinstance(source, list) and all(isinstance(s, str) for s in source):
                code.append(_Cell(number, "".join(source), True))
            elif isinstance(source, str):
                code.append(_Cell(number, source, False))
            else:
                raise InvalidFile(f"not an nbformat 4 notebook: cell {number} source is not text")
        return code

    def _build_program(self) -> None:
        self.cell_errors: List[Tuple[int, int, int, str]] = []  # (program line, column, cell, message)
        for cell in self.cells:
            cell.text, cell.neutralised = neutralise(cell.source)
            if _SURROGATE.search(cell.text):
                # A lone surrogate (from a \\udXXX escape in the JSON) cannot
                # be parsed: lint a stand-in of the same length, fix nothing there.
                lines = split_lines(cell.text)
                cell.neutralised |= {i + 1 for i, l in enumerate(lines) if _SURROGATE.search(l)}
                cell.text = _SURROGATE.sub("\ufffd", cell.text)
        self._assemble()

    def repair(self) -> bool:
        """Make each cell that Python cannot parse parseable the way IPython's
        input transformers would (a cell indented as a whole is dedented;
        automagic lines such as ``pip install x`` become ``pass``), or blank
        it and keep a KM001 for it. True when some cell changed."""
        changed = False
        for cell in self.cells:
            if not cell.line_count or _parses(cell.text) is None:
                continue
            changed = True
            error = _parses(cell.text)
            lines = split_lines(cell.text)
            magic = [i for i, l in enumerate(lines) if _AUTOMAGIC.match(l)]
            attempts = []
            if magic:
                fixed = list(lines)
                for i in magic:
                    fixed[i] = _AUTOMAGIC.match(lines[i]).group(1) + "pass"
                attempts.append(("\n".join(fixed), {i + 1 for i in magic}, 0))
            for text, touched, _ in list(attempts) + [("\n".join(lines), set(), 0)]:
                dedented = textwrap.dedent(text)
                if dedented != text:
                    shift = _common_indent(text)
                    attempts.append((dedented, set(range(1, len(lines) + 1)), shift))
            for text, touched, shift in attempts:
                if _parses(text) is None:
                    cell.text, cell.shift = text, shift
                    cell.neutralised = set(cell.neutralised) | touched
                    break
            else:
                self.cell_errors.append((
                    cell.first_line + max(0, min((error.lineno or 1), cell.line_count) - 1),
                    error.offset or 1,
                    cell.number,
                    one_sentence(error.msg),
                ))
                cell.text = "\n".join("" for _ in lines)
                cell.neutralised = set(range(1, len(lines) + 1))
        if changed:
            self._assemble()
        return changed

    def _assemble(self) -> None:
        program, raw, line = [], [], 1
        for cell in self.cells:
            text = cell.text
            lines = split_lines(cell.source)
            count = len(lines) - (1 if lines[-1] == "" else 0)
            cell.first_line, cell.line_count = line, count
            if count:
                # Exactly as many lines as the cell has, whatever the
                # neutralised text ends with (a blanked %%bash cell without a
                # final newline must not pull the next cells up a line).
                text_lines = split_lines(text)[:count]
                text_lines += [""] * (count - len(text_lines))
                program.append("\n".join(text_lines) + "\n")
                raw.append(cell.source if cell.source.endswith("\n") else cell.source + "\n")
                line += count
        self.program = "".join(program)
        self.raw_program = "".join(raw)
        self._starts = [c.first_line for c in self.cells if c.line_count]
        self._located = [c for c in self.cells if c.line_count]

    # -- positions -------------------------------------------------------------
    def locate(self, line: int) -> Tuple[Optional[_Cell], int]:
        """(cell, line within it) of a program line."""
        if not self._located:
            return None, line
        index = max(0, bisect.bisect_right(self._starts, line) - 1)
        cell = self._located[index]
        return cell, min(line - cell.first_line + 1, cell.line_count)

    def to_cells(self, diag: Diagnostic) -> Diagnostic:
        cell, line = self.locate(diag.line)
        if cell is None:
            return diag
        end_cell, end_line = self.locate(diag.end_line) if diag.end_line else (cell, 0)
        end_column = diag.end_column
        if end_cell is not cell:  # cannot happen for a valid cell; stay inside it
            end_line, end_column = line, diag.column
        fix = diag.fix
        if fix is not None:
            fix = self._fix_to_cells(fix)
        column = diag.column
        if cell.shift:
            column += cell.shift
            end_column = end_column + cell.shift if end_column else end_column
        return replace(diag, cell=cell.number, line=line, column=column, end_line=end_line,
                       end_column=end_column, fix=fix)

    def _fix_to_cells(self, fix: Fix) -> Optional[Fix]:
        edits = []
        for edit in fix.edits:
            cell, line = self.locate(edit.line)
            if cell is not None and (edit.end_line, edit.end_column) == (cell.first_line + cell.line_count, 1):
                end_cell, end_line = cell, cell.line_count + 1  # to the cell's end: a whole-line removal
            else:
                end_cell, end_line = self.locate(edit.end_line)
            if cell is None or end_cell is not cell or {line, end_line} & cell.neutralised:
                return None  # spans cells or touches IPython syntax: not applicable
            edits.append(replace(edit, cell=cell.number, line=line, end_line=end_line))
        return replace(fix, edits=tuple(edits))

    # -- editing ---------------------------------------------------------------
    def edited(self, edits: Sequence[Edit]) -> "Notebook":
        """A new notebook with ``edits`` (in cell coordinates) applied. Only
        the edited cells' ``source`` values change in the file's text: every
        other byte (numbers such as 1e400, duplicate keys, indentation by
        tabs, minified JSON, escapes) stays as it was."""
        by_cell: Dict[int, List[Edit]] = {}
        for edit in edits:
            by_cell.setdefault(edit.cell, []).append(edit)
        cells = {c.number: c for c in self.cells}
        spans = _source_spans(self.text)
        if spans is None:
            raise InvalidFile("cannot find the cells' sources in the notebook's JSON text")
        pieces, position = [], 0
        for number in sorted(by_cell):
            cell = cells.get(number)
            if cell is None or number - 1 >= len(spans) or spans[number - 1] is None:
                raise InvalidFile(f"a fix edits cell {number}, which is not a code cell")
            begin, finish = spans[number - 1]
            source = apply_edits(cell.source, by_cell[number])
            pieces += [self.text[position:begin], _render_source(self.text, begin, finish, source, cell.stored_as_list)]
            position = finish
        pieces.append(self.text[position:])
        text = "".join(pieces)
        bom = b"\xef\xbb\xbf" if self.data.startswith(b"\xef\xbb\xbf") else b""
        return Notebook(bom + text.encode("utf-8"))

    def cell_text(self, number: int) -> str:
        """A code cell's neutralised text (what was linted)."""
        for cell in self.cells:
            if cell.number == number:
                return cell.text
        raise KeyError(number)

    def diff(self, other: "Notebook", path: str) -> str:
        """Unified diffs of the code cells that differ in ``other``."""
        out = []
        theirs = {c.number: c.source for c in other.cells}
        for cell in self.cells:
            new = theirs.get(cell.number, cell.source)
            if new != cell.source:
                import difflib  # only --diff needs it

                out.extend(difflib.unified_diff(
                    split_lines_keepends(cell.source), split_lines_keepends(new),
                    f"a/{path}:cell_{cell.number}", f"b/{path}:cell_{cell.number}",
                ))
                if out and not out[-1].endswith("\n"):
                    out.append("\n\\ No newline at end of file\n")
        return "".join(out)


def lint_notebook(data: bytes, path: str, options: LintOptions = LintOptions()) -> FileResult:
    try:
        notebook = Notebook(data)
    except InvalidFile as exc:
        from .lint import _invalid

        return _invalid(path, exc)
    return lint_parsed_notebook(notebook, path, options)


def lint_parsed_notebook(notebook: Notebook, path: str, options: LintOptions) -> FileResult:
    result = lint_text(notebook.program, path, options, data=notebook.raw_program.encode("utf-8", "surrogatepass"))
    if _parse_failure(result) and notebook.repair():
        # One cell IPython runs but Python cannot parse: lint the others.
        result = lint_text(notebook.program, path, options, data=notebook.raw_program.encode("utf-8", "surrogatepass"))
        if notebook.cell_errors:
            # One KM001 for the notebook, at the first cell that fails, naming them all.
            (line, column, cell, message), rest = notebook.cell_errors[0], notebook.cell_errors[1:]
            cells = ", ".join(str(c) for _, _, c, _ in notebook.cell_errors)
            label = f"cells {cells}" if rest else f"cell {cell}"
            result.diagnostics.append(Diagnostic(
                path, line, column, INVALID_FILE,
                f"cannot parse {label} (first: {message}); the other cells were linted",
                name=INVALID_FILE_NAME,
            ))
            result.diagnostics.sort(key=lambda d: (d.line, d.column))
    result.diagnostics = [notebook.to_cells(d) for d in result.diagnostics]
    return result


def _parse_failure(result: FileResult) -> bool:
    return (
        len(result.diagnostics) == 1
        and result.diagnostics[0].code == INVALID_FILE
        and result.diagnostics[0].message.startswith("cannot parse")
    )


# IPython's automagic runs these line magics without a ``%`` (``pip install x``).
_AUTOMAGIC = re.compile(r"^([ \t]*)(?:pip|conda|cd|ls|pwd|env|mkdir|rm|cp|mv|cat|less|man|mamba)(?:[ \t]+(?![=(\[.,:]|[-+*/%&|^<>!]=)\S.*)?$")


def _parses(text: str) -> Optional[SyntaxError]:
    try:
        compile(text, "<cell>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as exc:
        return exc
    except (ValueError, RecursionError, MemoryError) as exc:
        return SyntaxError(str(exc))
    return None


def check_program(notebook: Notebook) -> Optional[InvalidFile]:
    try:
        parse(notebook.program)
    except InvalidFile as exc:
        return exc
    return None


def _source_spans(text: str) -> Optional[List[Optional[Tuple[int, int]]]]:
    """For each element of the top-level ``cells`` array, the (start, end)
    offsets of its ``source`` value in ``text`` (None if it has none)."""
    decoder = json.JSONDecoder()
    index = _skip(text, 0)
    if index >= len(text) or text[index] != "{":
        return None
    index += 1
    while True:
        index = _skip(text, index)
        if text.startswith("}", index):
            return None
        key, index = _string(decoder, text, index)
        index = _skip(text, index)
        if not text.startswith(":", index):
            return None
        index = _skip(text, index + 1)
        if key == "cells":
            return _cell_spans(decoder, text, index)
        _, index = decoder.raw_decode(text, index)
        index = _skip(text, index)
        if text.startswith(",", index):
            index += 1
        else:
            return None


def _cell_spans(decoder, text: str, index: int) -> Optional[List[Optional[Tuple[int, int]]]]:
    if not text.startswith("[", index):
        return None
    spans: List[Optional[Tuple[int, int]]] = []
    index = _skip(text, index + 1)
    if text.startswith("]", index):
        return spans
    while True:
        index = _skip(text, index)
        if not text.startswith("{", index):
            _, index = decoder.raw_decode(text, index)
            spans.append(None)
        else:
            found = None
            index = _skip(text, index + 1)
            while not text.startswith("}", index):
                key, index = _string(decoder, text, index)
                index = _skip(text, index)
                index = _skip(text, index + 1)  # the colon
                begin = index
                _, index = decoder.raw_decode(text, index)
                if key == "source":
                    found = (begin, index)  # the last one wins, as json.loads reads it
                index = _skip(text, index)
                if text.startswith(",", index):
                    index = _skip(text, index + 1)
            index += 1
            spans.append(found)
        index = _skip(text, index)
        if text.startswith(",", index):
            index += 1
            continue
        return spans if text.startswith("]", index) else None


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index


def _string(decoder, text: str, index: int) -> Tuple[str, int]:
    value, end = decoder.raw_decode(text, index)
    if not isinstance(value, str):
        raise InvalidFile("not an nbformat 4 notebook: a key is not a string")
    return value, end


def _render_source(text: str, begin: int, end: int, source: str, as_list: bool) -> str:
    """The new ``source`` value in the layout of the old one (one string, or
    a list with one line per element and the old elements' indentation)."""
    ascii_only = "\\u" in text[begin:end] or text.isascii()
    if not as_list:
        return json.dumps(source, ensure_ascii=ascii_only)
    items = [json.dumps(line, ensure_ascii=ascii_only) for line in split_lines_keepends(source)]
    old = text[begin:end]
    if "\n" not in old:  # minified or a one-line list
        return "[" + ",".join(items) + "]"
    inner = old[1:].split("\n", 1)[1] if "\n" in old[1:] else ""
    indent = inner[: len(inner) - len(inner.lstrip(" \t"))]
    closing_line = old.rsplit("\n", 1)[1]
    closing = closing_line[: len(closing_line) - len(closing_line.lstrip(" \t"))]
    if not items:
        return "[]"
    newline = "\r\n" if "\r\n" in old else "\n"
    return "[" + newline + ("," + newline).join(indent + item for item in items) + newline + closing + "]"


def _common_indent(text: str) -> int:
    indents = [len(l) - len(l.lstrip()) for l in split_lines(text) if l.strip()]
    return min(indents) if indents else 0


def is_notebook(path: str) -> bool:
    return path.lower().endswith(".ipynb")
