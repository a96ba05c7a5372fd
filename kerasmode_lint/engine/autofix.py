"""Changing files: ``--fix``, ``--unsafe-fixes``, ``--diff`` and ``--add-noqa``.

Fixes are applied in passes: lint, apply every applicable fix that does not
overlap another, re-lint, until nothing applicable is left (at most
``MAX_PASSES``). Every pass's result must parse (libcst, as the linter reads
it); a fix whose result does not is refused and reported as a KM001 internal
error, never written. A file is written only if it changed, through a
temporary file in its own folder and ``os.replace``, with its mode, encoding,
BOM and line endings kept.
"""
from __future__ import annotations

import os
import stat
from typing import Dict, List, Optional, Sequence, Set, Tuple

from .diagnostics import INVALID_FILE, INVALID_FILE_NAME, REPORT_THIS_BUG, UNUSED_NOQA, Diagnostic
from .lint import FileResult, InvalidFile, LintOptions, decode, lint_bytes, parse, source_encoding
from .fixes import Edit, EditError, Fix, apply_edits, non_overlapping
from .lines import dominant_newline, split_lines, split_lines_keepends
from .noqa import NOQA
from .options import Job  # noqa: F401 (re-exported)

MAX_PASSES = 10


# -- the two kinds of file ----------------------------------------------------
class PythonFile:
    def __init__(self, path: str, data: bytes) -> None:
        self.path, self.data = path, data

    def lint(self, options: LintOptions) -> FileResult:
        return lint_bytes(self.data, self.path, options)

    def cell_text(self, cell: int) -> str:
        return decode(self.data)

    def edited(self, edits: Sequence[Edit]) -> "PythonFile":
        text = decode(self.data)
        changed = apply_edits(text, edits, dominant_newline(text))
        encoding = source_encoding(self.data)
        try:
            return PythonFile(self.path, changed.encode(encoding))
        except UnicodeEncodeError:
            raise EditError(f"the new text cannot be encoded as {encoding}") from None

    def problem(self) -> Optional[InvalidFile]:
        try:
            parse(decode(self.data))
        except InvalidFile as exc:
            return exc
        return None

    def diff(self, new: "PythonFile") -> str:
        return _unified(decode(self.data), decode(new.data), self.path, self.path)


class NotebookFile:
    def __init__(self, path: str, data: bytes, notebook=None) -> None:
        self.path, self.data, self._notebook = path, data, notebook

    @property
    def notebook(self):
        if self._notebook is None:
            from .notebooks import Notebook

            self._notebook = Notebook(self.data)
        return self._notebook

    def lint(self, options: LintOptions) -> FileResult:
        from .lint import _invalid
        from .notebooks import lint_parsed_notebook

        try:
            notebook = self.notebook
        except InvalidFile as exc:
            return _invalid(self.path, exc)
        return lint_parsed_notebook(notebook, self.path, options)

    def cell_text(self, cell: int) -> str:
        return self.notebook.cell_text(cell)

    def edited(self, edits: Sequence[Edit]) -> "NotebookFile":
        try:
            notebook = self.notebook.edited(edits)
        except InvalidFile as exc:
            raise EditError(str(exc)) from None
        return NotebookFile(self.path, notebook.data, notebook)

    def problem(self) -> Optional[InvalidFile]:
        from .notebooks import check_program

        return check_program(self.notebook)

    def diff(self, new: "NotebookFile") -> str:
        return self.notebook.diff(new.notebook, self.path)


def source_file(path: str, data: bytes):
    # notebooks.is_notebook, without importing that module for every .py file.
    return NotebookFile(path, data) if path.lower().endswith(".ipynb") else PythonFile(path, data)


def _unified(old: str, new: str, old_name: str, new_name: str) -> str:
    import difflib  # only --diff needs it

    lines = list(difflib.unified_diff(
        split_lines_keepends(old), split_lines_keepends(new), f"a/{old_name}", f"b/{new_name}"))
    out = []
    for line in lines:
        out.append(line)
        if not line.endswith(("\n", "\r")):
            out.append("\n\\ No newline at end of file\n")
    return "".join(out)


# -- fixing -------------------------------------------------------------------
def fix_file(source, options: LintOptions, unsafe: bool):
    """(fixed source, result of linting it, number of fixes applied)."""
    result = source.lint(options)
    fixed = 0
    refused: Set[Tuple[int, int, int, str]] = set()
    failures: List[Diagnostic] = []
    for _ in range(MAX_PASSES):
        owners: Dict[int, Diagnostic] = {}
        for diag in result.diagnostics:
            if diag.fix is not None and diag.fix.applies(unsafe) and _key(diag) not in refused:
                owners[id(diag.fix)] = diag
        chosen = non_overlapping([d.fix for d in owners.values()])
        if not chosen:
            break
        before = source
        applied, failed, source = _apply_checked(source, chosen)
        for fix in failed:
            diag = owners[id(fix)]
            refused.add(_key(diag))
            failures.append(_refused(diag))
        if not applied or source.data == before.data:
            break  # nothing left that changes the text (a fix must not count twice)
        fixed += len(applied)
        result = source.lint(options)
    if failures:
        result.internal_error = True
        result.diagnostics = sorted(result.diagnostics + failures, key=Diagnostic.sort_key)
    return source, result, fixed


