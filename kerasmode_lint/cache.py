"""The lint cache: one file's diagnostics, reused while nothing that could
change them has changed.

Layout: ``<cache dir>/CACHEDIR.TAG`` and ``.gitignore`` (so backup tools and
git leave it alone), then one folder per linter build (``<tool key>/``), then
one small JSON entry per linted path and settings. An entry holds the hash of
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
- the file content -> checked against the hash stored in the entry.

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
import sys
from typing import List, Optional

from . import __version__
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
    for name, data in _package_sources(package or os.path.dirname(os.path.abspath(__file__))):
        digest.update(name.encode() + b"\0" + content_hash(data).encode())
    key = f"{__version__}-{digest.hexdigest()}"
    if package is None:
        _TOOL_KEY = key
    return key


class LintCache:
    """Diagnostics per (path, settings), valid for one content hash."""

    def __init__(self, directory: str, warn=None) -> None:
        self.root = directory
        self.folder = os.path.join(directory, tool_key())
        self._warn = warn or (lambda text: print(text, file=sys.stderr))
        self.writable = True
        self.hits = self.misses = 0

    def _entry(self, path: str, settings: str) -> str:
        name = hashlib.blake2b(f"{path}\0{settings}".encode("utf-8", "surrogateescape"), digest_size=16)
        return os.path.join(self.folder, name.hexdigest() + ".json")

    def get(self, path: str, settings: str, digest: str) -> Optional[List[Diagnostic]]:
        try:
            with open(self._entry(path, settings), "rb") as handle:
                entry = json.loads(handle.read())
            if entry["content"] != digest:
                raise KeyError("content")
            found = [_diagnostic(path, fields) for fields in entry["diagnostics"]]
        except (OSError, ValueError, KeyError, TypeError):  # missing, stale or damaged: lint again
            self.misses += 1
            return None
        self.hits += 1
        return found

    def put(self, path: str, settings: str, digest: str, diagnostics: List[Diagnostic]) -> None:
        if not self.writable:
            return
        entry = {
            "content": digest,
            "diagnostics": [_fields(d) for d in diagnostics],
        }
        text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
        try:
            self._prepare()
            write_atomically(self._entry(path, settings), text)
        except OSError as exc:
            self.writable = False
            self._warn(
                f"kerasmode-lint: warning: cannot write the cache in {self.root} "
                f"({exc.strerror or exc}); linting without caching"
            )

    _prepared = False

    def _prepare(self) -> None:
        """Create the folders, the CACHEDIR.TAG and a .gitignore on first write."""
        if self._prepared:
            return
        os.makedirs(self.folder, exist_ok=True)
        for name, text in (("CACHEDIR.TAG", _TAG), (".gitignore", "# Created by kerasmode-lint\n*\n")):
            target = os.path.join(self.root, name)
            if not os.path.exists(target):
                write_atomically(target, text)
        self._prepared = True


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


def _diagnostic(path: str, fields: list) -> Diagnostic:
    from .fixes import Edit, Fix

    *plain, cell, fix, explanation = fields
    if fix is not None:
        applicability, message, edits = fix
        fix = Fix(applicability, message, tuple(Edit(*edit) for edit in edits))
    return Diagnostic(path, *plain, cell=cell, fix=fix, explanation=explanation)
