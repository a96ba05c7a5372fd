"""Models and layers a file imports from another module of the linted project.

``from models import build_model``, ``from .backbone import ResNet``,
``import network; network.VGG16()``: what the name holds is answered from
that module, with the same analysis as a name defined in the file (its
Sequential lists, functional graphs, subclasses and their bases, builder
functions and their literal flags), following re-exports (a package's
``__init__.py``) a few modules deep. The module is found the way Python would
find it run from the importing file's folder (project.py); modules outside
the project (the standard library, TensorFlow, installed packages) are not
read. Each module is parsed once per process, and every file read is noted
(project.py), so a cached result is reused only while those files are
unchanged.
"""
from __future__ import annotations

import os
from collections import OrderedDict
from typing import TYPE_CHECKING, Dict, List, Optional, Set, Tuple

import libcst as cst

from ..engine import project
from .names import TRACKED_ROOTS, ImportTracker, dotted
from ..engine.walker import walk

if TYPE_CHECKING:  # pragma: no cover
    from .model_contents import Contents, ModelContents

MAX_HOPS = 4  # modules followed from the linted file (an __init__ re-export is one)
_MAX_BYTES = 1_000_000  # a larger module is not read: its names stay unknown
_LOADED_LIMIT = 32

# (path, stamp, hops) -> that module's analysis (None: cannot be read or parsed)
_LOADED: "OrderedDict[Tuple[str, project.Stamp, int], Optional[ModelContents]]" = OrderedDict()
# (path, stamp) -> its tree and imports, shared by its analyses at every hop count
_PARSED: "OrderedDict[Tuple[str, project.Stamp], Tuple[cst.Module, ImportTracker]]" = OrderedDict()
_IN_PROGRESS: Set[Tuple[str, str]] = set()

# local name -> (module, relative level, imported name or None for ``import m``)
ImportTable = Dict[str, Tuple[str, int, Optional[str]]]


def import_table(module: cst.Module) -> ImportTable:
    """Names bound by imports of modules that are not Keras or TensorFlow
    (the ones that could be the project's), at module level and in its
    ``if``/``try``/``with`` blocks."""
    table: ImportTable = {}
    todo = list(reversed(module.body))  # in file order: a later import rebinds
    while todo:
        statement = todo.pop()
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.ImportFrom):
                    _from_import(small, table)
                elif isinstance(small, cst.Import):
                    _plain_import(small, table)
        elif isinstance(statement, (cst.If, cst.Try, cst.With, cst.Else, cst.Finally, cst.ExceptHandler)):
            nested = list(statement.body.body) if isinstance(statement.body, cst.IndentedBlock) else []
            for part in ("handlers", "orelse", "finalbody"):
                value = getattr(statement, part, None)
                if isinstance(value, (list, tuple)):
                    nested += list(value)
                elif value is not None:
                    nested.append(value)
            todo += reversed(nested)
    return table


def _from_import(node: cst.ImportFrom, table: ImportTable) -> None:
    module = dotted(node.module) if node.module is not None else ""
    level = len(node.relative)
    if module is None or (level == 0 and module.split(".", 1)[0] in TRACKED_ROOTS):
        return
    if isinstance(node.names, cst.ImportStar):
        table[f"*{len(table)}"] = (module, level, None)  # any name the file does not define
        return
    for alias in node.names:
        name = dotted(alias.name)
        if name is None:
            continue
        local = name
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            local = alias.asname.name.value
        table[local] = (module, level, name)


def _plain_import(node: cst.Import, table: ImportTable) -> None:
    for alias in node.names:
        name = dotted(alias.name)
        if name is None or name.split(".", 1)[0] in TRACKED_ROOTS:
            continue
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            table[alias.asname.name.value] = (name, 0, None)
        else:
            table[name.split(".", 1)[0]] = (name.split(".", 1)[0], 0, None)


def targets(table: ImportTable, name: str) -> List[Tuple[str, int, str, bool]]:
    """(module, level, name in that module, from a star import?) of a dotted
    name used in the file, when it comes from an import in ``table``:
    ``build`` after ``from models import build``; ``models.build`` after
    ``import models``; ``pkg.mod.Net`` after ``import pkg.mod``; ``Net``
    after ``from layers import *`` (each star import, last first)."""
    head, _, rest = name.partition(".")
    entry = table.get(head)
    if entry is None:
        if rest:
            return []
        stars = [value for key, value in table.items() if key.startswith("*")]
        return [(module, level, name, True) for module, level, _ in reversed(stars)]
    found = _target(entry, rest)
    return [(*found, False)] if found is not None else []


