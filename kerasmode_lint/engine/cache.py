"""The lint cache: one file's diagnostics, reused while nothing that could
change them has changed.

Layout: ``<cache dir>/CACHEDIR.TAG`` and ``.gitignore`` (so backup tools and
git leave it alone; written only into a cache folder the linter created), then
one folder per linter build (``<tool key>/``), then one small JSON entry per
linted path and settings. An entry holds the hash of
the file content it was computed from and the diagnostics, without their path.

What a result depends on, and where it is in the key:

- the linter itself: its version, the hash of its own source files (every
  rule, so a changed or added rule invalidates even in an editable install),
  the libcst build and the Python version (libcst parses as that version) ->
  the tool key, i.e. the folder;
- the path as the engine sees it (rules may look at it), the resolved settings
  (``LintOptions``: enabled rules, the Keras version setting, noqa handling)
  and what is resolved per file (the Keras version chosen for it, which
  follows the file, the project's pins and the installed packages) -> the
  entry's name;
- the file content -> checked against the hash stored in the entry;
- the other files of the project the result was read from (a model imported
  from ``models.py``, the modules calling a layer class: project.py) -> their
  modification times and sizes, stored in the entry and checked on reuse.

Entries are written to a temporary file and renamed into place, so two runs
sharing the folder only ever see whole entries (the last writer wins, and both
wrote the same thing). A folder that cannot be written is not an error: the
run lints without caching and says so once on stderr.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import sys
import time
from typing import List, Optional, Sequence, Tuple

from .. import __version__
from .diagnostics import Diagnostic

CACHE_DIR_NAME = ".kerasmode_lint_cache"
_FORMAT = 1
_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by kerasmode-lint.\n"
    "# For information about cache directory tags, see https://bford.info/cachedir/\n"
)


def content_hash(data: bytes) -> str:
    # SHA-256 runs in hardware on current x86 and ARM CPUs: faster than BLAKE2.
    return hashlib.sha256(data).hexdigest()[:32]


# The whole package (this module sits in its engine/ room).
_PACKAGE_FOLDER = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _package_sources(directory: str):
    """(relative name, bytes) of the linter's .py files, in a fixed order."""
    for folder, subfolders, names in os.walk(directory):
        subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
        for name in sorted(names):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                with open(path, "rb") as handle:
                    yield os.path.relpath(path, directory), handle.read()


def _libcst_build() -> str:
    """Which libcst is installed, found without importing it (that costs
    more than a warm run)."""
    from importlib.util import find_spec

    spec = find_spec("libcst")
    if spec is None or not spec.origin:
        return "libcst?"
    version_file = os.path.join(os.path.dirname(spec.origin), "_version.py")
    try:
        with open(version_file, "rb") as handle:
            return spec.origin + handle.read().decode("utf-8", "replace")
    except OSError:
        return spec.origin


_TOOL_KEY: Optional[str] = None


def tool_key(package: Optional[str] = None) -> str:
    """Changes whenever the linter's code (``package``: its folder), libcst or
    the Python version does."""
    global _TOOL_KEY
    if package is None and _TOOL_KEY is not None:
        return _TOOL_KEY
    digest = hashlib.blake2b(digest_size=12)
    digest.update(f"{_FORMAT}|{__version__}|{sys.version_info[:2]}|{_libcst_build()}".encode())
    for name, data in _package_sources(package or _PACKAGE_FOLDER):
        digest.update(name.encode() + b"\0" + content_hash(data).encode())
    key = f"{__version__}-{digest.hexdigest()}"
    if package is None:
        _TOOL_KEY = key
    return key


