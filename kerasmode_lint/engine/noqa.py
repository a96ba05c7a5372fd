"""``# noqa`` comments, with flake8's syntax, and KM002 unused-noqa.

``# noqa`` silences every finding on its line, ``# noqa: KM101, KM2`` only
those codes (or prefixes), case-insensitively. As in flake8, the comment after
a multi-line string covers every line from the one the string starts on. A
line ``# kerasmode-lint: noqa`` anywhere exempts the whole file
(``# kerasmode-lint: noqa: KM101`` only those codes), and so does flake8's own
``# flake8: noqa`` (flake8 ignores that one when it names codes, and so do we).

KM002 reports a ``# noqa: KM…`` whose KM codes silenced nothing. A code counts
as unused only when every rule it names ran on the file: a rule that is
deselected, per-file-ignored or outside the file's Keras version may still
need the comment in another configuration (the editor's, CI's, the next Keras
release), so such codes are left alone. Other tools' codes and bare ``# noqa``
are never reported.
"""
from __future__ import annotations

import re
import tokenize
from typing import Dict, FrozenSet, Iterable, List, Optional, Set, Tuple, Union

from .diagnostics import INVALID_FILE, UNUSED_NOQA, UNUSED_NOQA_NAME, Diagnostic
from .lines import split_lines, split_lines_keepends

