"""Where reported nodes are, computed only as far as they need.

libcst's PositionProvider regenerates the whole module's code and records a
range for every node. The same codegen state, stopped as soon as the last
reported node has been written out, gives the same ranges for those nodes
at a fraction of the cost (a report in the first half of a file never pays
for the second half).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Dict, Iterable, Iterator, Optional

import libcst as cst
from libcst.metadata import CodePosition, CodeRange


class _AllFound(Exception):
    pass


def positions(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> Dict[cst.CSTNode, CodeRange]:
    """Each node's range, as PositionProvider gives it."""
    wanted = list(nodes)
    try:
        from libcst.metadata.position_provider import PositionProvidingCodegenState
    except ImportError:  # pragma: no cover - a libcst without that (private) class
        return _all_positions(module, wanted)
    remaining = {id(node) for node in wanted}

    class _Provider:
        _computed: Dict[cst.CSTNode, CodeRange] = {}

    provider = _Provider()
    provider._computed = {}

    class _StoppingState(PositionProvidingCodegenState):
        def after_codegen(self, node: cst.CSTNode) -> None:
            PositionProvidingCodegenState.after_codegen(self, node)
            if id(node) in remaining:
                remaining.discard(id(node))
                if not remaining:
                    raise _AllFound

        @contextmanager
        def record_syntactic_position(
            self,
            node: cst.CSTNode,
            *,
            start_node: Optional[cst.CSTNode] = None,
            end_node: Optional[cst.CSTNode] = None,
        ) -> Iterator[None]:
            # As the parent's, without its try/finally: once stopped, the
            # enclosing nodes are left unfinished instead of half-computed.
            start = CodePosition(self.line, self.column)
            yield
            end = CodePosition(self.line, self.column)
            computed = provider._computed
            start = computed[start_node].start if start_node is not None else start
            end = computed[end_node].end if end_node is not None else end
            computed[node] = CodeRange(start, end)

    state = _StoppingState(
        default_indent=module.default_indent, default_newline=module.default_newline, provider=provider,
    )
    try:
        module._codegen(state)
    except _AllFound:
        pass
    # A node outside the module (a rule's bug) is left out: the caller's
    # look-up raises KeyError, which it reports.
    computed = provider._computed
    return {node: computed[node] for node in wanted if node in computed}


def _all_positions(module: cst.Module, nodes) -> Dict[cst.CSTNode, CodeRange]:
    from libcst.metadata import MetadataWrapper, PositionProvider

    found = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    return {node: found[node] for node in nodes if node in found}