class LintCache:
    """Diagnostics per (path, settings), valid for one content hash.

    The cache is used only when it is safely ours: a folder the linter
    created, or one holding nothing but cache files, owned by the current
    user and writable by nobody else (another local user who could plant
    entries could make any file lint clean). Otherwise the run lints without
    it and says why once on stderr.
    """

    def __init__(self, directory: str, warn=None) -> None:
        self.root = directory
        self.folder = os.path.join(directory, tool_key())
        self._warn = warn or (lambda text: print(text, file=sys.stderr))
        self.writable = True
        self.hits = self.misses = 0
        self._usable: Optional[bool] = None
        self._created_root = False

    def _entry(self, path: str, settings: str) -> str:
        name = hashlib.blake2b(f"{path}\0{settings}".encode("utf-8", "surrogateescape"), digest_size=16)
        return os.path.join(self.folder, name.hexdigest() + ".json")

    def usable(self) -> bool:
        """Is the folder safe to read and write? Decided once, warned once."""
        if self._usable is None:
            problem = _unsafe_folder(self.root, cache_root=True) or _unsafe_folder(self.folder)
            if problem:
                self._warn(f"kerasmode-lint: warning: not using the cache in {_printable(self.root)}: "
                           f"{problem}; linting without caching")
            self._usable = not problem
        return self._usable

    def get(self, path: str, settings: str, digest: str) -> Optional[List[Diagnostic]]:
        if not self.usable():
            return None
        try:
            handle = os.open(self._entry(path, settings), os.O_RDONLY | _NOFOLLOW)
            with open(handle, "rb") as stream:
                status = os.fstat(stream.fileno())
                if _unsafe_stat(status):
                    raise ValueError("not ours")
                entry = json.loads(stream.read())
            if status.st_mtime < time.time() - _DAY:  # used: kept from pruning for another PRUNE_DAYS
                _touch(self._entry(path, settings))
            found = _valid_entry(path, entry, digest)
        except (OSError, ValueError, RecursionError):  # missing, stale or damaged: lint again
            found = None
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        return found

    def put(self, path: str, settings: str, digest: str, diagnostics: List[Diagnostic],
            depends: Sequence[Tuple[str, int, int]] = ()) -> None:
        if not self.writable or not self.usable():
            return
        entry = {
            "content": digest,
            "diagnostics": [_fields(d) for d in diagnostics],
            "depends": [list(d) for d in depends],
        }
        text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
        try:
            self._prepare()
            write_atomically(self._entry(path, settings), text)
        except OSError as exc:
            self.writable = False
            self._warn(
                f"kerasmode-lint: warning: cannot write the cache in {_printable(self.root)} "
                f"({exc.strerror or exc}); linting without caching"
            )

    _prepared = False

    def _prepare(self) -> None:
        """Create the folders on first write; the CACHEDIR.TAG and .gitignore
        go only into a cache folder the linter created itself (in a folder
        that was already there they would hide a project from git and from
        backups)."""
        if self._prepared:
            return
        if not os.path.isdir(self.root):
            try:
                os.makedirs(self.root, mode=0o700)
                self._created_root = True
            except FileExistsError:  # another run created it meanwhile: it writes the markers
                pass
        os.makedirs(self.folder, mode=0o700, exist_ok=True)
        if self._created_root:
            for name, text in _MARKERS.items():
                write_atomically(os.path.join(self.root, name), text)
        self._prepared = True

    def prune(self) -> None:
        """At the end of a run, at most once a day: remove the folders of
        other linter builds, the entries not used for PRUNE_DAYS days and,
        oldest first, whatever exceeds MAX_BYTES."""
        if not self._prepared and not os.path.isdir(self.folder):
            return  # nothing written by this build yet
        if not self.usable():
            return
        stamp = os.path.join(self.folder, _PRUNED)
        try:
            if os.stat(stamp).st_mtime > time.time() - _DAY:
                return
        except OSError:
            pass
        try:
            for name in os.listdir(self.root):
                if name != os.path.basename(self.folder) and _BUILD_NAME.fullmatch(name):
                    _remove_build(os.path.join(self.root, name))
            _prune_entries(self.folder)
            with open(stamp, "w"):
                pass
        except OSError:  # another run pruning at the same time, a read-only folder: next time
            pass


