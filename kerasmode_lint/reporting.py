"""Turning diagnostics into output: text, JSON, SARIF, GitHub annotations,
statistics. The one place that knows how a Diagnostic looks as text.

Positions are 1-based everywhere. In a notebook, ``line`` counts within the
cell and ``cell`` is the cell's 1-based position among all cells.
"""
from __future__ import annotations

import json
import os
import re
from collections import Counter
from typing import Dict, Iterable, List, Optional, Sequence, TextIO

from . import __version__
from .diagnostics import ENGINE_CODES, INVALID_FILE, Diagnostic

FORMATS = ("text", "json", "sarif", "github")
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
# Control characters (C0, DEL, C1), line and paragraph separators and bidi
# overrides: printed raw, a file name with a newline could forge a finding
# line and a message could send terminal escapes. (The bytes of a file name
# that is not UTF-8 are printed as they are, so the name can be copied.)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escaped(match: "re.Match[str]") -> str:
    char = match.group(0)
    return repr(char)[1:-1] if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def escape_control(text: str) -> str:
    """``text`` with every control character written as a Python escape (``\\n``, ``\\x1b``)."""
    return _CONTROL.sub(_escaped, text) if _CONTROL.search(text) else text


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


def as_dict(diag: Diagnostic) -> dict:
    """One finding in the stable JSON schema (see the README)."""
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
    return {
        "code": diag.code,
        "name": diag.name,
        "message": diag.message,
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


def json_report(diagnostics: Iterable[Diagnostic]) -> str:
    return json.dumps([as_dict(d) for d in diagnostics], indent=2, ensure_ascii=False) + "\n"


# -- SARIF ----------------------------------------------------------------------
def _catalogue() -> List[dict]:
    from .pages import page_text
    from .rules import ALL_RULES

    entries = [(code, name, summary) for code, (name, summary) in ENGINE_CODES.items()]
    entries += [(r.code, r.name, r.summary) for r in ALL_RULES]
    rules = []
    for code, name, summary in entries:
        page = page_text(code) or f"# {code} {name}\n\n{summary}\n"
        rules.append({
            "id": code,
            "name": name,
            "shortDescription": {"text": summary},
            "fullDescription": {"text": summary},
            "help": {"text": page, "markdown": page},
            "defaultConfiguration": {"level": "error" if code == INVALID_FILE else "warning"},
        })
    return rules


def _uri(path: str) -> str:
    """A URI reference for ``path``: its bytes as the file system has them
    (a name that is not UTF-8 keeps its bytes), percent-encoded (RFC 3986)."""
    from urllib.parse import quote  # SARIF only (it loads ipaddress)

    encoded = quote(os.fsencode(path.replace(os.sep, "/")))
    return "file://" + encoded if os.path.isabs(path) else encoded


def sarif_report(diagnostics: Iterable[Diagnostic]) -> str:
    """SARIF 2.1.0 for GitHub code scanning: one run, every code with its page
    as help, one result per finding. Notebook findings carry the cell in
    ``properties.cell`` and their message; the region counts within the cell."""
    rules = _catalogue()
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
        if diag.fix is not None and not diag.cell:
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


def report(diagnostics: Sequence[Diagnostic], output_format: str, style: Style = PLAIN) -> str:
    if output_format == "json":
        return json_report(diagnostics)
    if output_format == "sarif":
        return sarif_report(diagnostics)
    if output_format == "github":
        return github_report(diagnostics)
    return text_report(diagnostics, style)


# -- statistics and summary ---------------------------------------------------------
def statistics(diagnostics: Sequence[Diagnostic], unsafe: bool) -> List[dict]:
    """Per code: how many findings and how many a fix run would repair."""
    counts: Counter = Counter(d.code for d in diagnostics)
    fixable: Counter = Counter(d.code for d in diagnostics if d.fix is not None and d.fix.applies(unsafe))
    names: Dict[str, str] = {d.code: d.name for d in diagnostics}
    return [
        {"code": code, "name": names[code], "count": count, "fixable": fixable[code]}
        for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def statistics_report(diagnostics: Sequence[Diagnostic], output_format: str, unsafe: bool) -> str:
    rows = statistics(diagnostics, unsafe)
    if output_format == "json":
        return json.dumps(rows, indent=2) + "\n"
    width = max((len(str(r["count"])) for r in rows), default=1)
    return "".join(
        f"{r['count']:>{width}}  {r['code']}  {r['name']}"
        + (f"  ({r['fixable']} fixable)" if r["fixable"] else "") + "\n"
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

