"""``# noqa`` comments, with flake8's syntax.

``# noqa`` silences every finding on its line, ``# noqa: KM101, KM2`` only
those codes (or prefixes), case-insensitively. A line
``# kerasmode-lint: noqa`` anywhere exempts the whole file
(``# kerasmode-lint: noqa: KM101`` only those codes).
"""
from __future__ import annotations

import re
from typing import FrozenSet, List, Union

from .diagnostics import INVALID_FILE, Diagnostic

# flake8's pattern: codes separated by commas and/or spaces after "noqa:".
NOQA = re.compile(
    r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?",
    re.IGNORECASE,
)
_FILE_NOQA = re.compile(
    rb"^[ \t]*#[ \t]*kerasmode-lint:[ \t]*noqa(?::[ \t]*(?P<codes>[A-Za-z0-9, \t]+))?[ \t]*\r?$",
    re.IGNORECASE | re.MULTILINE,
)
_CODE_SPLIT = re.compile(r"[,\s]+")


def parse_codes(text: str) -> FrozenSet[str]:
    return frozenset(c.upper() for c in _CODE_SPLIT.split(text.strip()) if c)


def file_is_exempt(data: bytes) -> Union[bool, FrozenSet[str]]:
    """True (whole file), a set of codes, or False. Works on raw bytes: a
    cheap check before anything is decoded or parsed."""
    if b"kerasmode-lint" not in data:
        return False
    match = _FILE_NOQA.search(data)
    if match is None:
        return False
    if match.group("codes"):
        return parse_codes(match.group("codes").decode("ascii"))
    return True


def line_noqa(line: str) -> Union[None, bool, FrozenSet[str]]:
    """None (no noqa), True (bare noqa) or the codes named."""
    match = NOQA.search(line)
    if match is None:
        return None
    codes = match.group("codes")
    return parse_codes(codes) if codes else True


def filter_noqa(diagnostics: List[Diagnostic], text: str) -> List[Diagnostic]:
    if "noqa" not in text.lower():
        return diagnostics
    lines = text.splitlines()
    kept = []
    for diag in diagnostics:
        if diag.code == INVALID_FILE or diag.line > len(lines):
            kept.append(diag)
            continue
        noqa = line_noqa(lines[diag.line - 1])
        if noqa is True:
            continue
        if noqa and any(diag.code.startswith(code) for code in noqa):
            continue
        kept.append(diag)
    return kept
