"""What a lint run produces."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:  # pragma: no cover
    from .fixes import Fix


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One finding. Lines and columns are 1-based, as flake8 and ruff print them.
    In a notebook, ``cell`` is the cell's 1-based position among all cells and
    ``line`` counts within that cell; ``cell`` is 0 elsewhere. ``message`` is
    one sentence; ``explanation``, when a rule gives one, is the longer story
    that ``--output-format full`` prints under it."""

    path: str
    line: int
    column: int
    code: str
    message: str
    end_line: int = 0
    end_column: int = 0
    name: str = ""
    cell: int = 0
    fix: Optional["Fix"] = field(default=None, compare=False)
    explanation: str = field(default="", compare=False)

    def sort_key(self):
        return (self.path, self.cell, self.line, self.column, self.code)

    @property
    def severity(self) -> str:
        return "error" if self.code == INVALID_FILE else "warning"


# Codes the engine itself reports; they are not rules. KM001 cannot be
# deselected; KM002 is selected and ignored like a rule.
INVALID_FILE = "KM001"
INVALID_FILE_NAME = "invalid-file"
UNUSED_NOQA = "KM002"
UNUSED_NOQA_NAME = "unused-noqa"
ENGINE_CODES = {
    INVALID_FILE: (
        INVALID_FILE_NAME,
        "The file could not be read, decoded or parsed (or a rule failed on it); "
        "nothing else in it was checked.",
    ),
    UNUSED_NOQA: (
        UNUSED_NOQA_NAME,
        "A `# noqa: KM…` comment names a code that reports nothing on its line.",
    ),
}
SELECTABLE_ENGINE_CODES = (UNUSED_NOQA,)


_SENTENCE_BREAK = re.compile(r"([.!?]) +([A-Z])(?=[a-z ])")


def one_sentence(text: str) -> str:
    """``text`` (say, CPython's "invalid syntax. Perhaps you forgot a comma?")
    as one sentence: each later sentence joined on with "; ", its capital lowered."""
    return _SENTENCE_BREAK.sub(lambda m: f"{'' if m.group(1) == '.' else m.group(1)}; {m.group(2).lower()}", text)


REPORT_THIS_BUG = "This is a bug of kerasmode-lint: please report it with the file that triggers it."


def internal_error(path: str, what: str) -> Diagnostic:
    """A bug of ours met on ``path`` (``what`` follows "internal error" and
    says what was lost), reported as KM001 so that the run goes on and exits 2."""
    return Diagnostic(
        path, 1, 1, INVALID_FILE, f"internal error{what}", name=INVALID_FILE_NAME, explanation=REPORT_THIS_BUG,
    )
