"""A fast, read-only traversal of a libcst tree.

libcst's own ``node.visit(visitor)`` rebuilds every node on the way back up
(it is built for transformers), which costs more than the parse. We only read,
so we walk the dataclass fields ourselves, skip whitespace and punctuation
fields that no rule looks at, and keep an explicit stack so that deeply nested
code cannot hit Python's recursion limit.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Dict, Iterator, List, Tuple, Type

import libcst as cst

# Fields that only hold formatting (whitespace, commas, brackets, comments) or
# operator tokens; rules read operators directly from their parent node.
_SKIPPED_FIELDS = frozenset(
    {
        "lpar", "rpar", "lbracket", "rbracket", "lbrace", "rbrace",
        "comma", "semicolon", "colon", "equal", "dot", "arrow",
        "leading_lines", "lines_after_decorators", "header", "footer",
        "trailing_whitespace", "newline", "operator", "default_comma",
        "star_tok", "asynchronous", "whitespace_before_colon",
    }
)

_FIELDS: Dict[Type[cst.CSTNode], Tuple[str, ...]] = {}


def _child_fields(cls: Type[cst.CSTNode]) -> Tuple[str, ...]:
    fields = _FIELDS.get(cls)
    if fields is None:
        fields = tuple(
            f.name
            for f in dataclasses.fields(cls)
            if f.name not in _SKIPPED_FIELDS and "whitespace" not in f.name
        )
        _FIELDS[cls] = fields
    return fields


def iter_children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The node's child nodes in field order (formatting fields skipped)."""
    for name in _child_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            yield value
        elif isinstance(value, (tuple, list)):
            for item in value:
                if isinstance(item, cst.CSTNode):
                    yield item


def iter_descendants(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node below ``node`` (not ``node`` itself), depth first, in order."""
    stack: List[cst.CSTNode] = list(iter_children(node))
    stack.reverse()
    while stack:
        current = stack.pop()
        yield current
        children = list(iter_children(current))
        children.reverse()
        stack.extend(children)


Handler = Callable[[cst.CSTNode], None]


def walk(
    root: cst.CSTNode,
    visitors: Dict[Type[cst.CSTNode], List[Handler]],
    leavers: Dict[Type[cst.CSTNode], List[Handler]],
) -> None:
    """Depth-first walk calling ``visitors[type]`` on entry and ``leavers[type]``
    on exit, for every node of those exact types."""
    _leave = object()  # marker pushed below a node whose leave handlers must run
    stack: list = [root]
    fields_of = _child_fields
    while stack:
        node = stack.pop()
        if node is _leave:
            left = stack.pop()
            for handler in leavers[type(left)]:
                handler(left)
            continue
        cls = type(node)
        handlers = visitors.get(cls)
        if handlers:
            for handler in handlers:
                handler(node)
        if cls in leavers:
            stack.append(node)
            stack.append(_leave)
        start = len(stack)
        for name in fields_of(cls):
            value = getattr(node, name)
            if isinstance(value, cst.CSTNode):
                stack.append(value)
            elif value.__class__ in (tuple, list):
                for item in value:
                    if isinstance(item, cst.CSTNode):
                        stack.append(item)
        # Children were pushed in order; reverse them so they pop in order.
        if len(stack) - start > 1:
            stack[start:] = stack[start:][::-1]
