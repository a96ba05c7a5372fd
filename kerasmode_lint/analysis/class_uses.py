"""How the instances of a layer class are used, in its file and in the other
modules of the linted project that name it.

For KM301: a ``call(..., training=True)`` default matters only where an
instance is called without ``training``. ``uses(context, "Block")`` answers
with the calls found (does each pass a training flag?), and whether an
instance escapes where the calls cannot be followed (handed to a function,
put in a list, returned, the class itself passed around); ``nested`` says
whether some use puts it inside another model (a Sequential, a functional
graph, another layer's attribute), where Keras 3.0–3.15 leak its default.

Read with ``ast`` (fast, no libcst): other modules are only scanned, not
linted. The project is the nearest folder above the file with a project marker
(``pyproject.toml``, ``setup.py``, ``setup.cfg``, ``.git``), else the file's
folder out of its packages; only files that name the class and import its
module are read.
"""
from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set

from ..engine import project
from .keras_knowledge import TRAINING_FLAG_NAME as _FLAG


@dataclass
class Uses:
    calls: List[bool] = field(default_factory=list)  # per call of an instance: passes training?
    escapes: bool = False
    nested: bool = False

    @property
    def every_call_passes_training(self) -> bool:
        return bool(self.calls) and all(self.calls) and not self.escapes


def uses(context, class_name: str) -> Uses:
    found = Uses()
    _scan(context.source, class_name, found, own_file=True)
    path = context.path
    if path in ("", "-") or path.lower().endswith(".ipynb") or not os.path.isfile(path):
        return found
    here = os.path.abspath(path)
    needle = class_name.encode()
    stem = os.path.splitext(os.path.basename(here))[0]
    folder = os.path.dirname(here)
    for other in project.files(project.root(folder), folder):
        if other == here:
            continue
        data = project.read(other)
        if data is None:
            continue
        if needle in data and stem.encode() in data:
            _scan(data.decode("utf-8", "replace"), class_name, found, own_file=False, module=stem)
    return found


def _scan(source: str, name: str, found: Uses, own_file: bool, module: str = "") -> None:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        if own_file:
            found.escapes = True
        return
    if not own_file and not _imports_module(tree, module):
        return  # another class of the same name
    parents: Dict[int, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
    instances: Set[str] = set()
    containers: Set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == name:
            continue
        if not (isinstance(node, (ast.Name, ast.Attribute)) and _tail(node) == name):
            continue
        parent = parents.get(id(node))
        if isinstance(parent, ast.Attribute) or isinstance(parent, ast.ClassDef):
            continue  # ``module.Block`` is seen as the Attribute; a base class
        if isinstance(parent, ast.ImportFrom) or isinstance(parent, ast.alias):
            continue
        if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name) and parent.func.id in _INTROSPECTION:
            continue  # super(Block, self), isinstance(x, Block)
        if not (isinstance(parent, ast.Call) and parent.func is node):
            found.escapes = True  # the class itself handed around
            continue
        outer = parents.get(id(parent))
        container = _container(outer, parent, parents)
        if container is not None:
            containers.add(container)  # self.blocks.append(Block(...)); [Block() for …]
            found.nested = found.nested or container.startswith("self.")
        elif isinstance(outer, ast.Call) and outer.func is parent:
            found.calls.append(_passes_training(outer))  # Block(...)(x)
            found.nested = True
        elif isinstance(outer, (ast.Assign, ast.AnnAssign)) and outer.value is parent:
            targets = outer.targets if isinstance(outer, ast.Assign) else [outer.target]
            for target in targets:
                text = _dotted(target)
                if text is None:
                    found.escapes = True
                    continue
                instances.add(text)
                if text.startswith("self."):
                    found.nested = True  # a sublayer of another layer or model
        else:
            found.escapes = True  # in a list, an argument, a return …
            if isinstance(outer, (ast.List, ast.Tuple)) or isinstance(outer, ast.Call):
                found.nested = True
    if not instances and not containers:
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.For) and _dotted(node.iter) in containers and isinstance(node.target, ast.Name):
            instances.add(node.target.id)  # for block in self.blocks: block(x, training)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if _dotted(func) in instances or (isinstance(func, ast.Subscript) and _dotted(func.value) in containers):
            found.calls.append(_passes_training(node))


_INTROSPECTION = frozenset({"super", "isinstance", "issubclass", "type"})


def _container(outer, call, parents) -> Optional[str]:
    """The list an instance is put in: ``X.append(Block(...))``, or ``X = [Block(...) …]``."""
    if (isinstance(outer, ast.Call) and isinstance(outer.func, ast.Attribute)
            and outer.func.attr == "append" and call in outer.args):
        return _dotted(outer.func.value)
    node = outer
    if isinstance(node, ast.ListComp) and node.elt is call:
        node = parents.get(id(node))
    elif isinstance(node, ast.List):
        node = parents.get(id(node))
    else:
        return None
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        return _dotted(node.targets[0])
    return None


def _imports_module(tree: ast.AST, module: str) -> bool:
    """Does this file import the class's module (``from model import D``,
    ``import pkg.model``, ``from pkg import model``)?"""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if (node.module or "").rsplit(".", 1)[-1] == module:
                return True
            if any(alias.name == module for alias in node.names):
                return True
        elif isinstance(node, ast.Import):
            if any(alias.name.rsplit(".", 1)[-1] == module for alias in node.names):
                return True
    return False


def _passes_training(call: ast.Call) -> bool:
    for keyword in call.keywords:
        if keyword.arg is None or _FLAG.fullmatch(keyword.arg.lower()):
            return True
    for arg in call.args[1:]:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, bool):
            return True
        if isinstance(arg, ast.Name) and _FLAG.fullmatch(arg.id.lower()):
            return True
        if isinstance(arg, ast.Starred):
            return True
    return False


def _dotted(node: ast.AST) -> Optional[str]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _tail(node: ast.AST) -> str:
    return node.attr if isinstance(node, ast.Attribute) else node.id