def _target(entry: Tuple[str, int, Optional[str]], rest: str) -> Optional[Tuple[str, int, str]]:
    module, level, imported = entry
    parts = rest.split(".") if rest else []
    if imported is None:  # import m: m.sub.Name
        if not parts:
            return None
        return ".".join([module] + parts[:-1]), level, parts[-1]
    if not parts:
        return module, level, imported
    # from pkg import mod: mod.Name (mod a module of pkg)
    return ".".join(p for p in [module, imported] + parts[:-1] if p), level, parts[-1]


def contents(importer_path: str, table: ImportTable, name: str, call: Optional[cst.Call],
             hops: int) -> Optional["Contents"]:
    """What the imported ``name`` holds in the project module it comes from;
    None when it does not come from one (the caller decides as for any
    unseen name)."""
    from .model_contents import UNKNOWN

    for module, level, imported, star in targets(table, name):
        if star and hops + 1 >= MAX_HOPS:
            continue  # too far to tell whether that module defines it
        found = _contents(importer_path, module, level, imported, call, hops)
        if found is _NOT_PROJECT:
            if not star:
                return None
        elif found is _NOT_DEFINED:
            if not star:
                return UNKNOWN  # the project's module, without that name
        else:
            return found
    return None


_NOT_PROJECT = object()  # the module is not the project's
_NOT_DEFINED = object()  # the module is the project's, and does not define the name


def _contents(importer_path: str, module: str, level: int, name: str, call: Optional[cst.Call], hops: int):
    from .model_contents import UNKNOWN

    if importer_path in ("", "-"):
        return _NOT_PROJECT
    folder = os.path.dirname(os.path.abspath(importer_path))
    path = project.module_file(module, level, folder)
    if path is None:
        return _NOT_PROJECT
    if not path or hops >= MAX_HOPS:
        return UNKNOWN  # the project's, but not found (or a namespace folder), or too far
    key = (path, name)
    if key in _IN_PROGRESS:
        return UNKNOWN  # a cycle of re-exports
    analysis = _load(path, hops + 1)
    if analysis is None:
        return UNKNOWN
    _IN_PROGRESS.add(key)
    try:
        found = analysis.exported(name, call)
    finally:
        _IN_PROGRESS.discard(key)
    return _NOT_DEFINED if found is None else found


def _load(path: str, hops: int) -> Optional["ModelContents"]:
    """The analysis of a project module reached after ``hops`` imports. One
    per (module, hops): an analysis memoises what its names hold, and that
    depends on how many hops are left for the names it imports in turn."""
    key = (path, project.stamp(path), hops)
    if key in _LOADED:
        _LOADED.move_to_end(key)
        return _LOADED[key]
    found = None
    data = project.read(path, _MAX_BYTES + 1)
    if data is not None and len(data) <= _MAX_BYTES:
        try:
            found = _analyse(path, data, hops)
        except Exception:  # a module we cannot read: its names stay unknown
            found = None
    _LOADED[key] = found
    while len(_LOADED) > _LOADED_LIMIT:
        _LOADED.popitem(last=False)
    return found


def _analyse(path: str, data: bytes, hops: int) -> "ModelContents":
    from .model_contents import ModelContents

    key = (path, project.stamp(path))
    if key in _PARSED:
        _PARSED.move_to_end(key)
    else:
        _PARSED[key] = _parse(data)
        while len(_PARSED) > _LOADED_LIMIT:
            _PARSED.popitem(last=False)
    module, imports = _PARSED[key]
    return ModelContents(module, imports, path=path, hops=hops)


def _parse(data: bytes) -> Tuple[cst.Module, ImportTracker]:
    from ..engine.lint import decode, parse

    module = parse(decode(data))
    imports = ImportTracker()
    walk(
        module,
        {
            cst.Import: [imports.visit_Import],
            cst.ImportFrom: [imports.visit_ImportFrom],
            cst.Assign: [imports.visit_Assign],
            cst.FunctionDef: [imports.enter_function],
        },
        {cst.FunctionDef: [imports.leave_function]},
    )
    return module, imports
