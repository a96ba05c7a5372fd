"""``kerasmode-lint server``: the linter as a language server over stdio.

Diagnostics as you type, quick fixes, "fix all" and notebooks, with the
settings and the lint the command line uses for the same file. Needs the
``server`` extra (pygls and lsprotocol); the linter itself does not.
"""
from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

EXIT_ERROR = 2
MISSING = ("kerasmode-lint: error: the server needs pygls, which is not installed: "
           "pip install 'kerasmode-lint[server]'")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="kerasmode-lint server",
        description="Run the language server on stdin/stdout (started by an editor). "
                    "Settings come from the same configs as the command line; see the README.")
    parser.parse_args(list(argv or []))
    try:
        import lsprotocol  # noqa: F401
        import pygls  # noqa: F401
    except ImportError:
        print(MISSING, file=sys.stderr)
        return EXIT_ERROR
    from .app import server

    server.start_io()
    return 0
