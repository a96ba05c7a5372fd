"""Find the files to lint, the way ruff does.

Command-line files are always linted (unless ``force_exclude``); folders are
walked for files ending in one of ``suffixes``, skipping what matches the
exclude globs or the git ignore rules. Standard library only.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence, Tuple

# ruff's default excludes plus our own cache folder.
DEFAULT_EXCLUDES: tuple[str, ...] = (
    ".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints",
    ".mypy_cache", ".nox", ".pants.d", ".pytype", ".ruff_cache", ".pytest_cache",
    ".svn", ".tox", ".venv", "venv", ".kerasmode_lint_cache", "__pypackages__",
    "__pycache__", "_build", "buck-out", "build", "dist", "node_modules",
    "site-packages", "*.egg-info",
)

_NT = os.name == "nt"


@dataclass
class Discovered:
    files: list[str] = field(default_factory=list)    # display paths, in walk order
    missing: list[str] = field(default_factory=list)  # command-line paths that do not exist


# --------------------------------------------------------------------------
# exclude globs (fnmatch)

def validate_globs(patterns: Iterable[str]) -> None:
    """Raise ValueError for a malformed glob; fnmatch would silently take '[' literally."""
    if isinstance(patterns, str):
        patterns = (patterns,)
    for pat in patterns:
        problem = _glob_problem(pat)
        if problem:
            raise ValueError(f"bad glob '{pat}': {problem}")


def _glob_problem(pat: str) -> str | None:
    if not pat:
        return "empty pattern"
    i, n = 0, len(pat)
    while i < n:
        if pat[i] == "[":  # same bracket scan as fnmatch.translate
            j = i + 1
            if j < n and pat[j] == "!":
                j += 1
            if j < n and pat[j] == "]":
                j += 1
            j = pat.find("]", j)
            if j < 0:
                return "unclosed '[' (write '[[]' for a literal '[')"
            i = j
        i += 1
    try:
        re.compile(fnmatch.translate(pat))
    except re.error as exc:
        return str(exc)
    return None


class _Excluder:
    """Exclude globs, matched against the basename, root-relative and absolute path."""

    def __init__(self, patterns: Sequence[str]):
        # "build/" means the folder "build": fnmatch would never match the slash.
        self._patterns = [p.rstrip("/\\") or p for p in patterns]
        self._compiled = False
        self._match = None

    def _matcher(self):
        # Compiled on first use: a run on files named on the command line may never ask.
        if not self._compiled:
            regex = "|".join(fnmatch.translate(os.path.normcase(p)) for p in self._patterns)
            self._match = re.compile(regex).match if self._patterns else None
            self._compiled = True
        return self._match

    def __call__(self, name: str, rel: str, path: str) -> bool:
        match = self._matcher()
        if match is None:
            return False
        if _NT:
            name, rel, path = (os.path.normcase(s) for s in (name, rel, path))
        return bool(match(name) or match(rel) or match(path))


# --------------------------------------------------------------------------
# .gitignore

def _bracket(pat: str, i: int) -> tuple[str | None, int]:
    """Translate the '[...]' class starting at pat[i]; (None, i) if it is unclosed."""
    n = len(pat)
    j = i + 1
    if j < n and pat[j] in "!^":
        j += 1
    if j < n and pat[j] == "]":
        j += 1
    while j < n and pat[j] != "]":
        j += 2 if pat[j] == "\\" else 1
    if j >= n:
        return None, i
    body = pat[i + 1:j]
    negated = body[0] in "!^"
    if negated:
        body = body[1:]
    out, k = [], 0
    while k < len(body):
        if body[k] == "\\" and k + 1 < len(body):
            out.append(re.escape(body[k + 1]))
            k += 2
            continue
        out.append("-" if body[k] == "-" else re.escape(body[k]))  # keep ranges
        k += 1
    # A class never matches '/', negated or not (git's wildmatch with WM_PATHNAME).
    return ("[^/" if negated else "[") + "".join(out) + "]", j + 1


def _translate(pat: str) -> str:
    """Gitignore glob -> regex over a '/'-separated path."""
    out, i, n = [], 0, len(pat)
    while i < n:
        c = pat[i]
        if c == "*":
            # "**" is special only as a whole path component.
            if pat.startswith("**", i) and (i == 0 or pat[i - 1] == "/"):
                if i + 2 == n:            # "dir/**": everything inside
                    out.append(".*")
                    i += 2
                    continue
                if pat[i + 2] == "/":     # "**/": zero or more folders
                    out.append("(?:.*/)?")
                    i += 3
                    continue
            while i < n and pat[i] == "*":
                i += 1
            out.append("[^/]*")
            continue
        if c == "?":
            out.append("[^/]")
        elif c == "[":
            cls, end = _bracket(pat, i)
            if cls is not None:
                out.append(cls)
                i = end
                continue
            out.append(re.escape(c))
        elif c == "\\" and i + 1 < n:
            out.append(re.escape(pat[i + 1]))
            i += 2
            continue
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def _gitignore_rule(line: str) -> tuple[str, bool, bool] | None:
    """One .gitignore line -> (regex, negated, dir_only), or None for blanks/comments."""
    if line.startswith("#"):
        return None
    end = len(line)
    while end and line[end - 1] == " " and not (end > 1 and line[end - 2] == "\\"):
        end -= 1  # trailing spaces are trimmed unless escaped
    line = line[:end]
    negated = line.startswith("!")
    if negated:
        line = line[1:]
    dir_only = line.endswith("/")
    line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line  # a slash anywhere but the end anchors to the file's folder
    regex = _translate(line[1:] if line.startswith("/") else line)
    if not anchored:
        regex = "(?:.*/)?" + regex
    try:
        re.compile(regex)
    except re.error:  # e.g. a reversed range: git never matches such a pattern
        return None
    return regex, negated, dir_only


class _Rules:
    """The compiled rules of one .gitignore (or info/exclude) file."""

    def __init__(self, base: str, text: str):
        self.cut = len(base) + 1 if base else 0  # strips "base/" from repo-relative paths
        # Reversed so the regex alternation's first hit is the file's last matching line.
        rules = [r for r in map(_gitignore_rule, text.splitlines()) if r][::-1]
        self.empty = not rules
        self._dirs = self._compile(rules)
        self._files = self._compile([r for r in rules if not r[2]])

    @staticmethod
    def _compile(rules):
        if not rules:
            return None, ()
        regex = "|".join(f"({r[0]})" for r in rules)  # only these groups capture
        return re.compile(regex, re.S).fullmatch, (None, *(r[1] for r in rules))

    def match(self, path: str, is_dir: bool) -> bool | None:
        """True: ignored, False: re-included by '!', None: no rule matched."""
        fullmatch, negated = self._dirs if is_dir else self._files
        m = fullmatch(path[self.cut:]) if fullmatch else None
        return None if m is None else not negated[m.lastindex]


# (path of the folder relative to the repository root, rules from shallow to deep)
_Ctx = Tuple[str, Tuple[_Rules, ...]]


def _gitignored(ctx: _Ctx, name: str, is_dir: bool) -> bool:
    rel, stack = ctx
    path = f"{rel}/{name}" if rel else name
    for rules in reversed(stack):  # a deeper .gitignore overrides a shallower one
        hit = rules.match(path, is_dir)
        if hit is not None:
            return hit
    return False


class _GitIgnores:
    """Loads and caches ignore files; builds the rule stack of each folder."""

    def __init__(self):
        self._files: dict[str, _Rules | None] = {}
        self._ctx: dict[str, tuple[Optional[_Ctx], bool]] = {}

    def _load(self, path: str, base: str) -> _Rules | None:
        if path not in self._files:
            text = ""
            if os.path.isfile(path):  # a FIFO would block the read forever
                try:
                    with open(path, encoding="utf-8-sig", errors="replace") as f:
                        text = f.read()
                except OSError:  # unreadable: no rules
                    pass
            rules = _Rules(base, text)
            self._files[path] = None if rules.empty else rules
        return self._files[path]

    def enter(self, parent: Optional[_Ctx], folder: str, has_git: bool,
              has_gitignore: bool) -> Optional[_Ctx]:
        """The context of `folder` given its parent's; None outside any git repository."""
        if has_git:  # a repository root, possibly nested: its own rules only
            rel, stack = "", ()
            exclude = self._load(os.path.join(folder, ".git", "info", "exclude"), "")
            if exclude:
                stack = (exclude,)  # lowest precedence
        elif parent is None:
            return None  # outside a repository .gitignore does not apply (as git, ruff)
        else:
            name = os.path.basename(folder)
            rel = f"{parent[0]}/{name}" if parent[0] else name
            stack = parent[1]
        if has_gitignore:
            rules = self._load(os.path.join(folder, ".gitignore"), rel)
            if rules:
                stack = (*stack, rules)
        return rel, stack

    def context(self, folder: str) -> tuple[Optional[_Ctx], bool]:
        """(context, ignored) of a folder reached from the command line, by its ancestors.

        `ignored` says whether the folder or one of its ancestors is gitignored.
        """
        if folder not in self._ctx:
            parent = os.path.dirname(folder)
            has_git = os.path.exists(os.path.join(folder, ".git"))
            pctx, ignored = None, False
            if not has_git and parent != folder:
                pctx, ignored = self.context(parent)
                if pctx is not None and not ignored:
                    ignored = _gitignored(pctx, os.path.basename(folder), True)
            has_gitignore = os.path.isfile(os.path.join(folder, ".gitignore"))
            self._ctx[folder] = (self.enter(pctx, folder, has_git, has_gitignore), ignored)
        return self._ctx[folder]

    def path_ignored(self, path: str, is_dir: bool) -> bool:
        ctx, ignored = self.context(os.path.dirname(path))
        return ignored or (ctx is not None and _gitignored(ctx, os.path.basename(path), is_dir))


