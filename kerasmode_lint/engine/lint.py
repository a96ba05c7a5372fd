"""The lint pipeline for one file: bytes -> rules -> diagnostics.

It knows no particular rule: it asks the registry which rules are enabled and
apply to the file's Keras version, skips the file if it contains none of their
trigger words, parses it once, runs every rule in one walk, and turns what
they report into positioned (positions.py), noqa-filtered diagnostics.
"""
from __future__ import annotations

import ast
import codecs
import gc
import re
import sys
import warnings
from symtable import symtable
from typing import TYPE_CHECKING, Dict, FrozenSet, List, Optional, Sequence, Tuple, Type

from . import deep_stack
from .diagnostics import (
    ENGINE_CODES, INVALID_FILE, INVALID_FILE_NAME, UNUSED_NOQA, Diagnostic, internal_error, one_sentence,
)
from ..analysis.file_kinds import kinds_of
from .fixes import Fix
from .fixes import nodes as fix_nodes, resolve as resolve_fix
from .noqa import apply_noqa, file_is_exempt, may_hold_our_noqa, unused_noqa
from .options import FileResult, LintOptions  # noqa: F401 (re-exported)
from .prefilter import codes_matching
from .. import rules as registry
from .versions import KERAS2, KERAS3_MEASURED

if TYPE_CHECKING:  # pragma: no cover
    import libcst as cst

    from .context import FileContext
    from .rule import Rule

# libcst (a fifth of a second to import) and everything built on it are
# imported only when some rule's triggers match a file: a run over files no
# rule can match (most pre-commit runs) never loads it.


# -- rule dispatch tables ------------------------------------------------------
_HANDLER_NAMES: Dict[Type[Rule], List[Tuple[Type[cst.CSTNode], str, bool]]] = {}


def _handler_names(rule_class: Type[Rule]) -> List[Tuple[Type[cst.CSTNode], str, bool]]:
    names = _HANDLER_NAMES.get(rule_class)
    if names is None:
        import libcst as cst

        names = []
        for attr in dir(rule_class):
            for prefix, leave in (("visit_", False), ("leave_", True)):
                if attr.startswith(prefix):
                    node_class = getattr(cst, attr[len(prefix):], None)
                    if node_class is None:
                        raise TypeError(f"{rule_class.__name__}.{attr}: no libcst node of that name")
                    names.append((node_class, attr, leave))
        _HANDLER_NAMES[rule_class] = names
    return names


def _applies(rule: Type[Rule], version, backend: str, kinds: FrozenSet[str] = frozenset()) -> bool:
    return (
        version in rule.versions
        and (rule.backends is None or backend in rule.backends)
        and not (rule.quiet_in & kinds)
    )


# -- reading -------------------------------------------------------------------
class InvalidFile(Exception):
    """The file cannot be decoded or parsed; carries a 1-based position."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.line, self.column = line, column


_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
_LINE_BREAK = re.compile(rb"\r\n?|\n")  # CR-only files exist; CPython reads them too
_TEXT_LINE_BREAK = re.compile(r"\r\n?|\n")


def _encoding(data: bytes) -> str:
    """PEP 263: a BOM, or a coding cookie on line 1 or 2, else UTF-8."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    for number, line in enumerate(_LINE_BREAK.split(data, 2)[:2]):
        match = _COOKIE.match(line)
        if match:
            name = match.group(1).decode("ascii", "replace")
            try:
                codec = codecs.lookup(name)
            except LookupError:
                raise InvalidFile(f"cannot decode: unknown encoding {name!r}", number + 1) from None
            # rot13, base64, zlib are codecs but not text encodings:
            # bytes.decode refuses them (as CPython does for source files).
            if not getattr(codec, "_is_text_encoding", True):
                raise InvalidFile(f"cannot decode: {name!r} is not a text encoding", number + 1)
            return codec.name
        if line.strip() and not line.lstrip().startswith(b"#"):
            break  # a cookie on line 2 counts only after a comment or blank line 1
    return "utf-8"


