"""Turning diagnostics into output: concise text (flake8 lines), full text
(with the explanation and a code frame), JSON, SARIF, GitHub annotations,
pylint lines, JUnit XML, GitLab Code Quality, statistics. The one place that
knows how a Diagnostic looks as text.

Positions are 1-based everywhere. In a notebook, ``line`` counts within the
cell and ``cell`` is the cell's 1-based position among all cells.
"""
from __future__ import annotations

import json
import os
import textwrap
from collections import Counter
from typing import Callable, Dict, Iterable, List, Optional, Sequence, TextIO

from .. import __version__
from ..engine.diagnostics import ENGINE_CODES, INVALID_FILE, Diagnostic
from ..engine.safe_io import escape_control

# "text" is the old name of "concise", kept as an alias.
FORMATS = ("concise", "text", "full", "json", "sarif", "github", "pylint", "junit", "gitlab")
TEXT_FORMATS = ("concise", "text", "full")
# path -> the file's lines (None when it cannot be read), for code frames.
SourceLines = Callable[[str], Optional[List[str]]]
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


# -- colour -------------------------------------------------------------------
def use_colour(mode: str, stream: TextIO) -> bool:
    """``--color``: always/never, or auto = a terminal, unless NO_COLOR is set
    (https://no-color.org: a flag on the command line still wins)."""
    if mode == "always":
        return True
    if mode == "never" or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Style:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled else text

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def red(self, text: str) -> str:
        return self._wrap("1;31", text)

    def green(self, text: str) -> str:
        return self._wrap("32", text)

    def removed(self, text: str) -> str:
        return self._wrap("31", text)

    def cyan(self, text: str) -> str:
        return self._wrap("36", text)


PLAIN = Style(False)


# -- text -----------------------------------------------------------------------
def position(diag: Diagnostic) -> str:
    """``line:col``, or ``cell_N:line:col`` in a notebook."""
    cell = f"cell_{diag.cell}:" if diag.cell else ""
    return f"{cell}{diag.line}:{diag.column}"


def format_text(diag: Diagnostic, style: Style = PLAIN) -> str:
    """flake8's line, ``path:line:col: CODE message`` (``path:cell_N:line:col:``
    in a notebook)."""
    return (f"{style.bold(escape_control(diag.path))}:{position(diag)}: "
            f"{style.red(diag.code)} {escape_control(diag.message)}")


def text_report(diagnostics: Iterable[Diagnostic], style: Style = PLAIN) -> str:
    return "".join(format_text(d, style) + "\n" for d in diagnostics)


# -- JSON -----------------------------------------------------------------------
def doc_reference(code: str) -> str:
    """Where a code is documented: its page, also printed by ``--explain``."""
    return f"rules/{code}.md"


def rule_url(code: str, base: Optional[str]) -> Optional[str]:
    """A code's page under the documentation base URL: ``{code}`` in the base
    is replaced, else ``/KM101.md`` is appended. None when no base is known."""
    if not base:
        return None
    if "{code}" in base:
        return base.replace("{code}", code)
    return f"{base.rstrip('/')}/{code}.md"


def documentation_base() -> Optional[str]:
    """The ``Documentation`` URL of the installed package's metadata
    (``[project.urls]`` in pyproject.toml), or None."""
    try:
        from importlib.metadata import PackageNotFoundError, metadata
    except ImportError:  # pragma: no cover
        return None
    try:
        urls = metadata("kerasmode-lint").get_all("Project-URL") or []
    except PackageNotFoundError:
        return None
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() in ("documentation", "docs") and url.strip():
            return url.strip().rstrip("/") + "/rules"
    return None


def as_dict(diag: Diagnostic, doc_base: Optional[str] = None) -> dict:
    """One finding in the stable JSON schema (see the README); ``url`` only
    when a documentation base URL is known."""
    fix = None
    if diag.fix is not None:
        fix = {
            "applicability": diag.fix.applicability,
            "message": diag.fix.message,
            "edits": [
                {
                    "content": e.content,
                    "cell": e.cell or None,
                    "line": e.line,
                    "column": e.column,
                    "end_line": e.end_line,
                    "end_column": e.end_column,
                }
                for e in diag.fix.edits
            ],
        }
    found = {
        "code": diag.code,
        "name": diag.name,
        "message": diag.message,
        "explanation": diag.explanation or None,
        "severity": diag.severity,
        "path": diag.path,
        "cell": diag.cell or None,
        "line": diag.line,
        "column": diag.column,
        "end_line": diag.end_line or diag.line,
        "end_column": diag.end_column or diag.column,
        "doc": doc_reference(diag.code),
        "fix": fix,
    }
    url = rule_url(diag.code, doc_base)
    if url:
        found["url"] = url
    return found