def _key(diag: Diagnostic) -> Tuple[int, int, int, str]:
    return (diag.cell, diag.line, diag.column, diag.code)


def _apply_checked(source, fixes: Sequence[Fix]):
    """Apply ``fixes`` together if the result parses; else find the first
    that does on its own (the others wait for the next pass, re-linted).
    Returns (applied fixes, fixes that break the code, new source)."""
    together = _try(source, [e for f in fixes for e in f.edits])
    if together is not None:
        return list(fixes), [], together
    failed = []
    for fix in fixes:
        candidate = _try(source, fix.edits)
        if candidate is not None:
            return [fix], failed, candidate
        failed.append(fix)
    return [], failed, source


def _try(source, edits: Sequence[Edit]):
    try:
        candidate = source.edited(edits)
    except EditError:
        return None
    return None if candidate.problem() is not None else candidate


def _refused(diag: Diagnostic) -> Diagnostic:
    return Diagnostic(
        diag.path, diag.line, diag.column, INVALID_FILE,
        f"internal error: the fix for {diag.code} ({diag.fix.message}) would produce code that "
        "does not parse, so it was not applied",
        name=INVALID_FILE_NAME, cell=diag.cell, explanation=REPORT_THIS_BUG,
    )


# -- --add-noqa -----------------------------------------------------------------
def add_noqa(source, options: LintOptions):
    """(source with noqa comments added, result of linting it, findings silenced)."""
    result = source.lint(options)
    edits, silenced = noqa_edits(source, result.diagnostics)
    if not edits:
        return source, result, 0
    candidate = _try(source, edits)
    if candidate is None:  # cannot happen: comments at line ends never break code
        return source, result, 0
    return candidate, candidate.lint(options), silenced


def noqa_edits(source, diagnostics: Sequence[Diagnostic]) -> Tuple[List[Edit], int]:
    """The edits that append (or extend) a ``# noqa: CODES`` comment on the
    line of each of ``diagnostics`` that can take one, and how many of them
    it silences. Used by --add-noqa and the editor's "add noqa" action."""
    wanted: Dict[Tuple[int, int], Set[str]] = {}
    for diag in diagnostics:
        if diag.code not in (INVALID_FILE, UNUSED_NOQA):
            wanted.setdefault((diag.cell, diag.line), set()).add(diag.code)
    edits: List[Edit] = []
    silenced = 0
    comments_of: Dict[int, Optional[Dict[int, Tuple[int, str]]]] = {}
    texts: Dict[int, List[str]] = {}
    for (cell, line), codes in sorted(wanted.items()):
        if cell not in comments_of:
            text = source.cell_text(cell)
            texts[cell] = split_lines(text)
            comments_of[cell] = _line_ends(text)
        comments = comments_of[cell]
        if comments is None or line not in comments:
            continue  # the line ends inside a string or a continuation: no comment fits
        text = texts[cell][line - 1]
        listed = ", ".join(sorted(codes))
        comment = comments[line]
        match = NOQA.search(comment[1]) if comment else None
        if match is not None and match.group("codes"):
            at = comment[0] + match.end("codes") + 1
            edits.append(Edit(line, at, line, at, ", " + listed, cell=cell))
        else:
            at = len(text.rstrip(" \t")) + 1
            edits.append(Edit(line, at, line, len(text) + 1, f"  # noqa: {listed}", cell=cell))
        silenced += sum(1 for d in diagnostics if (d.cell, d.line) == (cell, line) and d.code in codes)
    return edits, silenced


def edited_if_parses(source, edits: Sequence[Edit]):
    """``source`` with ``edits`` applied, or None when the result would not
    parse (what --fix refuses to write; the editor offers no such fix)."""
    return _try(source, edits)


def _line_ends(text: str) -> Optional[Dict[int, Optional[Tuple[int, str]]]]:
    """For each line a comment can be appended to (it ends outside strings and
    backslash continuations): its comment (column, text) or None."""
    ends: Dict[int, Optional[Tuple[int, str]]] = {}
    comments: Dict[int, Tuple[int, str]] = {}
    import tokenize  # only --add-noqa needs it

    # tokenize knows only LF and CRLF: give it LF (columns and line numbers stay).
    lines = iter([
        line.rstrip("\r\n") + "\n" if line.endswith(("\r", "\n")) else line
        for line in split_lines_keepends(text)
    ])
    try:
        for token in tokenize.generate_tokens(lambda: next(lines, "")):
            if token.type == tokenize.COMMENT:
                comments[token.start[0]] = (token.start[1], token.string)
            elif token.type in (tokenize.NEWLINE, tokenize.NL):
                ends[token.start[0]] = comments.get(token.start[0])
    except (tokenize.TokenError, SyntaxError):
        return None
    return ends