# Entries unused this long are removed; the folder is kept below MAX_BYTES.
PRUNE_DAYS = 30
MAX_BYTES = 256 * 1024 * 1024
_DAY = 24 * 3600
_PRUNED = ".pruned"
_BUILD_NAME = re.compile(r"[0-9A-Za-z.+_-]+-[0-9a-f]{24}")
_ENTRY_NAME = re.compile(r"[0-9a-f]{32}\.json|\.tmp-\d+-\d+|\.pruned")


def _touch(path: str) -> None:
    try:
        os.utime(path)
    except OSError:
        pass


def _prune_entries(folder: str) -> None:
    now = time.time()
    kept = []
    for item in os.scandir(folder):
        if not _ENTRY_NAME.fullmatch(item.name) or item.name == _PRUNED:
            continue
        status = item.stat(follow_symlinks=False)
        if status.st_mtime < now - PRUNE_DAYS * _DAY:
            _unlink(item.path)
        else:
            kept.append((status.st_mtime, status.st_size, item.path))
    total = sum(size for _, size, _ in kept)
    for _, size, path in sorted(kept):
        if total <= MAX_BYTES:
            break
        _unlink(path)
        total -= size


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _remove_build(folder: str) -> None:
    """Remove a build folder: its cache files only, then the folder if empty."""
    for item in os.scandir(folder):
        if _ENTRY_NAME.fullmatch(item.name) and not item.is_dir(follow_symlinks=False):
            _unlink(item.path)
    try:
        os.rmdir(folder)
    except OSError:  # something else in it: left alone
        pass


def clean(directory: str) -> str:
    """``kerasmode-lint clean``: remove the cache folder ``directory``, if it
    is one (only cache files in it, ours); what was done, in one line."""
    if not os.path.isdir(directory):
        return f"no cache in {_printable(directory)}"
    problem = _unsafe_folder(directory, cache_root=True)
    if problem:
        raise OSError(f"not removing {_printable(directory)}: {problem}")
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        if name in _MARKERS or _CACHE_NAMES.fullmatch(name) and not os.path.isdir(path):
            _unlink(path)
        elif _BUILD_NAME.fullmatch(name):
            _remove_build(path)
    os.rmdir(directory)
    return f"removed the cache in {_printable(directory)}"


_MARKERS = {"CACHEDIR.TAG": _TAG, ".gitignore": "# Created by kerasmode-lint\n*\n"}
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
# A build folder (tool_key) and what write_atomically leaves while it writes.
_CACHE_NAMES = re.compile(r"[0-9A-Za-z.+_-]+-[0-9a-f]{24}|\.tmp-\d+-\d+")


def _unsafe_stat(st: os.stat_result) -> str:
    """Why a file or folder with this status could have been planted, "" if it could not."""
    getuid = getattr(os, "getuid", None)
    if getuid is None:  # Windows: no owners and modes to check this way
        return ""
    if st.st_uid != getuid():
        return "it belongs to another user"
    if st.st_mode & 0o002:
        return "others can write to it"
    if st.st_mode & 0o020 and not _private_group(st.st_gid):
        return "its group can write to it"
    return ""


def _private_group(gid: int) -> bool:
    """Is ``gid`` the user's own group (a user-private group, as systems with
    umask 002 give each user), so that group-writable means the user only?"""
    try:
        import grp
        import pwd

        user = pwd.getpwuid(os.getuid()).pw_name
        group = grp.getgrgid(gid)
    except (ImportError, KeyError):
        return False
    return gid == os.getgid() and group.gr_name == user and all(member == user for member in group.gr_mem)


def _unsafe_folder(folder: str, cache_root: bool = False) -> str:
    """"" when ``folder`` is missing (it will be created) or is safely ours;
    else why not. The cache root must hold only cache files."""
    try:
        st = os.stat(folder)
    except (FileNotFoundError, NotADirectoryError):  # created on the first write (or that fails, and says so)
        return ""
    except OSError as exc:
        return exc.strerror or str(exc)
    import stat

    if not stat.S_ISDIR(st.st_mode):
        return ""  # writing fails, and says so
    problem = _unsafe_stat(st)
    if problem or not cache_root:
        return problem
    try:
        names = os.listdir(folder)
    except OSError as exc:
        return exc.strerror or str(exc)
    strangers = sorted(name for name in names if name not in _MARKERS and not _CACHE_NAMES.fullmatch(name))
    if strangers:
        return f"it holds files that are not the cache's (such as {_printable(strangers[0])!r})"
    return ""


