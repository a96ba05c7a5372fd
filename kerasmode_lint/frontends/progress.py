"""A one-line progress meter on stderr for long runs: ``12/345 files``.

Shown only on a terminal and only once a run has taken a second, so quick
runs, pipes, CI logs and editors never see it; the line is erased when the
run ends, before the findings and the summary are printed.
"""
from __future__ import annotations

import os
import time
from typing import TextIO

# Seconds of work before the meter appears (the tests set it to 0).
DELAY = float(os.environ.get("KERASMODE_LINT_PROGRESS_DELAY", "1.0"))
INTERVAL = 0.1    # at most this often a redraw


class Progress:
    def __init__(self, total: int, stream: TextIO, enabled: bool = True, clock=time.monotonic) -> None:
        isatty = getattr(stream, "isatty", None)
        self.enabled = enabled and total > 1 and bool(isatty and isatty())
        self.total, self.stream, self.clock = total, stream, clock
        self.done = 0
        self.start = clock()
        self.drawn_at = None

    def advance(self, count: int = 1) -> None:
        self.done += count
        if not self.enabled:
            return
        now = self.clock()
        if now - self.start < DELAY or (self.drawn_at is not None and now - self.drawn_at < INTERVAL):
            return
        self.drawn_at = now
        self.stream.write(f"\r{self.done}/{self.total} files")
        self.stream.flush()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        if self.drawn_at is not None:
            self.stream.write("\r\x1b[K")  # erase the meter's line
            self.stream.flush()
