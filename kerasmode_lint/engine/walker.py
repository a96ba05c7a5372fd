"""A fast, read-only traversal of a libcst tree.

libcst's own ``node.visit(visitor)`` rebuilds every node on the way back up
(it is built for transformers), which costs more than the parse. We only read,
so we walk the dataclass fields ourselves, skip whitespace and punctuation
fields that no rule looks at, and keep an explicit stack so that deeply nested
code cannot hit Python's recursion limit.
"""
from __future__ import annotations

import dataclasses
import typing
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


class _NodeClasses(dict):
    """type -> is it a libcst node? A plain dict lookup instead of an
    ``isinstance`` against the CSTNode ABC, which is several times slower."""

    def __missing__(self, cls: type) -> bool:
        self[cls] = is_node = isinstance(cls, type) and issubclass(cls, cst.CSTNode)
        return is_node


_IS_NODE = _NodeClasses()
_REVERSED_FIELDS: Dict[type, Tuple[str, ...]] = {}


def _walked_fields(cls: Type[cst.CSTNode]) -> Tuple[str, ...]:
    """The child fields in reverse order (pushed so that they pop in order),
    without fields declared to hold text (``Name.value``, ``Arg.star``)."""
    fields = _REVERSED_FIELDS.get(cls)
    if fields is None:
        declared = {f.name: f.type for f in dataclasses.fields(cls)}
        fields = tuple(
            name for name in reversed(_child_fields(cls))
            if declared[name] is not str and typing.get_origin(declared[name]) is not typing.Literal
        )
        _REVERSED_FIELDS[cls] = fields
    return fields


_LEAVE = object()  # marker pushed above a node whose leave handlers must run


def walk(
    root: cst.CSTNode,
    visitors: Dict[Type[cst.CSTNode], List[Handler]],
    leavers: Dict[Type[cst.CSTNode], List[Handler]],
) -> None:
    """Depth-first walk calling ``visitors[type]`` on entry and ``leavers[type]``
    on exit, for every node of those exact types."""
    # The hottest loop of a lint run: locals only, no isinstance, no copies.
    stack: list = [root]
    pop, push = stack.pop, stack.append
    leave = _LEAVE
    is_node = _IS_NODE
    fields_of = _REVERSED_FIELDS
    while stack:
        node = pop()
        if node is leave:
            left = pop()
            for handler in leavers[left.__class__]:
                handler(left)
            continue
        cls = node.__class__
        handlers = visitors.get(cls)
        if handlers is not None:
            for handler in handlers:
                handler(node)
        if cls in leavers:
            push(node)
            push(leave)
        names = fields_of.get(cls)
        if names is None:
            names = _walked_fields(cls)
        for name in names:
            value = getattr(node, name)
            kind = value.__class__
            if kind is tuple or kind is list:
                for item in reversed(value):
                    if is_node[item.__class__]:
                        push(item)
            elif is_node[kind]:
                push(value)
