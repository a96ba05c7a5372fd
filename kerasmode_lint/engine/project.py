"""The linted project around a file: its root, where its modules are, and
which of its other files a file's findings were read from.

Some answers about a file come from its neighbours: the model a training
script imports from ``models.py``, the calls other modules make of a layer
class. Those files are only read, never linted, and every read goes through
``stamp``/``read`` here, which note the file's modification time and size
while ``recording()`` is on. The runner stores that list with the file's
cached result, and a warm run reuses the result only while every file on it
is unchanged (``unchanged``): editing ``models.py`` re-lints the scripts that
read it, not only ``models.py``.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

Stamp = Tuple[int, int]  # (st_mtime_ns, st_size); (-1, -1): did not exist
_ABSENT: Stamp = (-1, -1)

# Folders and files noted while a file is linted (None: not recording).
_recorded: Optional[Dict[str, Stamp]] = None


@contextmanager
def recording() -> Iterator[Dict[str, Stamp]]:
    """Note every project file and folder read until the block ends."""
    global _recorded
    outer, _recorded = _recorded, {}
    try:
        yield _recorded
    finally:
        if outer is not None:
            outer.update(_recorded)
        _recorded = outer


def stamp(path: str) -> Stamp:
    """The file's (or folder's) modification time and size, noted."""
    try:
        status = os.stat(path)
        found = (status.st_mtime_ns, status.st_size)
    except OSError:
        found = _ABSENT
    if _recorded is not None:
        _recorded[path] = found
    return found


def read(path: str, limit: int = 2_000_000) -> Optional[bytes]:
    """The first ``limit`` bytes of a project file, noted; None if unreadable."""
    stamp(path)
    try:
        with open(path, "rb") as handle:
            return handle.read(limit)
    except OSError:
        return None


def unchanged(depends: Sequence[Sequence[Union[str, int]]]) -> bool:
    """Is every (path, mtime_ns, size) as it was?"""
    for path, mtime, size in depends:
        try:
            status = os.stat(path)
            now = (status.st_mtime_ns, status.st_size)
        except OSError:
            now = _ABSENT
        if now != (mtime, size):
            return False
    return True


# -- where the project is ------------------------------------------------------

MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")
MAX_FILES = 400  # a tree larger than this is not scanned per question
_MAX_LEVELS = 4
_SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", "__pycache__", "site-packages", ".venv", "venv", ".tox"})
# (root, stamps of the root and the file's folder) -> (its .py files, the folders walked)
_TREES: Dict[Tuple[str, Stamp, Stamp], Tuple[List[str], List[str]]] = {}


def root(folder: str) -> str:
    """The project's root: the nearest folder at most four levels up that
    holds a project marker (``pyproject.toml``, ``setup.py``, ``setup.cfg``,
    ``.git``), if its tree has at most MAX_FILES Python files; else the
    file's folder, climbing out of packages (``__init__.py``). Never a
    folder above the project: a sibling project's ``model.py`` is not ours.
    (versions.py climbs further, to any folder with pins: a Keras version may
    be pinned far above the modules a file can import.)"""
    current = folder
    for _ in range(_MAX_LEVELS + 1):
        if any(os.path.exists(os.path.join(current, m)) for m in MARKERS):
            if files(current, folder):
                return current
            break
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    while os.path.isfile(os.path.join(folder, "__init__.py")) and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
    return folder


def files(project_root: str, own: str) -> List[str]:
    """The project's .py files (empty when there are more than MAX_FILES).
    Every folder walked is noted: a file added anywhere changes its folder."""
    key = (project_root, stamp(project_root), stamp(own))
    if key not in _TREES:
        found: List[str] = []
        folders: List[str] = []
        for folder, dirs, names in os.walk(project_root):
            dirs[:] = [d for d in dirs if d not in _SKIP_DIRS and not d.startswith(".")]
            folders.append(folder)
            found += [os.path.join(folder, n) for n in names if n.endswith(".py")]
            if len(found) > MAX_FILES:
                found = []  # too big to scan per question: the file alone decides
                break
        _TREES[key] = (found, folders)
    found, folders = _TREES[key]
    for folder in folders:
        stamp(folder)
    return found


def module_file(module: str, level: int, folder: Optional[str]):
    """The file of a module of the linted project, as Python would find it
    run from the importing file's folder or one above it (``level``: a
    relative import's dots): its path, "" for a namespace folder, None for a
    module that is not the project's (the standard library, TensorFlow …),
    False for one that is but cannot be found."""
    if folder is None:
        return False if level else None
    parts = [p for p in module.split(".") if p]
    if level:
        base = folder
        for _ in range(level - 1):
            base = os.path.dirname(base)
        found = _module_file(base, parts)
        return found if found is not None else (None if not parts else _missing_or_name(base, parts))
    current = folder
    for _ in range(6):
        if parts and (os.path.isfile(os.path.join(current, parts[0] + ".py"))
                      or os.path.isdir(os.path.join(current, parts[0]))):
            found = _module_file(current, parts)
            return found if found is not None else _missing_or_name(current, parts)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    return None


def _module_file(base: str, parts: List[str]) -> Optional[str]:
    path = os.path.join(base, *parts) if parts else base
    if os.path.isfile(path + ".py"):
        return path + ".py"
    init = os.path.join(path, "__init__.py")
    if os.path.isfile(init):
        return init
    if os.path.isdir(path):
        return ""  # a namespace folder: nothing in it to read
    return None


def _missing_or_name(base: str, parts: List[str]):
    """``from pkg.mod import Thing``: the last part may be a name, not a module."""
    if len(parts) > 1 and _module_file(base, parts[:-1]) is not None:
        return None  # ``Thing`` is a name; its module is followed on its own
    return False