def _printable(text: str) -> str:
    from .safe_io import escape_control

    return escape_control(text)


_TEMPORARY_NAMES = itertools.count()


def write_atomically(target: str, text: str) -> None:
    """Write a uniquely named temporary file beside ``target``, then rename it
    over ``target``: readers see the old file or the new one, never a part.
    (tempfile would do, but importing it costs a small file's whole lint.)"""
    folder = os.path.dirname(target)
    while True:
        temporary = os.path.join(folder, f".tmp-{os.getpid()}-{next(_TEMPORARY_NAMES)}")
        try:
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            break
        except FileExistsError:  # left by a killed run with our pid: take the next name
            continue
    try:
        with open(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


# A diagnostic as a JSON list: its position, code, message, notebook cell and
# resolved fix (so --statistics and the "fixable" hint agree on cache hits).
def _fields(d: Diagnostic) -> list:
    fix = None
    if d.fix is not None:
        fix = [d.fix.applicability, d.fix.message,
               [[e.line, e.column, e.end_line, e.end_column, e.content, e.cell] for e in d.fix.edits]]
    return [d.line, d.column, d.code, d.message, d.end_line, d.end_column, d.name, d.cell, fix, d.explanation]


def _valid_entry(path: str, entry, digest: str) -> Optional[List[Diagnostic]]:
    """The entry's diagnostics if it is one this module wrote for ``digest``,
    else None: every field is checked (types, ranges, codes that exist), so
    a damaged or planted entry is a miss, never a crash or a false result."""
    if type(entry) is not dict or entry.get("content") != digest:
        return None
    depends = entry.get("depends", [])
    if type(depends) is not list or not all(
        type(d) is list and len(d) == 3 and type(d[0]) is str and type(d[1]) is int and type(d[2]) is int
        for d in depends
    ):
        return None
    from . import project

    if not project.unchanged(depends):
        return None  # a project file it was read from has changed
    fields_list = entry.get("diagnostics")
    if type(fields_list) is not list:
        return None
    found = []
    for fields in fields_list:
        diagnostic = _diagnostic(path, fields)
        if diagnostic is None:
            return None
        found.append(diagnostic)
    return found


def _count(value, least: int = 1) -> bool:
    return type(value) is int and least <= value < 1 << 31


def _known_codes() -> frozenset:
    from .diagnostics import ENGINE_CODES
    from .triggers import TRIGGERS

    return frozenset(ENGINE_CODES) | frozenset(TRIGGERS)


def _diagnostic(path: str, fields) -> Optional[Diagnostic]:
    from .fixes import SAFE, UNSAFE, Edit, Fix

    if type(fields) is not list or len(fields) != 10:
        return None
    line, column, code, message, end_line, end_column, name, cell, fix, explanation = fields
    if not (_count(line) and _count(column) and _count(end_line, 0) and _count(end_column, 0)
            and _count(cell, 0) and type(message) is str and type(name) is str
            and type(code) is str and code in _known_codes() and type(explanation) is str):
        return None
    if fix is not None:
        if type(fix) is not list or len(fix) != 3:
            return None
        applicability, fix_message, edits = fix
        if applicability not in (SAFE, UNSAFE) or type(fix_message) is not str or type(edits) is not list:
            return None
        checked = []
        for edit in edits:
            if not (type(edit) is list and len(edit) == 6 and all(_count(n) for n in edit[:4])
                    and type(edit[4]) is str and _count(edit[5], 0)):
                return None
            checked.append(Edit(*edit))
        fix = Fix(applicability, fix_message, tuple(checked))
    return Diagnostic(path, line, column, code, message, end_line, end_column, name, cell=cell, fix=fix,
                      explanation=explanation)