# --------------------------------------------------------------------------
# the walk

def _relpath(path: str, start: str) -> str:
    try:
        return os.path.relpath(path, start)
    except ValueError:  # another drive on Windows
        return path


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(os.path.join(folder, ""))


def discover(
    paths: Sequence[str],
    *,
    exclude: Sequence[str] = DEFAULT_EXCLUDES,
    extend_exclude: Sequence[str] = (),
    force_exclude: bool = False,
    respect_gitignore: bool = True,
    suffixes: Sequence[str] = (".py",),
    root: str | None = None,
) -> Discovered:
    patterns = [*exclude, *extend_exclude]
    validate_globs(p for p in patterns if p not in DEFAULT_EXCLUDES)  # ours are known to be good
    excluded = _Excluder(patterns)
    git = _GitIgnores() if respect_gitignore else None
    suffixes = tuple(suffixes)
    cwd = os.getcwd()
    root = os.path.abspath(root) if root else cwd
    result = Discovered()
    seen_files: set[str] = set()
    seen_dirs: set[tuple[int, int]] = set()  # (st_dev, st_ino): never walk a folder twice

    def display(path: str) -> str:
        return os.path.relpath(path, cwd) if _under(path, cwd) else path

    def prefix(rel: str) -> str:
        """A folder's relative path, ready to have a name appended."""
        return "" if rel == os.curdir else os.path.join(rel, "")

    def forced_out(path: str, is_dir: bool) -> bool:
        """force_exclude: is a command-line path excluded, by itself or a folder above it?"""
        rel = _relpath(path, root)
        if rel != os.curdir:
            parts = rel.split(os.sep)
            if parts[0] == os.pardir or os.path.isabs(rel):
                # Outside root: only the path itself; its ancestors are not ours to judge.
                if excluded(os.path.basename(path), rel, path):
                    return True
            else:
                for k in range(1, len(parts) + 1):
                    sub = os.sep.join(parts[:k])
                    if excluded(parts[k - 1], sub, os.path.join(root, sub)):
                        return True
        return git is not None and git.path_ignored(path, is_dir)

    def expand(folder: str, rel: str, disp: str, parent: Optional[_Ctx]) -> list:
        """List one folder: its kept files and subfolders, sorted by name."""
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:  # unreadable or vanished: skip it, quietly
            return []
        ctx = None
        if git is not None:
            names = {e.name for e in entries}
            ctx = git.enter(parent, folder, ".git" in names, ".gitignore" in names)
        out = []
        for entry in entries:
            name = entry.name
            try:
                if entry.is_dir(follow_symlinks=False):  # never follow folder symlinks
                    is_dir = True
                elif name.endswith(suffixes) and entry.is_file():  # follows; broken -> False
                    is_dir = False
                else:
                    continue
                if excluded(name, rel + name, entry.path):
                    continue
                if ctx is not None and _gitignored(ctx, name, is_dir):
                    continue  # an ignored folder is not descended into, as git
                if is_dir:
                    st = entry.stat(follow_symlinks=False)
                    key = (st.st_dev, st.st_ino)
                    if key in seen_dirs:
                        continue
                    seen_dirs.add(key)
                    out.append((entry.path, rel + name + os.sep, disp + name + os.sep, ctx))
                else:
                    if entry.is_symlink() and _under(os.path.realpath(entry.path), walk_root[0]):
                        continue  # a link to a file of the tree: the file itself is listed
                    out.append((entry.path, disp + name))
            except OSError:
                continue
        return out

    walk_root = [""]  # the real path of the folder being walked
    for arg in paths:
        path = os.path.abspath(arg)
        if arg == "" or not os.path.exists(path):  # "" is no path (not "."); broken symlinks included
            result.missing.append(arg)
            continue
        is_dir = os.path.isdir(path)
        if force_exclude and forced_out(path, is_dir):
            continue
        if not is_dir:  # named explicitly: linted whatever its suffix
            if path not in seen_files:
                seen_files.add(path)
                result.files.append(display(path))
            continue
        try:
            st = os.stat(path)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in seen_dirs:
            continue
        seen_dirs.add((st.st_dev, st.st_ino))
        walk_root[0] = os.path.realpath(path)
        parent = os.path.dirname(path)
        pctx = git.context(parent)[0] if git is not None and parent != path else None
        # Depth-first with an explicit stack (no recursion limit); items pushed in
        # reverse so they pop in name order. Files are 2-tuples, folders 4-tuples.
        todo = [(path, prefix(_relpath(path, root)), prefix(display(path)), pctx)]
        while todo:
            item = todo.pop()
            if len(item) == 2:
                if item[0] not in seen_files:
                    seen_files.add(item[0])
                    result.files.append(item[1])
            else:
                todo.extend(reversed(expand(*item)))
    return result