# flake8's pattern: codes separated by commas and/or spaces after "noqa:".
NOQA = re.compile(
    r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?",
    re.IGNORECASE,
)
_FILE_NOQA = re.compile(
    rb"^[ \t]*#[ \t]*kerasmode-lint:[ \t]*noqa(?::[ \t]*(?P<codes>[A-Za-z0-9, \t]+))?[ \t]*\r?$",
    re.IGNORECASE | re.MULTILINE,
)
# flake8's file-level comment: a line of its own, no codes.
_FLAKE8_FILE_NOQA = re.compile(rb"^[ \t]*#[ \t]*flake8[:=][ \t]*noqa[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)
_CODE_SPLIT = re.compile(r"[,\s]+")
_OUR_CODE = re.compile(r"\bKM\d", re.IGNORECASE)
# Starts with a literal "#" so the regex engine can skip ahead fast (a
# case-insensitive "noqa" alone is 15 times slower).
_ANY_NOQA = re.compile(r"#\s*noqa", re.IGNORECASE)


def parse_codes(text: str) -> FrozenSet[str]:
    return frozenset(c.upper() for c in _CODE_SPLIT.split(text.strip()) if c)


def file_is_exempt(data: bytes) -> Union[bool, FrozenSet[str]]:
    """True (whole file), a set of codes, or False. Works on raw bytes: a
    cheap check before anything is decoded or parsed."""
    # Substring checks first (the spellings people write): a regex over
    # every file would cost more than the rest of a cached run.
    if (b"flake8" in data or b"FLAKE8" in data or b"Flake8" in data) and _FLAKE8_FILE_NOQA.search(data):
        return True
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


Matches = Dict[int, Set[str]]  # line -> codes of the findings a code list silenced


def apply_noqa(diagnostics: List[Diagnostic], text: str) -> Tuple[List[Diagnostic], Matches]:
    """The diagnostics no noqa comment silences, and what each line's code
    list silenced (for KM002)."""
    matches: Matches = {}
    if not diagnostics or not _ANY_NOQA.search(text):
        return diagnostics, matches
    lines = split_lines(text)
    spans: Optional[Dict[int, Tuple[int, int]]] = None
    kept = []
    for diag in diagnostics:
        if diag.code == INVALID_FILE or diag.line > len(lines):
            kept.append(diag)
            continue
        comment_line = diag.line
        noqa = line_noqa(lines[diag.line - 1])
        if noqa is None:
            if spans is None:
                spans = multiline_string_spans(text)
            first, last = spans.get(diag.line, (diag.line, diag.line))
            for candidate in range(first, last + 1):
                noqa = line_noqa(lines[candidate - 1])
                if noqa is not None:
                    comment_line = candidate
                    break
        if noqa is True:
            continue
        if noqa and any(diag.code.startswith(code) for code in noqa):
            matches.setdefault(comment_line, set()).add(diag.code)
            continue
        kept.append(diag)
    return kept, matches


def multiline_string_spans(text: str) -> Dict[int, Tuple[int, int]]:
    """line -> (first, last) for the physical lines flake8 reads as one when
    it looks for a noqa comment: those joined by a token that spans lines
    (a multi-line string). Other lines are absent."""
    if '"""' not in text and "'''" not in text and "\\\n" not in text:
        return {}
    spans: Dict[int, Tuple[int, int]] = {}
    lines = iter(split_lines_keepends(text))
    first = last = None
    try:
        for token in tokenize.generate_tokens(lambda: next(lines, "")):
            if token.type in (tokenize.ENDMARKER, tokenize.DEDENT):
                continue
            first = token.start[0] if first is None else min(first, token.start[0])
            last = token.end[0] if last is None else max(last, token.end[0])
            if token.type in (tokenize.NL, tokenize.NEWLINE):
                if last > first:
                    for line in range(first, last + 1):
                        spans[line] = (first, last)
                first = last = None
    except (tokenize.TokenError, SyntaxError):  # the file parsed, so hardly ever
        pass
    return spans


def filter_noqa(diagnostics: List[Diagnostic], text: str) -> List[Diagnostic]:
    return apply_noqa(diagnostics, text)[0]


def may_hold_our_noqa(text: str) -> bool:
    """Cheap test before KM002 tokenizes anything."""
    return any(
        match.group("codes") and _OUR_CODE.search(match.group("codes")) for match in NOQA.finditer(text)
    )


def _comment_directives(text: str) -> Iterable[Tuple[int, int, str, "re.Match[str]"]]:
    """(line, column of the comment, comment text, noqa match) for noqa
    comments with codes; real comments only, never text inside strings."""
    lines = iter(split_lines_keepends(text))
    try:
        for token in tokenize.generate_tokens(lambda: next(lines, "")):
            if token.type == tokenize.COMMENT:
                match = NOQA.search(token.string)
                if match is not None and match.group("codes"):
                    yield token.start[0], token.start[1], token.string, match
    except (tokenize.TokenError, SyntaxError):  # the file parsed, so hardly ever
        return


def unused_noqa(
    text: str,
    path: str,
    matches: Matches,
    ran: FrozenSet[str],
    known: Iterable[str],
) -> List[Diagnostic]:
    """KM002 for each noqa comment naming KM codes that silenced nothing.

    ``ran``: the codes whose rules ran on the file; ``known``: every code.
    """
    from .fixes import Fix

    known = tuple(known)
    found: List[Diagnostic] = []
    lines: Optional[List[str]] = None
    for line, column, comment, match in _comment_directives(text):
        spelled = [c for c in _CODE_SPLIT.split(match.group("codes")) if c]
        ours = [c for c in spelled if c.upper().startswith("KM")]
        if not ours or any(UNUSED_NOQA.startswith(c.upper()) for c in ours):
            continue  # not ours, or explicitly keeps KM002 quiet
        silenced = matches.get(line, set())
        unused, unknown = [], []
        for code in ours:
            upper = code.upper()
            covered = [k for k in known if k.startswith(upper)]
            if not covered:
                unknown.append(code)
            elif all(k in ran for k in covered) and not any(s.startswith(upper) for s in silenced):
                unused.append(code)
        if not unused and not unknown:
            continue
        if lines is None:
            lines = split_lines(text)
        start = column + match.start()
        end = column + match.end()
        edit = _removal(lines[line - 1], line, start, end, column + match.start("codes"),
                        [c for c in spelled if c not in unused and c not in unknown])
        parts = []
        if unused:
            parts.append("unused: " + ", ".join(f"`{c}`" for c in unused))
        if unknown:
            parts.append("unknown: " + ", ".join(f"`{c}`" for c in unknown))
        found.append(
            Diagnostic(
                path, line, start + 1, UNUSED_NOQA,
                f"Unused `noqa` directive ({'; '.join(parts)})",
                end_line=line, end_column=end + 1, name=UNUSED_NOQA_NAME,
                fix=Fix.safe("Remove the unused codes" if edit.content else "Remove the `noqa` directive", [edit]),
            )
        )
    return found


def _removal(text: str, line: int, start: int, end: int, codes_start: int, remaining: List[str]):
    """The edit that drops unused codes from a directive spanning
    ``text[start:end]`` (0-based), or the whole directive if none remain."""
    from .fixes import Edit

    if remaining:
        return Edit(line, codes_start + 1, line, end + 1, ", ".join(remaining))
    if text[end:].strip():
        # Words follow the directive ("# noqa: KM101 reason"): keep them a comment.
        return Edit(line, start + 1, line, end + 1, "#")
    cut = start
    while cut > 0 and text[cut - 1] in " \t":
        cut -= 1
    return Edit(line, cut + 1, line, len(text) + 1, "")