def json_report(diagnostics: Iterable[Diagnostic], doc_base: Optional[str] = None) -> str:
    return json.dumps([as_dict(d, doc_base) for d in diagnostics], indent=2, ensure_ascii=False) + "\n"


# -- SARIF ----------------------------------------------------------------------
def _catalogue(doc_base: Optional[str] = None) -> List[dict]:
    from ..engine.pages import page_text
    from ..rules import ALL_RULES

    entries = [(code, name, summary) for code, (name, summary) in ENGINE_CODES.items()]
    entries += [(r.code, r.name, r.summary) for r in ALL_RULES]
    rules = []
    for code, name, summary in entries:
        page = page_text(code) or f"# {code} {name}\n\n{summary}\n"
        rule = {
            "id": code,
            "name": name,
            "shortDescription": {"text": summary},
            "fullDescription": {"text": summary},
            "help": {"text": page, "markdown": page},
            "defaultConfiguration": {"level": "error" if code == INVALID_FILE else "warning"},
        }
        url = rule_url(code, doc_base)
        if url:
            rule["helpUri"] = url
        rules.append(rule)
    return rules


def _uri(path: str) -> str:
    """A URI reference for ``path``: its bytes as the file system has them
    (a name that is not UTF-8 keeps its bytes), percent-encoded (RFC 3986)."""
    from urllib.parse import quote  # SARIF only (it loads ipaddress)

    encoded = quote(os.fsencode(path.replace(os.sep, "/")))
    return "file://" + encoded if os.path.isabs(path) else encoded


def sarif_report(diagnostics: Iterable[Diagnostic], doc_base: Optional[str] = None) -> str:
    """SARIF 2.1.0 for GitHub code scanning: one run, every code with its page
    as help, one result per finding. Notebook findings carry the cell in
    ``properties.cell`` and their message; the region counts within the cell."""
    rules = _catalogue(doc_base)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results = []
    for diag in diagnostics:
        region = {"startLine": diag.line, "startColumn": diag.column}
        if diag.end_line:
            region.update(endLine=diag.end_line, endColumn=diag.end_column)
        result = {
            "ruleId": diag.code,
            "ruleIndex": index[diag.code],
            "level": diag.severity,
            "message": {"text": f"cell {diag.cell}: {diag.message}" if diag.cell else diag.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": _uri(diag.path)},
                "region": region,
            }}],
        }
        if diag.cell:
            result["properties"] = {"cell": diag.cell}
        if diag.fix is not None:
            if diag.cell:
                # SARIF regions cannot name a cell: each edit's cell rides along.
                result["properties"]["fixCells"] = [e.cell or diag.cell for e in diag.fix.edits]
            result["fixes"] = [{
                "description": {"text": f"{diag.fix.message} ({diag.fix.applicability})"},
                "artifactChanges": [{
                    "artifactLocation": {"uri": _uri(diag.path)},
                    "replacements": [{
                        "deletedRegion": {"startLine": e.line, "startColumn": e.column,
                                          "endLine": e.end_line, "endColumn": e.end_column},
                        "insertedContent": {"text": e.content},
                    } for e in diag.fix.edits],
                }],
            }]
        results.append(result)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "kerasmode-lint",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


# -- GitHub Actions ---------------------------------------------------------------
def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_report(diagnostics: Iterable[Diagnostic]) -> str:
    """Workflow commands, shown inline on pull requests. GitHub cannot place
    a line inside a notebook cell, so notebook findings name the file only and
    carry ``cell_N:line:col`` in the message."""
    out = []
    for diag in diagnostics:
        properties = [f"file={_escape_property(diag.path)}"]
        message = diag.message
        if diag.cell:
            message = f"{position(diag)}: {message}"
        else:
            properties += [f"line={diag.line}", f"col={diag.column}"]
            if diag.end_line:
                properties += [f"endLine={diag.end_line}", f"endColumn={diag.end_column}"]
        properties.append(f"title={_escape_property(f'{diag.code} {diag.name}'.strip())}")
        out.append(f"::{diag.severity} {','.join(properties)}::{_escape_data(message)}\n")
    return "".join(out)


# -- full text: message, explanation, code frame ---------------------------------
FRAME_CONTEXT = 2  # lines shown above and below the reported span, as ruff does


