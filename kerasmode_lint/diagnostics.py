"""What a lint run produces."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One finding. Lines and columns are 1-based, as flake8 and ruff print them."""

    path: str
    line: int
    column: int
    code: str
    message: str
    end_line: int = 0
    end_column: int = 0
    name: str = ""

    def sort_key(self):
        return (self.path, self.line, self.column, self.code)


# Codes the engine itself reports; they are not rules and cannot be deselected.
INVALID_FILE = "KM001"
INVALID_FILE_NAME = "invalid-file"
ENGINE_CODES = {
    INVALID_FILE: (
        INVALID_FILE_NAME,
        "The file could not be read, decoded or parsed (or a rule failed on it); "
        "nothing else in it was checked.",
    ),
}


def internal_error(path: str, what: str, consequence: str) -> Diagnostic:
    """A bug of ours met on ``path`` (``what`` follows "internal error"),
    reported as KM001 so that the run goes on and exits 2."""
    return Diagnostic(
        path, 1, 1, INVALID_FILE,
        f"internal error{what}; {consequence}. Please report this bug with the file that triggers it.",
        name=INVALID_FILE_NAME,
    )
