"""Physical lines as Python (and libcst) count them.

``str.splitlines`` also breaks on form feeds, ``\\x1c``-``\\x1e`` and Unicode
line separators, which Python source does not: using it would shift every
line after such a character. Only ``\\r\\n``, ``\\r`` and ``\\n`` end a line.
"""
from __future__ import annotations

import re
from typing import List

LINE_BREAK = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> List[str]:
    """The lines without their endings (a trailing newline gives a last '')."""
    return LINE_BREAK.split(text)


def split_lines_keepends(text: str) -> List[str]:
    """The lines with their endings; ''.join() gives ``text`` back."""
    out, start = [], 0
    for match in LINE_BREAK.finditer(text):
        out.append(text[start:match.end()])
        start = match.end()
    if start < len(text):
        out.append(text[start:])
    return out


def line_starts(text: str) -> List[int]:
    """Offset of the first character of each line (index 0 = line 1)."""
    return [0] + [match.end() for match in LINE_BREAK.finditer(text)]


def dominant_newline(text: str) -> str:
    """The file's own line ending, for text a fix inserts."""
    match = LINE_BREAK.search(text)
    return match.group() if match else "\n"