def code_frame(diag: Diagnostic, lines: Optional[List[str]], style: Style = PLAIN) -> str:
    """The reported lines with a gutter and the span underlined (``^``), or
    "" when the source is not at hand (a notebook cell, an unreadable file)."""
    if not lines or diag.cell or not 1 <= diag.line <= len(lines):
        return ""
    end_line = min(max(diag.end_line or diag.line, diag.line), len(lines))
    first, last = max(1, diag.line - FRAME_CONTEXT), min(len(lines), end_line + FRAME_CONTEXT)
    width = len(str(last))
    gutter = " " * width + " |"
    out = [style.cyan(gutter)]
    for number in range(first, last + 1):
        text = lines[number - 1].rstrip("\r\n").expandtabs(1)
        out.append(f"{style.cyan(f'{number:>{width}} |')} {text}".rstrip())
        if diag.line <= number <= end_line:
            start = diag.column - 1 if number == diag.line else len(text) - len(text.lstrip())
            if number == end_line and diag.end_column:
                stop = diag.end_column - 1
            else:
                stop = len(text)
            stop = max(stop, start + 1)
            marks = " " * start + "^" * (stop - start)
            if number == end_line:
                marks += f" {diag.code}"
            out.append(f"{style.cyan(gutter)} {style.red(marks)}")
    out.append(style.cyan(gutter))
    return "\n".join(out) + "\n"


EXPLANATION_WIDTH = 88


def _wrapped(text: str) -> List[str]:
    """The explanation's lines, each wrapped at EXPLANATION_WIDTH (code spans
    in backticks may still be split at their spaces, never inside a word)."""
    out: List[str] = []
    for line in text.rstrip().splitlines():
        out += textwrap.wrap(line, EXPLANATION_WIDTH, break_long_words=False, break_on_hyphens=False) or [""]
    return out


def full_report(diagnostics: Iterable[Diagnostic], source_lines: SourceLines, style: Style = PLAIN,
                doc_base: Optional[str] = None) -> str:
    """Like ``ruff check --output-format full``: each finding's line, its
    explanation, the code with the span underlined, and where to read more."""
    out = []
    cache: Dict[str, Optional[List[str]]] = {}
    for diag in diagnostics:
        if diag.path not in cache:
            cache[diag.path] = source_lines(diag.path)
        block = [format_text(diag, style)]
        if diag.explanation:
            block += ["", *_wrapped(diag.explanation)]
        frame = code_frame(diag, cache[diag.path], style)
        if frame:
            block += ["", frame.rstrip("\n")]
        block.append("")
        where = rule_url(diag.code, doc_base) or f"kerasmode-lint --explain {diag.code}"
        block.append(f"  = help: {where}")
        out.append("\n".join(block) + "\n\n")
    return "".join(out)


# -- pylint, JUnit, GitLab -----------------------------------------------------------
def pylint_report(diagnostics: Iterable[Diagnostic]) -> str:
    """``path:line: [CODE] message``, pylint's parseable lines (as ruff prints them)."""
    return "".join(
        f"{d.path}:{(f'cell_{d.cell}:' if d.cell else '')}{d.line}: [{d.code}] {d.message}\n"
        for d in diagnostics
    )