def _position(data, offset: int) -> Tuple[int, int]:
    """1-based line and column of ``offset`` in bytes or text, counting CR,
    LF and CRLF as line breaks as Python does."""
    pattern = _LINE_BREAK if isinstance(data, bytes) else _TEXT_LINE_BREAK
    line, start = 1, 0
    for match in pattern.finditer(data, 0, offset):
        line, start = line + 1, match.end()
    return line, offset - start + 1


def source_encoding(data: bytes) -> str:
    """The codec ``decode`` uses for ``data`` ("utf-8-sig" when it has a BOM),
    for writing a fixed file back the way it came."""
    return _encoding(data)


def decode(data: bytes) -> str:
    encoding = _encoding(data)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line, column = _position(data, exc.start)
        bad = data[exc.start:exc.start + 1]  # empty when a codec blames the end of the data
        what = f"invalid byte 0x{bad[0]:02x}" if bad else "truncated data"
        raise InvalidFile(f"cannot decode as {encoding}: {what}", line, column) from None


def _nul_byte(text: str) -> Optional[InvalidFile]:
    if "\x00" not in text:
        return None
    return InvalidFile("cannot parse: source contains a NUL byte", *_position(text, text.index("\x00")))


# A long-lived process that lints the same file again and again (the editor
# server) re-parses only its changed statements (parse_cache); None: whole.
_statement_cache = None


def use_statement_cache(cache) -> None:
    """Parse through ``cache`` (a parse_cache.StatementCache) from now on; None: stop."""
    global _statement_cache
    _statement_cache = cache


def parse(text: str, reuse: bool = False) -> "cst.Module":
    """``text``'s module. ``reuse``: through the statement cache, if one is
    installed (the linted file only: an imported module read for its models
    is parsed whole, so that no node of it is also a node of the file)."""
    from .libcst_loader import load as load_libcst

    cst = load_libcst()

    problem = _nul_byte(text)
    if problem is not None:
        raise problem
    if _may_nest_deeply(text):
        # libcst's time or memory grows with the square of an expression's
        # nesting (3,000 nested brackets take gigabytes, 3,000 chained `+`
        # ten seconds); CPython refuses such code cheaply (more than 200
        # brackets, about 3,000 other levels), so let it judge first.
        problem = _python_syntax_error(text)
        if problem is not None:
            raise problem
    try:
        # On a large stack: libcst's parser recurses per level with no limit
        # of its own, and overflowing a thread's stack is a segfault.
        if reuse and _statement_cache is not None:
            return deep_stack.call(_statement_cache.parse, text, _fast_parse)
        return deep_stack.call(_fast_parse, text)
    except cst.ParserSyntaxError as exc:
        # CPython's own parser places and words syntax errors better than
        # libcst's; ask it, now that we know the file is broken.
        better = _python_syntax_error(text)
        if better is not None:
            raise better from None
        # Valid for CPython but not for libcst (newer syntax, `(x): int = 1`,
        # thousands of concatenated strings): the file is fine, our parser is not.
        raise InvalidFile(
            f"cannot parse with libcst, although Python accepts this code: {exc.message}",
            exc.raw_line, exc.raw_column + 1,
        ) from None
    except RecursionError:
        raise InvalidFile("cannot parse: code is nested too deeply") from None


def _fast_parse(text: str) -> "cst.Module":
    """``cst.parse_module`` minus two costs that buy nothing here (together
    about a third of the parse):

    - the cyclic garbage collector: the parse allocates millions of nodes and
      no reference cycles, so collections would only scan them again and again;
    - each node's ``_validate()``, run from ``__post_init__`` for every node the
      parser builds. The parser only builds valid trees; libcst's own comment
      on ``CSTNode.__post_init__`` says validation could be skipped when
      parsing. It is switched off for this call only.
    """
    import libcst as cst
    from libcst._nodes.base import CSTNode

    validate = CSTNode.__dict__.get("__post_init__")
    enabled = gc.isenabled()
    gc.disable()
    if validate is not None:
        CSTNode.__post_init__ = _no_validation
    try:
        return cst.parse_module(text)
    finally:
        if validate is not None:
            CSTNode.__post_init__ = validate
        if enabled:
            gc.enable()


