"""Where reported nodes are, computed only for them and only as far as needed.

libcst's PositionProvider regenerates the whole module's code and records a
range for every node, updating a line and column for every token. Here the
code is generated with libcst's plain codegen state (tokens only), positions
are computed only at the start and end of the reported nodes (and of the
nodes inside them, which a syntactic range may borrow from), by counting the
tokens generated since the last position, and generation stops as soon as
the last reported node is written out. The ranges are PositionProvider's
(tests/test_positions.py compares them on every fixture).
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Dict, Iterable, Iterator, List, Optional

import libcst as cst
from libcst._nodes.internal import CodegenState
try:  # libcst.metadata re-exports these; importing it would run its package init (libcst_loader.py)
    from libcst._position import CodePosition, CodeRange
except ImportError:  # pragma: no cover - a libcst that moved them
    from libcst.metadata import CodePosition, CodeRange

# As PositionProvider counts lines: "\r\n", "\r" and "\n" each end one.
_NEWLINE = re.compile(r"\r\n?|\n")


class _AllFound(Exception):
    pass


class _State(CodegenState):
    """Codegen that records ranges only inside the wanted nodes."""

    def __init__(self, module: cst.Module, wanted: Iterable[cst.CSTNode]) -> None:
        CodegenState.__init__(self, default_indent=module.default_indent, default_newline=module.default_newline)
        self.wanted = {id(node) for node in wanted}
        self.remaining = set(self.wanted)
        self.found: Dict[cst.CSTNode, CodeRange] = {}
        self.inside = 0  # how many wanted nodes (or nodes inside one) are being generated
        self.starts: List[CodePosition] = []
        self.counted = 0  # tokens already counted into line/column
        self.line, self.column = 1, 0

    def _position(self) -> CodePosition:
        tokens = self.tokens
        if self.counted > len(tokens):  # pop_trailing_newline removed one: count again
            self.counted, self.line, self.column = 0, 1, 0
        if self.counted < len(tokens):
            new = tokens[self.counted:]
            self.counted = len(tokens)
            text = "".join(new)
            if "\r" in text:
                # Token by token: a "\r" ending one token and a "\n" starting
                # the next are two line ends for PositionProvider, one in the joined text.
                for token in new:
                    self._advance(token)
            else:
                newlines = text.count("\n")
                if newlines:
                    self.line += newlines
                    self.column = len(text) - text.rindex("\n") - 1
                else:
                    self.column += len(text)
        return CodePosition(self.line, self.column)

    def _advance(self, token: str) -> None:
        segments = _NEWLINE.split(token)
        if len(segments) == 1:
            self.column += len(token)
        else:
            self.line += len(segments) - 1
            self.column = len(segments[-1])

    def before_codegen(self, node: cst.CSTNode) -> None:
        if self.inside or id(node) in self.wanted:
            self.inside += 1
            self.starts.append(self._position())

    def after_codegen(self, node: cst.CSTNode) -> None:
        if not self.inside:
            return
        # This node pushed a start in before_codegen (it is wanted or inside one).
        start = self.starts.pop()
        self.inside -= 1
        if node not in self.found:  # a syntactic range, recorded already, wins
            self.found[node] = CodeRange(start, self._position())
        if id(node) in self.remaining:
            self.remaining.discard(id(node))
            if not self.remaining:
                raise _AllFound

    @contextmanager
    def record_syntactic_position(
        self,
        node: cst.CSTNode,
        *,
        start_node: Optional[cst.CSTNode] = None,
        end_node: Optional[cst.CSTNode] = None,
    ) -> Iterator[None]:
        if not self.inside:  # not wanted, nor inside a wanted node
            yield
            return
        start = self._position()
        yield
        end = self._position()
        found = self.found
        self.found[node] = CodeRange(
            found[start_node].start if start_node is not None else start,
            found[end_node].end if end_node is not None else end,
        )


def positions(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> Dict[cst.CSTNode, CodeRange]:
    """Each node's range, as PositionProvider gives it. A node that is not
    in the module (a rule's bug) is left out: the caller's look-up raises
    KeyError, which it reports."""
    wanted = list(nodes)
    if not wanted:
        return {}
    state = _State(module, wanted)
    try:
        module._codegen(state)
    except _AllFound:
        pass
    found = state.found
    return {node: found[node] for node in wanted if node in found}
