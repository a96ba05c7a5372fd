"""Positions between the linter and an editor, and the editor's text changes.

The linter counts lines as Python does (only ``\\r\\n``, ``\\r`` and ``\\n``
end one, as in the Language Server Protocol) and columns in characters
(code points), 1-based. An LSP position is 0-based and counts its column in
the negotiated encoding's units: UTF-16 code units by default, bytes for
UTF-8, code points for UTF-32. An emoji is one character, two UTF-16 units
and four UTF-8 bytes. Needs nothing but the standard library.
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

from ...engine.lines import line_starts

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"
ENCODINGS = (UTF8, UTF16, UTF32)


def choose_encoding(offered: Optional[Sequence[str]]) -> str:
    """The position encoding to use: the client's first choice among the
    ones it offers; UTF-16 when it offers none (the protocol's default)."""
    for name in offered or ():
        if name in ENCODINGS:
            return name
    return UTF16


def _units(text: str, encoding: str) -> int:
    if encoding == UTF32:
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _characters(line: str, units: int, encoding: str) -> int:
    """How many characters of ``line`` the first ``units`` units cover (a
    position inside a character counts as that character's start)."""
    if encoding == UTF32:
        return min(units, len(line))
    count = 0
    for index, char in enumerate(line):
        width = _units(char, encoding)
        if count + width > units:
            return index
        count += width
    return len(line)


class Lines:
    """A text's lines, for converting positions both ways."""

    def __init__(self, text: str, encoding: str = UTF16) -> None:
        self.text, self.encoding = text, encoding
        self.starts = line_starts(text)

    def line_text(self, index: int) -> str:
        """Line ``index`` (0-based) without its ending; '' past the end."""
        if not 0 <= index < len(self.starts):
            return ""
        begin = self.starts[index]
        if index + 1 == len(self.starts):
            return self.text[begin:]
        end = self.starts[index + 1]
        return self.text[begin:end - (2 if self.text.startswith("\r\n", max(end - 2, begin)) else 1)]

    def to_client(self, line: int, column: int) -> Tuple[int, int]:
        """A linter position (1-based line, 1-based character column) as an
        LSP (line, character) in this encoding, clamped to the text."""
        index = min(max(line, 1), len(self.starts)) - 1
        text = self.line_text(index)
        characters = min(max(column - 1, 0), len(text))
        return index, _units(text[:characters], self.encoding)

    def offset(self, line: int, character: int) -> int:
        """The text offset of an LSP position (clamped, as the protocol asks:
        a character past the line's end means its end; a line past the
        text's end means the end of the text)."""
        if line >= len(self.starts):
            return len(self.text)
        text = self.line_text(max(line, 0))
        return self.starts[max(line, 0)] + _characters(text, max(character, 0), self.encoding)

    def to_linter(self, line: int, character: int) -> Tuple[int, int]:
        """An LSP position as the linter's (1-based line, 1-based column)."""
        index = min(max(line, 0), len(self.starts) - 1)
        offset = self.offset(index, character)
        return index + 1, offset - self.starts[index] + 1

    def end(self) -> Tuple[int, int]:
        """The LSP position just past the last character."""
        last = len(self.starts) - 1
        return last, _units(self.line_text(last), self.encoding)


def apply_change(text: str, start: Optional[Tuple[int, int]], end: Optional[Tuple[int, int]],
                 new_text: str, encoding: str) -> str:
    """``text`` after one ``textDocument/didChange`` content change: a range
    (LSP positions in ``encoding``) replaced, or the whole text (no range)."""
    if start is None or end is None:
        return new_text
    lines = Lines(text, encoding)
    begin, finish = lines.offset(*start), lines.offset(*end)
    if finish < begin:
        begin, finish = finish, begin
    return text[:begin] + new_text + text[finish:]