def _no_validation(self) -> None:
    pass


_OPENERS = ("(", "[", "{")
_BRACKET = re.compile(r"[()\[\]{}]")


# Only an expression this long (one line, or one bracketed span) with this
# many operators can nest deep enough for libcst to take long.
_LONG = _MANY_OPERATORS = 1000
_LONG_LINE = re.compile(r"^.{%d,}" % _LONG, re.MULTILINE)
_OPERATORS = ("+", "-", "*", "/", "%", "&", "|", "^", "~", "<", ">", "@", ".", " if ", "not ", "lambda", "await ")


def _operators(chunk: str) -> int:
    return sum(chunk.count(op) for op in _OPERATORS)


def _may_nest_deeply(text: str) -> bool:
    """Could an expression nest deeper than libcst parses cheaply: more than
    200 brackets (CPython's limit), or a long line, bracketed span or run of
    backslash continuations with more than 1,000 operators? Exact for
    brackets; strings and comments only make it answer yes more often."""
    if text.count("\\\n") > _MANY_OPERATORS:
        return True
    if any(_operators(m.group()) > _MANY_OPERATORS for m in _LONG_LINE.finditer(text)):
        return True
    if sum(text.count(c) for c in _OPENERS) <= 200 and (
        len(text) <= _LONG or _operators(text) <= _MANY_OPERATORS
    ):
        return False
    depth = start = 0
    for match in _BRACKET.finditer(text):
        if match.group() in _OPENERS:
            if not depth:
                start = match.start()
            depth += 1
            if depth > 200:
                return True
        elif depth:
            depth -= 1
            if not depth and match.end() - start > _LONG and _operators(text[start:match.end()]) > _MANY_OPERATORS:
                return True
    return False


