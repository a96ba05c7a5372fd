"""Fixes: what a rule proposes to change, and applying it to source text.

A rule attaches a fix to a report::

    self.report(call, message, fix=Fix.unsafe(
        "Pass `training=True`", [insert_after(call.args[-1], ", training=True")]))

Edits name libcst nodes of the tree being linted (``insert_before``,
``insert_after``, ``replace``, ``remove``, ``replace_range``); the engine turns
them into line/column ``Edit``s with the same lazily resolved positions it uses
for the reported node, so a fix costs nothing until something is reported.
``Edit``s are text replacements on the decoded source, which keeps the file's
encoding, BOM and line endings untouched outside the edited spans.

A fix is *safe* when it cannot change what the program does at run time, and
*unsafe* otherwise (ruff's definition): ``--fix`` applies safe fixes,
``--fix --unsafe-fixes`` both.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, List, Optional, Sequence, Tuple, Union

from .lines import line_starts

if TYPE_CHECKING:  # pragma: no cover
    import libcst as cst

SAFE, UNSAFE = "safe", "unsafe"


@dataclass(frozen=True)
class Edit:
    """Replace the text from (line, column) up to (end_line, end_column),
    exclusive, with ``content``. Lines and columns are 1-based, columns count
    characters; ``cell`` is the notebook cell (1-based, 0 outside notebooks).
    Equal start and end is an insertion; empty content a deletion."""

    line: int
    column: int
    end_line: int
    end_column: int
    content: str
    cell: int = 0

    @property
    def start(self) -> Tuple[int, int, int]:
        return (self.cell, self.line, self.column)

    @property
    def end(self) -> Tuple[int, int, int]:
        return (self.cell, self.end_line, self.end_column)


@dataclass(frozen=True)
class Anchor:
    """The start or the end of a node of the linted tree; with ``whole_line``,
    the start of the node's first line, or the start of the line after its
    last one (to remove whole lines)."""

    node: "cst.CSTNode"
    at_end: bool
    whole_line: bool = False


@dataclass(frozen=True)
class NodeEdit:
    """An edit between two anchors, before positions are known."""

    start: Anchor
    end: Anchor
    content: str


@dataclass(frozen=True)
class Fix:
    applicability: str  # SAFE or UNSAFE
    message: str        # imperative, e.g. "Pass `training=True`"
    edits: Tuple[Union[Edit, NodeEdit], ...]

    @classmethod
    def safe(cls, message: str, edits: Iterable[Union[Edit, NodeEdit]]) -> "Fix":
        return cls(SAFE, message, tuple(edits))

    @classmethod
    def unsafe(cls, message: str, edits: Iterable[Union[Edit, NodeEdit]]) -> "Fix":
        return cls(UNSAFE, message, tuple(edits))

    @property
    def is_safe(self) -> bool:
        return self.applicability == SAFE

    def applies(self, unsafe: bool) -> bool:
        return self.is_safe or unsafe


# -- building edits from nodes (for rules) ------------------------------------
def start_of(node: "cst.CSTNode") -> Anchor:
    return Anchor(node, at_end=False)


def end_of(node: "cst.CSTNode") -> Anchor:
    return Anchor(node, at_end=True)


def replace_range(start: Anchor, end: Anchor, content: str) -> NodeEdit:
    """Replace from ``start`` to ``end``, e.g. ``replace_range(end_of(previous_arg),
    end_of(arg), "")`` removes an argument and the comma before it."""
    return NodeEdit(start, end, content)


def replace(node: "cst.CSTNode", content: str) -> NodeEdit:
    return NodeEdit(start_of(node), end_of(node), content)


def remove(node: "cst.CSTNode") -> NodeEdit:
    return replace(node, "")


def insert_before(node: "cst.CSTNode", content: str) -> NodeEdit:
    return NodeEdit(start_of(node), start_of(node), content)


def insert_after(node: "cst.CSTNode", content: str) -> NodeEdit:
    return NodeEdit(end_of(node), end_of(node), content)


def add_argument(call: "cst.Call", text: str) -> NodeEdit:
    """Append ``text`` (e.g. ``"training=True"``) as the call's last argument,
    before any trailing comma: ``f(x,)`` becomes ``f(x, training=True,)``."""
    if call.args:
        return insert_after(call.args[-1], ", " + text)
    return insert_after(call.whitespace_before_args, text)


def remove_argument(call: "cst.Call", index: int) -> Optional[NodeEdit]:
    """Remove ``call.args[index]`` and the comma that goes with it, or None
    when that would delete a comment or leave ``f(,)``."""
    args = call.args
    arg = args[index]
    if has_comment(arg):
        return None
    if index > 0:  # from the end of the previous argument: its comma goes
        if has_comment(args[index - 1].comma):
            return None
        return replace_range(end_of(args[index - 1]), end_of(arg), "")
    if len(args) > 1:  # the first of several: up to the next one
        return replace_range(start_of(arg), start_of(args[1]), "")
    if not isinstance(arg.comma, cst.MaybeSentinel):
        return None  # the only argument, with a trailing comma
    return remove(arg)


def remove_lines(node: "cst.CSTNode") -> NodeEdit:
    """Remove the lines ``node`` spans, indentation and line ending included
    (the caller makes sure nothing else shares them)."""
    return NodeEdit(Anchor(node, at_end=False, whole_line=True), Anchor(node, at_end=True, whole_line=True), "")


def has_comment(node: object) -> bool:
    """Does this node (or sentinel) hold a comment anywhere inside it,
    whitespace included?"""
    import libcst as cst

    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Comment):
            return True
        if isinstance(current, cst.CSTNode):
            stack.extend(current.children)
    return False


def nodes(fix: Fix) -> List["cst.CSTNode"]:
    """The tree nodes a fix's edits are anchored to (their positions are needed)."""
    found = []
    for edit in fix.edits:
        if isinstance(edit, NodeEdit):
            found.extend((edit.start.node, edit.end.node))
    return found