def junit_report(diagnostics: Sequence[Diagnostic]) -> str:
    """JUnit XML for CI test viewers: one suite per file, one failed test case
    per finding."""
    from xml.sax.saxutils import escape, quoteattr

    by_path: Dict[str, List[Diagnostic]] = {}
    for diag in diagnostics:
        by_path.setdefault(diag.path, []).append(diag)
    total = len(diagnostics)
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<testsuites name="kerasmode-lint" tests="{total}" failures="{total}" errors="0">']
    for path, found in by_path.items():
        out.append(f'  <testsuite name={quoteattr(path)} tests="{len(found)}" failures="{len(found)}" errors="0">')
        for diag in found:
            where = f"{('cell ' + str(diag.cell) + ', ') if diag.cell else ''}line {diag.line}, col {diag.column}"
            out.append(f'    <testcase name={quoteattr("kerasmode-lint." + diag.code)} '
                       f'classname={quoteattr(path)} line="{diag.line}" column="{diag.column}">')
            out.append(f'      <failure message={quoteattr(diag.message)}>{escape(where)}, '
                       f'{escape(diag.message)}</failure>')
            out.append("    </testcase>")
        out.append("  </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out) + "\n"


def gitlab_report(diagnostics: Sequence[Diagnostic]) -> str:
    """GitLab Code Quality JSON. The fingerprint hashes the path, the code,
    the message and how many equal findings came before it in the file, not
    the line, so a finding keeps its identity when code above it moves."""
    import hashlib

    seen: Counter = Counter()
    issues = []
    for diag in diagnostics:
        path = os.path.relpath(diag.path) if os.path.isabs(diag.path) else diag.path
        path = path.replace(os.sep, "/")
        key = (path, diag.code, diag.message)
        seen[key] += 1
        fingerprint = hashlib.sha256("\0".join([*key, str(seen[key])]).encode("utf-8")).hexdigest()
        description = f"cell {diag.cell}: {diag.message}" if diag.cell else diag.message
        issues.append({
            "description": f"{diag.code} {description}",
            "check_name": diag.code,
            "fingerprint": fingerprint,
            "severity": "blocker" if diag.code == INVALID_FILE else "major",
            "location": {"path": path, "lines": {"begin": diag.line, "end": diag.end_line or diag.line}},
        })
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"


def _no_sources(path: str) -> Optional[List[str]]:
    return None


def report(diagnostics: Sequence[Diagnostic], output_format: str, style: Style = PLAIN,
           source_lines: SourceLines = _no_sources, doc_base: Optional[str] = None) -> str:
    if output_format == "json":
        return json_report(diagnostics, doc_base)
    if output_format == "sarif":
        return sarif_report(diagnostics, doc_base)
    if output_format == "github":
        return github_report(diagnostics)
    if output_format == "pylint":
        return pylint_report(diagnostics)
    if output_format == "junit":
        return junit_report(diagnostics)
    if output_format == "gitlab":
        return gitlab_report(diagnostics)
    if output_format == "full":
        return full_report(diagnostics, source_lines, style, doc_base)
    return text_report(diagnostics, style)


# -- statistics and summary ---------------------------------------------------------
def statistics(diagnostics: Sequence[Diagnostic], unsafe: bool) -> List[dict]:
    """Per code: how many findings, how many a fix run would repair, and how
    many more only ``--unsafe-fixes`` would (0 when it is given)."""
    counts: Counter = Counter(d.code for d in diagnostics)
    fixable: Counter = Counter(d.code for d in diagnostics if d.fix is not None and d.fix.applies(unsafe))
    unsafe_only: Counter = Counter(
        d.code for d in diagnostics if d.fix is not None and d.fix.applies(True) and not d.fix.applies(unsafe)
    )
    names: Dict[str, str] = {d.code: d.name for d in diagnostics}
    return [
        {"code": code, "name": names[code], "count": count, "fixable": fixable[code],
         "unsafe_fixable": unsafe_only[code]}
        for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def statistics_report(diagnostics: Sequence[Diagnostic], output_format: str, unsafe: bool) -> str:
    rows = statistics(diagnostics, unsafe)
    if output_format == "json":
        return json.dumps(rows, indent=2) + "\n"
    width = max((len(str(r["count"])) for r in rows), default=1)
    return "".join(
        f"{r['count']:>{width}}  {r['code']}  {r['name']}"
        + (f"  ({r['fixable']} fixable)" if r["fixable"] else "")
        + (f"  ({r['unsafe_fixable']} fixable with --unsafe-fixes)" if r["unsafe_fixable"] else "") + "\n"
        for r in rows
    )


def colour_diff(diff: str, style: Style) -> str:
    if not style.enabled:
        return diff
    out = []
    for line in diff.splitlines(keepends=True):
        if line.startswith(("+++", "---")):
            out.append(style.bold(line.rstrip("\n")) + "\n")
        elif line.startswith("+"):
            out.append(style.green(line.rstrip("\n")) + "\n")
        elif line.startswith("-"):
            out.append(style.removed(line.rstrip("\n")) + "\n")
        elif line.startswith("@@"):
            out.append(style.cyan(line.rstrip("\n")) + "\n")
        else:
            out.append(line)
    return "".join(out)


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def fixable_hint(diagnostics: Sequence[Diagnostic], unsafe: bool) -> Optional[str]:
    safe = sum(1 for d in diagnostics if d.fix is not None and d.fix.is_safe)
    risky = sum(1 for d in diagnostics if d.fix is not None and not d.fix.is_safe)
    if unsafe:
        total = safe + risky
        return f"{plural(total, 'problem')} fixable with `--fix --unsafe-fixes`." if total else None
    if safe and risky:
        return f"{safe} fixable with `--fix`; {risky} more with `--fix --unsafe-fixes`."
    if safe:
        return f"{safe} fixable with `--fix`."
    if risky:
        return (f"{risky} fixable with `--fix --unsafe-fixes` "
                "(unsafe fixes change run-time behaviour: review them).")
    return None


def write(stream: TextIO, text: str) -> None:
    if text:
        stream.write(text)
        stream.flush()