def _syntax_check(text: str) -> Optional[InvalidFile]:
    """CPython's verdict on a file that is not parsed with libcst.

    The symbol table pass parses with CPython's own parser without building
    Python AST objects, at about half the cost of ``ast.parse``. It also rejects
    a few scoping errors (a duplicate argument, ``nonlocal`` at module level)
    that parsing alone accepts, so its complaints are confirmed by the parse
    check: KM001 means the same whether or not the file was parsed.
    """
    try:
        with warnings.catch_warnings():  # the linted code's warnings: see _python_syntax_error
            warnings.simplefilter("ignore")
            symtable(text, "<linted>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return _nul_byte(text) or _python_syntax_error(text)
    return None


# CPython's parser holds the whole syntax tree: about 70 bytes of memory per
# byte of source for symtable (1.2 GB and 4 s for a 16 MB data file), more for
# ast.parse. Above this size a file no rule can match is not checked, and
# says so, rather than cost a job gigabytes.
SYNTAX_CHECK_MAX_BYTES = 4 * 1024 * 1024


def _too_large(data: bytes) -> Optional[InvalidFile]:
    if len(data) <= SYNTAX_CHECK_MAX_BYTES:
        return None
    return InvalidFile(
        f"too large to check: {len(data) / 2**20:.1f} MiB, and no rule could match it; the syntax check "
        f"stops at {SYNTAX_CHECK_MAX_BYTES / 2**20:g} MiB (exclude the file, or split it)"
    )


def _python_syntax_error(text: str) -> Optional[InvalidFile]:
    try:
        # The linted code's SyntaxWarnings (invalid escapes, `is` with a
        # literal) are not ours to print, and must not become errors under
        # -W error or PYTHONWARNINGS=error.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, "<linted>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as exc:
        return InvalidFile(f"cannot parse: {exc.msg}", exc.lineno or 1, exc.offset or 1)
    except ValueError as exc:  # NUL bytes
        return InvalidFile(f"cannot parse: {exc}")
    except (RecursionError, MemoryError):
        return InvalidFile("cannot parse: code is nested too deeply")
    return None


# -- linting -------------------------------------------------------------------
def file_decisions(data: bytes, path: str, options: LintOptions):
    """The Keras version and backend ``data`` (read from ``path``) is linted
    against, resolved as every entry point resolves them (settings.decide)."""
    from .settings import decide

    return decide(path, data, options)


def file_version(data: bytes, path: str, options: LintOptions):
    return file_decisions(data, path, options)[0].version


# When nothing decided the Keras version, a finding that the other major
# version would not give (or would word differently) says which version it
# assumed. Found by running the rules again under that version: generic, so
# no rule has to declare how its findings depend on the version.
def _other_version(version):
    return KERAS3_MEASURED if version.is_keras2 else KERAS2


def _findings_under(version, module, path: str, text: str, backend: str, rule_classes) -> Optional[set]:
    """(code, node, message) of what ``rule_classes`` report under
    ``version``; None when a rule fails there."""
    from .context import FileContext

    context = FileContext(path, text, module, version, keras_backend=backend)
    kinds = kinds_of(path)
    instances = [r(context) for r in rule_classes if _applies(r, version, backend, kinds)]
    try:
        _run(context, instances)
    except Exception:
        return None
    return {(type(i).code, id(node), message) for i in instances for node, message, _, _ in i.reports}


def lint_bytes(
    data: bytes, path: str, options: LintOptions = LintOptions(), *, prefilter: bool = True
) -> FileResult:
    """Lint one Python file's bytes. ``prefilter=False`` runs every applicable
    rule even on files without their trigger words (tests check the words with it)."""
    if not options.disable_noqa and file_is_exempt(data) is True:
        return FileResult(path)
    try:
        text = decode(data)
    except InvalidFile as exc:
        return _invalid(path, exc)
    return lint_text(text, path, options, data=data, prefilter=prefilter)


def lint_text(
    text: str,
    path: str,
    options: LintOptions = LintOptions(),
    *,
    data: Optional[bytes] = None,
    syntax_checked: bool = False,
    prefilter: bool = True,
) -> FileResult:
    """Lint decoded source. ``data`` is what the Keras version detection, the
    trigger prefilter and file-level noqa read (the raw bytes, or a notebook's
    cells before magics were neutralised); ``syntax_checked`` says the caller
    already knows CPython accepts ``text`` (flake8 does).

    Never raises (but KeyboardInterrupt): a bug outside any rule becomes a
    KM001 internal error on this file alone."""
    try:
        try:
            return _lint_text(text, path, options, data, syntax_checked, prefilter)
        except Exception as exc:
            if not _from_recursion(exc):
                raise
        # Valid but deeply nested code (thousands of chained `and`, `elif` or
        # implicitly concatenated strings): libcst's code generation and the
        # rules recurse once per level. Again, with room for that.
        return deep_stack.call_deeply_recursive(
            _lint_text, text, path, options, data, syntax_checked, prefilter, True)
    except Exception as exc:
        if _from_recursion(exc):
            result = FileResult(path)
            result.diagnostics.append(Diagnostic(
                path, 1, 1, INVALID_FILE, "cannot lint: code is nested too deeply", name=INVALID_FILE_NAME
            ))
        else:
            result = FileResult(path, internal_error=True)
            what = f": {describe_exception(exc)}; this file was not checked"
            result.diagnostics.append(internal_error(path, what))
        return result


def _from_recursion(exc: BaseException) -> bool:
    """Did ``exc`` start as a RecursionError? libcst's code generation turns
    one into a KeyError while unwinding."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, RecursionError):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def describe_exception(exc: BaseException) -> str:
    """``Type: message``, short: an exception may carry a whole syntax tree,
    whose repr is huge and itself recursive."""
    cst = sys.modules.get("libcst")  # no libcst node can be in it before libcst is loaded
    if cst is not None and any(isinstance(arg, cst.CSTNode) for arg in exc.args):
        text = ", ".join(type(a).__name__ if isinstance(a, cst.CSTNode) else "…" for a in exc.args)
    else:
        try:
            text = str(exc)
        except Exception:  # a broken __str__ must not hide the report
            text = "(message not printable)"
    if len(text) > 300:
        text = text[:300] + "…"
    return f"{type(exc).__name__}: {text}"


def _lint_text(
    text: str, path: str, options: LintOptions, data: Optional[bytes], syntax_checked: bool, prefilter: bool,
    deep: bool = False,
) -> FileResult:
    """lint_text's work; ``deep``: running with a raised recursion limit."""
    result = FileResult(path)
    if data is None:
        data = text.encode("utf-8", "surrogatepass")
    exempt = False if options.disable_noqa else file_is_exempt(data)
    if exempt is True:
        return result
    resolved, resolved_backend = file_decisions(data, path, options)
    version, backend = resolved.version, resolved_backend.backend
    codes = [code for code in registry.CODES if code in options.enabled]
    if isinstance(exempt, frozenset):
        codes = [code for code in codes if not any(code.startswith(c) for c in exempt)]
    # Only the rules whose triggers match are imported (rules/__init__.py).
    matched = codes_matching(data, codes, path) if prefilter else codes
    kinds = kinds_of(path)
    rules = [rule for rule in map(registry.load, matched) if _applies(rule, version, backend, kinds)]
    module = None
    try:
        if rules:
            module = parse(text, reuse=True)
        elif not syntax_checked:
            # Nothing here can match: no libcst parse, only CPython's much
            # cheaper syntax check, so broken files are still reported.
            problem = _too_large(data) or _syntax_check(text)
            if problem is not None:
                raise problem
    except InvalidFile as exc:
        return _invalid(path, exc)

    reports: List[Tuple["Rule", "cst.CSTNode", str, Optional[Fix], str]] = []
    if module is not None:
        from .context import FileContext
    while module is not None and rules:
        context = FileContext(path, text, module, version, keras_backend=backend)
        instances = [r(context) for r in rules]
        try:
            _run(context, instances)
        except Exception as exc:  # a bug in a rule must not stop the run
            culprit = _failing_rule(exc, instances)
            if culprit is None or (_from_recursion(exc) and not deep):
                raise  # a deep tree, not necessarily a bug: lint_text retries
            result.internal_error = True
            what = f"{describe_exception(exc)}; the other rules still ran"
            result.diagnostics.append(_internal_error(path, culprit, what))
            rules = [r for r in rules if r is not type(culprit)]
            codes = [c for c in codes if c != culprit.code]
            continue
        reports = [(rule, *report) for rule in instances for report in rule.reports]
        break

    if reports:
        # Only the reported nodes and their fixes' nodes, and the file's code
        # only up to the last of them (positions.py): PositionProvider would
        # regenerate the whole file. Loaded here: most files report nothing.
        from .positions import positions as node_positions

        wanted = [node for _, node, _, _, _ in reports]
        for _, _, _, fix, _ in reports:
            if fix is not None:
                wanted.extend(fix_nodes(fix))
        positions = node_positions(module, wanted)
        also = None  # findings that hold under the other version too
        if resolved.assumed:
            also = _findings_under(_other_version(version), module, path, text, backend,
                                   list(map(registry.load, matched))) or set()
        assumed = f"Keras {version.major} assumed: "
        for rule, node, message, fix, explanation in reports:
            where = positions[node]
            if fix is not None:
                try:
                    fix = resolve_fix(fix, positions)
                except KeyError:
                    result.internal_error = True
                    result.diagnostics.append(_internal_error(
                        path, rule, "its fix edits a node that is not in the file; the fix was dropped"))
                    fix = None
            result.diagnostics.append(
                Diagnostic(
                    path, where.start.line, where.start.column + 1, rule.code,
                    message if also is None or (rule.code, id(node), message) in also else assumed + message,
                    end_line=where.end.line, end_column=where.end.column + 1, name=rule.name, fix=fix,
                    explanation=explanation,
                )
            )
    if not options.disable_noqa:
        result.diagnostics, matches = apply_noqa(result.diagnostics, text)
        if (
            UNUSED_NOQA in options.enabled
            and not (isinstance(exempt, frozenset) and any(UNUSED_NOQA.startswith(c) for c in exempt))
            and may_hold_our_noqa(text)
        ):
            # Rules the prefilter dropped ran in effect (their triggers are
            # absent, so they cannot match): their noqa comments may be judged.
            applied = [c for c in codes if _applies(registry.load(c), version, backend, kinds)]
            ran = frozenset(applied) | {INVALID_FILE}
            result.diagnostics += unused_noqa(text, path, matches, ran, known_codes())
    result.diagnostics.sort(key=Diagnostic.sort_key)
    return result


def known_codes() -> List[str]:
    return list(ENGINE_CODES) + list(registry.CODES)


def _invalid(path: str, exc: InvalidFile) -> FileResult:
    result = FileResult(path)
    result.diagnostics.append(
        Diagnostic(path, exc.line, exc.column, INVALID_FILE, one_sentence(str(exc)), name=INVALID_FILE_NAME)
    )
    return result


def _internal_error(path: str, rule, what: str) -> Diagnostic:
    return internal_error(path, f" in rule {rule.code} ({rule.name}): {what}")


def _run(context: "FileContext", rules: Sequence["Rule"]) -> None:
    import libcst as cst

    from .walker import walk

    imports = context.imports
    visitors: Dict[type, list] = {
        cst.Import: [imports.visit_Import],
        cst.ImportFrom: [imports.visit_ImportFrom],
        cst.Assign: [imports.visit_Assign],
        cst.FunctionDef: [imports.enter_function],
        cst.Lambda: [imports.enter_function],
    }
    leavers: Dict[type, list] = {
        cst.FunctionDef: [imports.leave_function],
        cst.Lambda: [imports.leave_function],
    }
    for rule in rules:
        for node_class, attr, leave in _handler_names(type(rule)):
            (leavers if leave else visitors).setdefault(node_class, []).append(getattr(rule, attr))
    walk(context.module, visitors, leavers)


def _failing_rule(exc: BaseException, instances: Sequence[Rule]) -> Optional[Rule]:
    """The rule whose code raised, found from the traceback's frames."""
    ids = {id(r): r for r in instances}
    tb = exc.__traceback__
    culprit = None
    while tb is not None:
        candidate = tb.tb_frame.f_locals.get("self")
        if id(candidate) in ids:
            culprit = ids[id(candidate)]
        tb = tb.tb_next
    return culprit


def lint_source(
    source,
    filename: str = "<string>",
    *,
    keras_version: str = "auto",
    keras_backend: str = "auto",
    select: Optional[Sequence[str]] = None,
    ignore: Sequence[str] = (),
    disable_noqa: bool = False,
) -> List[Diagnostic]:
    """Lint Python source (str or bytes) and return its diagnostics; a
    ``filename`` ending in ``.ipynb`` lints ``source`` as a notebook.

    ``select``/``ignore`` take codes or prefixes as on the command line.
    ``keras_backend`` is ``auto`` (the file's code, $KERAS_BACKEND, keras.json,
    else tensorflow) or a backend name.
    Raises ValueError for unknown codes or an invalid ``keras_version`` /
    ``keras_backend``.
    """
    from .backends import parse_keras_backend
    from .selection import resolve_selection
    from .versions import parse_keras_version

    if keras_version != "auto":
        parse_keras_version(keras_version)
    parse_keras_backend(keras_backend)
    data = source.encode("utf-8") if isinstance(source, str) else source
    options = LintOptions(
        enabled=resolve_selection(select=select, ignore=ignore),
        keras_version=keras_version,
        keras_version_origin="keras_version=",
        disable_noqa=disable_noqa,
        keras_backend=keras_backend,
        keras_backend_origin="keras_backend=",
    )
    if filename.lower().endswith(".ipynb"):
        from .notebooks import lint_notebook

        return lint_notebook(data, filename, options).diagnostics
    return lint_bytes(data, filename, options).diagnostics