def resolve(fix: Fix, positions) -> Fix:
    """``fix`` with every NodeEdit turned into an Edit, given libcst's
    PositionProvider mapping. Raises KeyError for a node not in the tree."""
    if all(isinstance(edit, Edit) for edit in fix.edits):
        return fix

    def point(anchor: Anchor) -> Tuple[int, int]:
        where = positions[anchor.node]
        position = where.end if anchor.at_end else where.start
        if anchor.whole_line:
            return (position.line + 1, 1) if anchor.at_end else (position.line, 1)
        return position.line, position.column + 1

    edits = []
    for edit in fix.edits:
        if isinstance(edit, NodeEdit):
            (line, column), (end_line, end_column) = point(edit.start), point(edit.end)
            edit = Edit(line, column, end_line, end_column, edit.content)
        edits.append(edit)
    return Fix(fix.applicability, fix.message, tuple(edits))


# -- applying edits -------------------------------------------------------------
class EditError(ValueError):
    """An edit does not fit the text (a bug in the fix that made it)."""


def apply_edits(text: str, edits: Sequence[Edit], newline: str = "\n") -> str:
    """``text`` with non-overlapping ``edits`` applied; newlines in inserted
    content become ``newline`` (the file's own)."""
    starts = line_starts(text)

    def offset(line: int, column: int) -> int:
        if line == len(starts) + 1 and column == 1:
            return len(text)  # the line after the last one: a whole-line removal at the end
        if not 1 <= line <= len(starts):
            raise EditError(f"edit outside the text: line {line}")
        base = starts[line - 1]
        limit = starts[line] if line < len(starts) else len(text)
        if base + column - 1 > limit:
            raise EditError(f"edit outside line {line}: column {column}")
        return base + column - 1

    spans = sorted(
        ((offset(e.line, e.column), offset(e.end_line, e.end_column), e.content) for e in edits),
        reverse=True,
    )
    out = text
    previous_start = len(text) + 1
    for start, end, content in spans:
        if end < start or end > previous_start:
            raise EditError("overlapping or reversed edits")
        if newline != "\n":
            content = content.replace("\n", newline)
        out = out[:start] + content + out[end:]
        previous_start = start
    return out


def non_overlapping(fixes: Sequence[Fix]) -> List[Fix]:
    """Fixes that can be applied together, in source order: a fix touching a
    span an earlier one touches waits for the next pass (after re-linting)."""
    chosen: List[Fix] = []
    taken: List[Tuple[Tuple[int, int, int], Tuple[int, int, int]]] = []
    for fix in sorted((f for f in fixes if f.edits), key=lambda f: min(e.start for e in f.edits)):
        spans = [(e.start, e.end) for e in fix.edits]
        # Touching counts as overlapping: two insertions at one point have no
        # defined order.
        if any(s <= other_end and other_start <= e for s, e in spans for other_start, other_end in taken):
            continue
        chosen.append(fix)
        taken.extend(spans)
    return chosen