# -- one file, start to end -------------------------------------------------------
def run_job(path: str, data: bytes, options: LintOptions, job: Job) -> FileResult:
    source = source_file(path, data)
    if not job.changes_files:
        return source.lint(options)
    if job.add_noqa:
        new, result, count = add_noqa(source, options)
        result.noqa_added = count
    else:
        new, result, count = fix_file(source, options, job.unsafe)
        result.fixed = count
    if new.data != data:
        if job.diff:
            result.diff = source.diff(new)
        if job.write:
            try:
                atomic_write(path, new.data, getattr(data, "identity", None))
            except (OSError, NotWritten) as exc:
                # Nothing was written: report the file as it is, not as fixed.
                result = source.lint(options)
                result.internal_error = True
                reason = str(exc) if isinstance(exc, NotWritten) else f"cannot write: {exc.strerror or exc}"
                result.diagnostics.append(Diagnostic(
                    path, 1, 1, INVALID_FILE, f"{reason}; the fixes were not applied",
                    name=INVALID_FILE_NAME))
        else:
            result.output = new.data
    return result


def _remove_stale_copies(folder: str, name: str) -> None:
    """Temporary copies a killed run (SIGKILL, power loss) left beside the
    file: named ``.NAME.kml<pid>.*.tmp``, removed once that process is gone."""
    prefix = f".{name}.kml"
    try:
        entries = [e for e in os.listdir(folder) if e.startswith(prefix) and e.endswith(".tmp")]
    except OSError:
        return
    for entry in entries:
        pid = entry[len(prefix):].split(".", 1)[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        try:
            os.unlink(os.path.join(folder, entry))
        except OSError:
            pass


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists (another user's): leave its file alone
    return True


def _check_unchanged(info: os.stat_result, identity) -> None:
    """Raise unless the file is still the one that was read (``identity``)."""
    from .safe_io import identity_of

    if identity is not None and identity_of(info) != identity:
        raise NotWritten("changed while fixing, not written")


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(os.path.join(folder, ""))


class NotWritten(Exception):
    """The fix was not written, and why (one line)."""


def atomic_write(path: str, data: bytes, identity: "tuple | None" = None) -> None:
    """Replace ``path`` (or the file a symlink points to) with ``data`` so that
    an interrupted run leaves either the old or the new file, never half.

    Written only over the file that was read (``identity``: same device,
    inode, size and modification time; else an editor saved it, or it was
    swapped for a link, meanwhile), only if the user may write it, keeping
    its owner, group and mode. A file with several hard links is rewritten in
    place, so that every link sees the fix."""
    target = os.path.realpath(path)
    if target != os.path.abspath(path) and not _inside(target, os.path.realpath(os.getcwd())):
        # Through a symlink to a file outside the tree being linted (the
        # current folder): a fix must not reach files the run was not about.
        raise NotWritten("a symlink to a file outside the linted tree, not written")
    info = os.stat(target)
    _check_unchanged(info, identity)
    if not os.access(target, os.W_OK):
        raise NotWritten("cannot write: permission denied")
    if info.st_nlink > 1:
        _rewrite_in_place(target, data, identity)
        return
    try:
        _replace(target, data, info, identity)
    except _KeepOwner:
        # The new file could not keep the owner and group: write in place.
        _rewrite_in_place(target, data, identity)


class _KeepOwner(Exception):
    pass


def _rewrite_in_place(target: str, data: bytes, identity) -> None:
    with open(target, "r+b") as out:
        _check_unchanged(os.fstat(out.fileno()), identity)
        out.write(data)
        out.truncate()
        out.flush()
        os.fsync(out.fileno())


def _replace(target: str, data: bytes, info: os.stat_result, identity) -> None:
    mode = stat.S_IMODE(info.st_mode)
    import tempfile  # only writing needs it (it loads shutil and random)

    folder, name = os.path.dirname(target), os.path.basename(target)
    _remove_stale_copies(folder, name)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.kml{os.getpid()}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if hasattr(os, "chown") and (info.st_uid, info.st_gid) != (os.getuid(), os.getgid()):
            try:
                os.chown(temporary, info.st_uid, info.st_gid)  # keep the owner (a root run)
            except OSError:
                raise _KeepOwner() from None
        os.chmod(temporary, mode)  # after chown, which clears set-id bits
        _check_unchanged(os.stat(target), identity)
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
